"""The case engine: one step of a dispute case, checked against the workflow version
the case started with, recorded in its timeline, risk re-assessed and audited in the
same transaction — the shared step mechanism of civicgrid.core.steps (also the events
engine's), with the mediators, effects and risk of disputes.

A step is refused (nothing written) when the definition lacks the transition from the
current state, the actor lacks the role or scope, a required field is missing, the
effect refuses its data, or the caller saw an older version of the case (409).
Deadlines: a step with a time limit that changes the state starts a new deadline; a
step without one keeps the running deadline; a final state has none.
"""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.accounts.models import Role
from civicgrid.core import steps
from civicgrid.core.workflow import Definition, Transition
from civicgrid.disputes import risk
from civicgrid.disputes.errors import DisputeError, NotPermitted, StaleVersion
from civicgrid.disputes.models import Case, CaseAction
from civicgrid.disputes.steps import EFFECTS
from civicgrid.disputes.workflow import deadline_for, definition_of

REGION_ROLES = {Role.CENTER_STAFF, Role.LEADER, Role.SYSADMIN}
WORDING = steps.Wording(
    error=DisputeError,
    stale=StaleVersion,
    no_step=gettext_lazy("The workflow has no step %(step)s."),
    not_possible=gettext_lazy(
        "“%(step)s” is not possible while the case is %(state)s."
    ),
    needs=gettext_lazy("“%(step)s” needs: %(fields)s"),
)


def definition_for(case: Case) -> Definition:
    return definition_of(case.workflow_id)


def authorise(actor: Any, case: Case, t: Transition) -> None:
    """NotPermitted unless a role of the transition fits the actor: the case's
    mediator (or expert) for their roles; center staff, leaders and administrators
    whose scope holds the case; a grid worker of the case's village."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotPermitted(_("Sign in first."))
    if actor.is_superuser:
        return
    if (
        t.roles & {"mediator", "expert"}
        and case.mediator is not None
        and case.mediator.user_id == actor.pk
        and case.mediator.kind in t.roles
    ):
        return
    for post in steps.active_posts(actor, t.roles):
        role, prefix = post.role, post.region_code
        if role in REGION_ROLES and case.region_code.startswith(prefix):
            return
        if role == Role.GRID_WORKER and (
            prefix.startswith(case.region_code) or case.region_code.startswith(prefix)
        ):
            return
    raise NotPermitted(
        _("Your posts do not allow “%(step)s” on case %(code)s.")
        % {"step": t.label, "code": case.code}
    )


def case_act(
    *,
    actor: Any,
    case_id: int,
    transition: str,
    version: int,
    data: Mapping[str, Any] | None = None,
    note: str = "",
) -> Case:
    """Take one step of the case. ``version`` is the case version the caller saw."""
    with transaction.atomic():
        case, definition, t = steps.open_step(
            Case.objects.select_related("mediator", "workflow"),
            case_id,
            version,
            definition_for,
            transition,
            WORDING,
        )
        authorise(actor, case, t)
        clean = steps.clean_fields(t, data or {}, WORDING)
        override = EFFECTS[t.effect](case, clean, actor) if t.effect else None
        to_state = t.target(clean)
        if to_state == "closed" and case.state != "closed":
            case.closed_at = timezone.now()
        from_state = steps.move(
            case,
            definition,
            t,
            to_state,
            lambda kind: deadline_for(definition, kind),
            override=override,
        )
        steps.record_step(
            CaseAction,
            case=case,
            t=t,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            anonymous="system",
            note=note[:4000],
            data=clean,
            deadline_at=case.deadline_at,
        )
        risk.assess(case, step=t.name)
        case.save()
        steps.audit_step(
            actor, f"disputes.case.{t.name}", case, from_state, to_state, version
        )
    return case

"""The case engine: one step of a dispute case, checked against the workflow version
the case started with, recorded in its timeline, risk re-assessed and audited in the
same transaction — the rules of the events engine (civicgrid.events.engine).

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

from civicgrid.accounts.models import Role
from civicgrid.core.audit import audit_record
from civicgrid.disputes import risk
from civicgrid.disputes.errors import DisputeError, NotPermitted, StaleVersion
from civicgrid.disputes.models import Case, CaseAction
from civicgrid.disputes.steps import EFFECTS
from civicgrid.disputes.workflow import deadline_for, definition_of
from civicgrid.events.workflow import Definition, Transition

REGION_ROLES = {Role.CENTER_STAFF, Role.LEADER, Role.SYSADMIN}


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
    for role, prefix in actor.posts.filter(active=True).values_list(
        "role", "region_code"
    ):
        if role not in t.roles:
            continue
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


def _clean(t: Transition, data: Mapping[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in data.items() if v not in (None, "", [])}
    missing = [f for f in t.fields if f not in clean]
    if missing:
        raise DisputeError(
            _("“%(step)s” needs: %(fields)s")
            % {"step": t.label, "fields": ", ".join(missing)},
            field=missing[0],
        )
    return clean


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
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("mediator", "workflow")
            .get(pk=case_id)
        )
        if case.version != version:
            raise StaleVersion(case)
        definition = definition_for(case)
        t = definition.transitions.get(transition)
        if t is None:
            raise DisputeError(
                _("The workflow has no step %(step)s.") % {"step": repr(transition)},
                field="transition",
            )
        if case.state not in t.sources:
            raise DisputeError(
                _("“%(step)s” is not possible while the case is %(state)s.")
                % {"step": t.label, "state": definition.label(case.state)},
                field="transition",
            )
        authorise(actor, case, t)
        clean = _clean(t, data or {})
        override = EFFECTS[t.effect](case, clean, actor) if t.effect else None
        from_state, to_state = case.state, t.target(clean)
        if definition.is_final(to_state):
            case.deadline_at, case.deadline_kind = None, ""
        elif override is not None:
            case.deadline_kind = override[0]
            case.deadline_at = override[1] or deadline_for(definition, override[0])
        elif t.time_limit and to_state != from_state:
            case.deadline_at = deadline_for(definition, t.time_limit)
            case.deadline_kind = t.time_limit
        if to_state == "closed" and from_state != "closed":
            case.closed_at = timezone.now()
        case.state = to_state
        case.version += 1
        CaseAction.objects.create(
            case=case,
            transition=t.name,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            actor_label=actor.get_username(),
            note=note[:4000],
            data={
                k: (v if isinstance(v, str | int | float | bool) else str(v))
                for k, v in clean.items()
            },
            deadline_at=case.deadline_at,
        )
        risk.assess(case, step=t.name)
        case.save()
        audit_record(
            actor=actor,
            action=f"disputes.case.{t.name}",
            obj=case,
            changes={
                "state": [from_state, to_state],
                "version": [version, case.version],
            },
        )
    return case

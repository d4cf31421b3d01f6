"""The workflow engine: one step of an event's loop, checked against the definition
the event started with, recorded in its timeline in the same transaction. The
mechanism (lock and version, transition lookup, required fields, deadline, timeline
row) is civicgrid.core.steps', shared with dispute cases; this module adds who
may act (posts, departments' assignments, the reporter), the guards and the effects.

Deadlines: a step with a time limit that changes the state (or escalates) starts a new
deadline; a step without one keeps the running deadline (an extension request does not
stop the clock); a final state has none.

A step is refused (and nothing is written) when the definition lacks the transition
from the current state, the actor lacks the role or scope, a required field is
missing, a guard fails, or the caller saw an older version of the event (409).
"""

import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from civicgrid.accounts.models import Department, Role
from civicgrid.core import steps
from civicgrid.events import workflow
from civicgrid.events.errors import EventError, NotPermitted, StaleVersion
from civicgrid.events.models import (
    Assignment,
    Event,
    EventAction,
    Level,
    Rating,
)
from civicgrid.events.notify import notify, reporters
from civicgrid.events.services import _attach, _deadline, definition_by_id
from civicgrid.events.uploads import Photo

# The prefix length of the center that handles an event at each level.
CENTER_PREFIX = {
    Level.GRID: 9,
    Level.VILLAGE: 9,
    Level.TOWN: 9,
    Level.COUNTY: 6,
    Level.CITY: 4,
}
NEXT_LEVEL = {
    Level.GRID: Level.TOWN,
    Level.VILLAGE: Level.TOWN,
    Level.TOWN: Level.COUNTY,
    Level.COUNTY: Level.CITY,
}
DEPARTMENT_EFFECTS = {"sign_for", "send_back", "report_done"}
WORDING = steps.Wording(
    error=EventError,
    stale=StaleVersion,
    no_step="the workflow has no step %(step)s",
    not_possible="“%(step)s” is not possible while the event is %(state)s",
    needs="“%(step)s” needs: %(fields)s",
)


def definition_of(event: Event) -> workflow.Definition:
    return definition_by_id(event.workflow_id)


def authorise(
    actor: Any, event: Event, t: workflow.Transition, tracking_token: str = ""
) -> Department | None:
    """The department the actor acts for (department steps), or None; NotPermitted
    when no role of the transition fits the actor's posts and scope. A reporter
    without an account proves who they are with the report's tracking token."""
    if actor is not None and getattr(actor, "is_superuser", False):
        return None
    if "reporter" in t.roles and (
        (actor is not None and event.reporter_id == getattr(actor, "pk", None))
        or (
            tracking_token
            and event.tracking_token
            and secrets.compare_digest(event.tracking_token, tracking_token)
        )
    ):
        return None
    for post in steps.active_posts(actor, t.roles):
        if post.role == Role.DEPARTMENT_STAFF:
            assigned = event.assignments.filter(
                active=True, department=post.department_id
            ).exists()
            if assigned:
                return post.department
            continue
        if not event.region_code.startswith(post.region_code):
            continue
        if (
            post.role == Role.CENTER_STAFF
            and len(post.region_code) != CENTER_PREFIX[Level(event.level)]
        ):
            continue  # the center of the event's handling level acts
        return None
    raise NotPermitted(f"your posts do not allow “{t.label}” on event {event.code}")


def _assignment(event: Event, department: Department | None) -> Assignment:
    a = (
        event.assignments.filter(active=True, department=department).first()
        if department
        else None
    )
    if a is None:
        raise NotPermitted("your department holds no assignment on this event")
    return a


def _apply_effect(
    event: Event,
    t: workflow.Transition,
    data: dict[str, Any],
    department: Department | None,
) -> str | None:
    """Do the transition's effect; return a state that overrides the target (a
    co-signed step that is not complete yet stays where it is)."""
    effect = t.effect
    if effect == "merge":
        other = Event.objects.filter(
            code=str(data["duplicate_of"]), city_code=event.city_code
        ).first()
        if other is None or other.pk == event.pk or other.duplicate_of_id:
            raise EventError(
                "duplicate_of must be another open event of the same city",
                field="duplicate_of",
            )
        event.duplicate_of = other
    elif effect == "dispatch":
        co = data.get("co_departments", [])
        if not isinstance(co, list):
            raise EventError(
                "co_departments must be a list of department ids",
                field="co_departments",
            )
        ids = [data["lead_department"], *co]
        depts = {
            d.pk: d
            for d in Department.objects.filter(
                pk__in=[i for i in ids if str(i).isdigit()]
            )
        }
        if len(depts) != len(set(map(str, ids))) or len(ids) != len(set(map(str, ids))):
            raise EventError("unknown or repeated department", field="lead_department")
        for d in depts.values():
            if not event.region_code.startswith(d.region_code):
                raise EventError(
                    f"{d.name} does not serve this event's area",
                    field="lead_department",
                )
        event.assignments.filter(active=True).update(active=False)
        lead = depts[int(ids[0])]
        Assignment.objects.create(
            event=event, department=lead, role=Assignment.Role.LEAD
        )
        for i in ids[1:]:
            Assignment.objects.create(
                event=event, department=depts[int(i)], role=Assignment.Role.CO
            )
        event.lead_department = lead
    elif effect == "sign_for":
        a = _assignment(event, department)
        if a.status != Assignment.Status.PENDING:
            raise EventError("your department has already signed for this event")
        a.status = Assignment.Status.SIGNED
        a.save(update_fields=["status", "updated_at"])
        if (
            a.role == Assignment.Role.CO
            and event.assignments.filter(
                active=True, role=Assignment.Role.LEAD, status=Assignment.Status.PENDING
            ).exists()
        ):
            return event.state  # a co-handler signing first does not start the step
    elif effect == "send_back":
        _assignment(event, department)
        event.assignments.filter(active=True).update(
            active=False, status=Assignment.Status.RETURNED
        )
        event.lead_department = None
    elif effect == "report_done":
        a = _assignment(event, department)
        if a.status != Assignment.Status.SIGNED:
            raise EventError("sign for the event before reporting it done")
        a.status, a.result = Assignment.Status.REPORTED, str(data["result"])
        a.save(update_fields=["status", "result", "updated_at"])
        waiting = event.assignments.filter(active=True).exclude(
            status=Assignment.Status.REPORTED
        )
        if waiting.exists():
            return event.state  # 会签: the step completes when every department reports
    elif effect == "escalate":
        event.level = NEXT_LEVEL[Level(event.level)]
        event.assignments.filter(active=True).update(active=False)
        event.lead_department = None
    elif effect == "extend":
        asked = (
            event.actions.filter(transition="request_extension").order_by("-id").first()
        )
        hours = float((asked.data if asked else {}).get("hours", 0))
        base = event.deadline_at or timezone.now()
        event.deadline_at = base + timedelta(hours=hours)
    elif effect == "rate":
        if data["rating"] not in Rating.values:
            raise EventError(
                f"rating must be one of {', '.join(Rating.values)}", field="rating"
            )
        event.rating = data["rating"]
        if (
            event.rating == Rating.UNSATISFIED
        ):  # the work goes on: departments report again
            event.assignments.filter(
                active=True, status=Assignment.Status.REPORTED
            ).update(status=Assignment.Status.SIGNED)
    return None


def _check_guard(event: Event, t: workflow.Transition) -> None:
    if t.guard == "small_in_grid" and not (
        event.matter and event.matter.small_in_grid and event.matter.admitted_to_grid
    ):
        raise EventError(
            "only small matters admitted to grid workers are handled in the grid"
        )
    if t.guard == "not_top_level" and event.level == Level.CITY:
        raise EventError("the event is already handled at city level")


def _clean_fields(t: workflow.Transition, data: Mapping[str, Any]) -> dict[str, Any]:
    clean = steps.clean_fields(t, data, WORDING)
    if "hours" in clean:
        try:
            hours = float(clean["hours"])
        except (TypeError, ValueError):
            raise EventError("hours must be a number", field="hours") from None
        if not 0 < hours <= 720:
            raise EventError("hours must be between 0 and 720", field="hours")
        clean["hours"] = hours
    for key in ("reason", "result", "conclusion"):
        if key in clean and len(str(clean[key])) > 4000:
            raise EventError(f"{key} longer than 4,000 characters", field=key)
    return clean


def event_act(
    *,
    actor: Any,
    event_id: int,
    transition: str,
    version: int,
    data: Mapping[str, Any] | None = None,
    note: str = "",
    photos: Sequence[Photo] = (),
    tracking_token: str = "",
) -> Event:
    """Take one step of the loop. ``version`` is the event version the caller saw."""
    with transaction.atomic():
        event, definition, t = steps.open_step(
            Event.objects.select_related("matter", "workflow"),
            event_id,
            version,
            definition_of,
            transition,
            WORDING,
        )
        clean = _clean_fields(t, data or {})
        department = authorise(actor, event, t, tracking_token)
        if t.effect in DEPARTMENT_EFFECTS and department is None:
            department = _department_of(actor, event)
        _check_guard(event, t)
        stay = _apply_effect(event, t, clean, department)
        to_state = stay if stay is not None else t.target(clean)
        final = definition.is_final(to_state)
        event.closed_at = timezone.now() if final else None
        from_state = steps.move(
            event,
            definition,
            t,
            to_state,
            lambda kind: _deadline(
                event.matter, event.severity, kind, definition.default_limits
            ),
            restart=t.effect == "escalate",
        )
        event.save()
        action = steps.record_step(
            EventAction,
            event=event,
            t=t,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            anonymous="reporter" if tracking_token else "system",
            department=department,
            note=note,
            data=clean,
            scalars=(str, int, float, bool, list),
            deadline_at=event.deadline_at,
        )
        _attach(event, action, photos)
        if final and to_state != "merged":
            notify(
                reporters(event),
                f"您反映的问题（{event.code}）已{definition.label(to_state)}",
                event,
            )
        steps.audit_step(actor, f"event.{t.name}", event, from_state, to_state, version)
    return event


def _department_of(actor: Any, event: Event) -> Department | None:
    """A superuser acting on a department step acts for the lead department."""
    return event.lead_department

"""Reads of events, always within the caller's scope."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.core.scope import prefixes_q
from civicgrid.events.models import Event, Level
from civicgrid.events.workflow import INTERNAL_RECORDS

# Final states of the shipped loops that end an event without resolving it.
NOT_RESOLVED = ("rejected", "merged")
REGION_ROLES = frozenset(Role.values) - {Role.CITIZEN, Role.DEPARTMENT_STAFF}


def events_visible(user: Any) -> QuerySet[Event]:
    """A center, leader or grid worker sees its area's events; department staff the
    events ever assigned to their department; anyone the events they reported."""
    qs = Event.objects.all()
    if user is None or not getattr(user, "is_authenticated", False):
        return qs.none()
    if getattr(user, "is_superuser", False):
        return qs
    posts = list(
        user.posts.filter(active=True).values_list(
            "role", "region_code", "department_id"
        )
    )
    region_prefixes = [code for role, code, _ in posts if role in REGION_ROLES]
    departments = [d for role, _, d in posts if role == Role.DEPARTMENT_STAFF and d]
    q = Q(reporter=user)
    if region_prefixes:
        q |= prefixes_q(region_prefixes)
    if departments:
        q |= Q(
            pk__in=Event.objects.filter(assignments__department__in=departments).values(
                "pk"
            )
        )
    return qs.filter(q)


def events_filtered(qs: QuerySet[Event], params: Mapping[str, str]) -> QuerySet[Event]:
    """List filters: state (or status), matter, region (prefix), source, overdue,
    created_after, created_before, department (or handler: a department holding an
    active assignment), level, severity."""
    state = params.get("state") or params.get("status")
    if state:
        qs = qs.filter(state__in=state.split(","))
    if params.get("matter"):
        qs = qs.filter(matter__code=params["matter"])
    if params.get("region"):
        qs = qs.filter(region_code__startswith=params["region"])
    if params.get("source"):
        qs = qs.filter(source__in=params["source"].split(","))
    if params.get("severity"):
        qs = qs.filter(severity=params["severity"])
    if params.get("level"):
        qs = qs.filter(level=params["level"])
    handler = params.get("department") or params.get("handler")
    if handler:
        if not handler.isdigit():
            raise ValueError("department/handler must be a department id")
        qs = qs.filter(assignments__department_id=handler, assignments__active=True)
    if params.get("overdue") in ("1", "true", "yes"):
        qs = qs.filter(deadline_at__lt=timezone.now(), closed_at__isnull=True)
    for key, lookup in (
        ("created_after", "created_at__gte"),
        ("created_before", "created_at__lt"),
    ):
        if params.get(key):
            qs = qs.filter(**{lookup: _parse_time(params[key], key)})
    return qs.distinct()


def _parse_time(value: str, key: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key} must be an ISO date or time") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def on_time_rate(qs: QuerySet[Event]) -> float | None:
    """Share of the loop's steps taken before the deadline that was running (the
    report starts the first one; supervision and whistle records are not steps)."""
    from civicgrid.events.models import EventAction

    steps = EventAction.objects.filter(event__in=qs).exclude(
        transition__in=list(INTERNAL_RECORDS)
    )
    timed = 0
    on_time = 0
    previous: dict[int, datetime | None] = {}
    rows = steps.order_by("event_id", "at", "id").values_list(
        "event_id", "transition", "at", "deadline_at"
    )
    for event_id, transition, at, deadline in rows:
        running = previous.get(event_id)
        if running is not None and transition != "report":
            timed += 1
            on_time += at <= running
        previous[event_id] = deadline
    return round(on_time / timed, 4) if timed else None


def resolution_levels(qs: QuerySet[Event]) -> dict[str, int]:
    """Closed events by the level that resolved them (grid when handled in the grid).
    Events closed without being resolved (rejected, merged into another) are not
    counted: the event they were merged into is."""
    closed = qs.filter(closed_at__isnull=False, duplicate_of__isnull=True).exclude(
        state__in=NOT_RESOLVED
    )
    in_grid = set(
        closed.filter(actions__transition="handle_in_grid").values_list("pk", flat=True)
    )
    out: dict[str, int] = {level: 0 for level in Level.values}
    for pk, level in closed.values_list("pk", "level"):
        out[Level.GRID if pk in in_grid else level] += 1
    return out


def satisfaction(qs: QuerySet[Event]) -> dict[str, int]:
    rows = qs.exclude(rating="").values("rating").annotate(n=Count("id"))
    return {r["rating"]: r["n"] for r in rows}

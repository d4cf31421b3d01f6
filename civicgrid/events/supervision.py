"""Supervision (督办): deadline warnings, supervision orders, the whistle (吹哨报到),
and duplicate candidates."""

import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from civicgrid.accounts.models import Department, Role
from civicgrid.core.audit import audit_record
from civicgrid.events.errors import EventError, NotPermitted
from civicgrid.events.models import (
    DeadlineWarning,
    Event,
    EventAction,
    SupervisionOrder,
    Whistle,
    WhistleCall,
)
from civicgrid.events.notify import area_centers, department_staff, notify

METRES_PER_DEGREE = 111_320.0


def _posts(actor: Any) -> list[Any]:
    if actor is None or not actor.is_authenticated:
        return []
    return list(actor.posts.filter(active=True))


def _covers(actor: Any, event: Event, roles: set[str]) -> bool:
    if getattr(actor, "is_superuser", False):
        return True
    return any(
        p.role in roles and event.region_code.startswith(p.region_code)
        for p in _posts(actor)
    )


def _departments_of(actor: Any) -> set[int]:
    return {
        p.department_id
        for p in _posts(actor)
        if p.role == Role.DEPARTMENT_STAFF and p.department_id
    }


def _record(
    event: Event,
    actor: Any,
    name: str,
    *,
    note: str = "",
    department: Department | None = None,
    data: dict[str, Any] | None = None,
) -> EventAction:
    """A timeline row that is not a step of the loop (workflow.RECORDS): the state,
    the version and the running deadline stay as they are."""
    user = actor if actor is not None and actor.is_authenticated else None
    return EventAction.objects.create(
        event=event,
        transition=name,
        from_state=event.state,
        to_state=event.state,
        actor=user,
        actor_label=user.get_username() if user is not None else "system",
        department=department,
        note=note,
        data=data or {},
    )


# --- deadline warnings -------------------------------------------------------------


def deadline_scan(now: datetime | None = None) -> dict[str, int]:
    """Record a yellow warning once a configurable share of a step's time is used,
    a red one once it is past, and notify the center (and the handling departments).
    Idempotent: each warning is recorded once per deadline."""
    now = now or timezone.now()
    share = float(getattr(settings, "CIVICGRID_YELLOW_SHARE", 0.75))
    counts = {"yellow": 0, "red": 0}
    open_events = Event.objects.filter(
        closed_at__isnull=True, deadline_at__isnull=False
    )
    for event in open_events.select_related("lead_department").iterator(chunk_size=500):
        assert event.deadline_at is not None
        stamped = (
            event.actions.filter(deadline_at=event.deadline_at)
            .order_by("at")
            .values_list("at", flat=True)
            .first()
            or event.created_at
        )
        if now >= event.deadline_at:
            kind = DeadlineWarning.Kind.RED
        elif now >= stamped + (event.deadline_at - stamped) * share:
            kind = DeadlineWarning.Kind.YELLOW
        else:
            continue
        try:
            with transaction.atomic():
                DeadlineWarning.objects.create(
                    event=event,
                    kind=kind,
                    deadline_kind=event.deadline_kind,
                    deadline_at=event.deadline_at,
                    department=event.lead_department,
                )
                label = (
                    "黄色预警：即将超期"
                    if kind == DeadlineWarning.Kind.YELLOW
                    else "红色预警：已超期"
                )
                depts = list(
                    event.assignments.filter(active=True).select_related("department")
                )
                notify(
                    [
                        *area_centers(event),
                        *department_staff(a.department for a in depts),
                    ],
                    f"{label}（{event.code}）",
                    event,
                )
        except IntegrityError:
            continue  # recorded by an earlier scan
        counts[kind] += 1
    counts["whistle_missing"] = whistle_close_overdue(now)
    return counts


# --- supervision orders ------------------------------------------------------------


def supervision_order_issue(
    *, actor: Any, event: Event, text: str, hours: float
) -> SupervisionOrder:
    """A leader or center orders the handler to act and answer within ``hours``."""
    if not _covers(actor, event, {Role.LEADER, Role.CENTER_STAFF}):
        raise NotPermitted(
            "only leaders and centers of the event's area issue supervision orders"
        )
    if not text.strip() or not 0 < hours <= 720:
        raise EventError("an order needs its text and 0–720 hours to answer")
    with transaction.atomic():
        order = SupervisionOrder.objects.create(
            event=event,
            issued_by=actor,
            department=event.lead_department,
            text=text,
            due_at=timezone.now() + timedelta(hours=hours),
        )
        _record(
            event,
            actor,
            "supervise",
            note=text,
            department=event.lead_department,
            data={
                "order": order.pk,
                "hours": hours,
                "due_at": order.due_at.isoformat(),
            },
        )
        audit_record(
            actor=actor,
            action="event.supervision_order",
            obj=event,
            changes={"order": [None, order.pk]},
        )
        handlers = (
            department_staff([event.lead_department])
            if event.lead_department
            else area_centers(event)
        )
        notify(handlers, f"督办：{event.code} 请于 {hours:g} 小时内答复", event)
    return order


def supervision_order_answer(
    *, actor: Any, order: SupervisionOrder, answer: str
) -> SupervisionOrder:
    if order.answered_at is not None:
        raise EventError("this order has been answered")
    allowed = (
        order.department_id in _departments_of(actor)
        if order.department_id
        else _covers(actor, order.event, {Role.CENTER_STAFF})
    )
    if not (allowed or getattr(actor, "is_superuser", False)):
        raise NotPermitted("the order is addressed to another unit")
    if not answer.strip():
        raise EventError("the answer is empty")
    with transaction.atomic():
        order.answer, order.answered_at, order.answered_by = (
            answer,
            timezone.now(),
            actor,
        )
        order.save(update_fields=["answer", "answered_at", "answered_by"])
        _record(
            order.event,
            actor,
            "supervision_answer",
            note=answer,
            department=order.department,
            data={"order": order.pk},
        )
        audit_record(
            actor=actor,
            action="event.supervision_answer",
            obj=order.event,
            changes={"order": [order.pk, "answered"]},
        )
        notify([order.issued_by], f"督办答复：{order.event.code}", order.event)
    return order


# --- whistle -----------------------------------------------------------------------


def whistle_blow(
    *,
    actor: Any,
    event: Event,
    departments: list[Department],
    reason: str,
    minutes: int,
) -> Whistle:
    """A grid worker or the town center summons departments; each must check in."""
    if not _covers(
        actor, event, {Role.GRID_WORKER, Role.GRID_LEADER, Role.CENTER_STAFF}
    ):
        raise NotPermitted(
            "only the event's grid worker or center can blow the whistle"
        )
    if not departments or not reason.strip() or not 5 <= minutes <= 24 * 60:
        raise EventError("a whistle needs departments, a reason and 5–1440 minutes")
    for d in departments:
        if not event.region_code.startswith(d.region_code):
            raise EventError(f"{d.name} does not serve this event's area")
    with transaction.atomic():
        whistle = Whistle.objects.create(
            event=event,
            summoned_by=actor,
            reason=reason,
            due_at=timezone.now() + timedelta(minutes=minutes),
        )
        WhistleCall.objects.bulk_create(
            [WhistleCall(whistle=whistle, department=d) for d in departments]
        )
        _record(
            event,
            actor,
            "whistle",
            note=reason,
            data={
                "whistle": whistle.pk,
                "departments": [d.pk for d in departments],
                "due_at": whistle.due_at.isoformat(),
            },
        )
        audit_record(
            actor=actor,
            action="event.whistle",
            obj=event,
            changes={"departments": [None, [d.pk for d in departments]]},
        )
        notify(
            department_staff(departments),
            f"吹哨报到：{event.code} 请于 {minutes} 分钟内报到",
            event,
        )
    return whistle


def whistle_check_in(*, actor: Any, call: WhistleCall) -> WhistleCall:
    if call.department_id not in _departments_of(actor) and not getattr(
        actor, "is_superuser", False
    ):
        raise NotPermitted("the call is addressed to another department")
    if call.status != WhistleCall.Status.PENDING:
        raise EventError("already checked in")
    now = timezone.now()
    with transaction.atomic():
        call.status = (
            WhistleCall.Status.ON_TIME
            if now <= call.whistle.due_at
            else WhistleCall.Status.LATE
        )
        call.checked_in_at, call.checked_in_by = now, actor
        call.save(update_fields=["status", "checked_in_at", "checked_in_by"])
        _record(
            call.whistle.event,
            actor,
            "check_in",
            department=call.department,
            data={"whistle": call.whistle_id, "status": call.status},
        )
        audit_record(
            actor=actor,
            action="event.whistle_check_in",
            obj=call.whistle.event,
            changes={"status": ["pending", call.status]},
        )
    return call


def whistle_close_overdue(now: datetime) -> int:
    """Calls still waiting after their time are recorded as missing, each in its
    event's timeline."""
    calls = WhistleCall.objects.filter(
        status=WhistleCall.Status.PENDING, whistle__due_at__lt=now
    ).select_related("whistle__event", "department")
    closed = 0
    for call in calls:
        with transaction.atomic():
            # Only the scan that moves the call from pending records it.
            moved = WhistleCall.objects.filter(
                pk=call.pk, status=WhistleCall.Status.PENDING
            ).update(status=WhistleCall.Status.MISSING)
            if not moved:
                continue
            _record(
                call.whistle.event,
                None,
                "check_in_missing",
                department=call.department,
                data={"whistle": call.whistle_id},
            )
        closed += 1
    return closed


# --- duplicates --------------------------------------------------------------------


def _bigrams(text: str) -> set[str]:
    t = "".join(ch for ch in text if not ch.isspace())
    return {t[i : i + 2] for i in range(len(t) - 1)} or {t}


def duplicate_candidates(
    event: Event,
    *,
    radius_m: float = 300,
    hours: float = 72,
    min_similarity: float = 0.25,
) -> list[tuple[Event, float, float]]:
    """Open events of the same city near in place and time with similar text:
    (event, distance in m, text similarity), most similar first."""
    dlat = radius_m / METRES_PER_DEGREE
    window = timedelta(hours=hours)
    near = Event.objects.filter(
        city_code=event.city_code,
        lat__range=(event.lat - dlat, event.lat + dlat),
        lon__range=(event.lon - 2 * dlat, event.lon + 2 * dlat),
        created_at__range=(event.created_at - window, event.created_at + window),
        duplicate_of__isnull=True,
    ).exclude(Q(pk=event.pk) | Q(state__in=["merged", "rejected"]))
    mine = _bigrams(f"{event.title}{event.description}")
    out = []
    for other in near[:200]:
        dx = (
            (other.lon - event.lon)
            * METRES_PER_DEGREE
            * math.cos(math.radians(event.lat))
        )
        dy = (other.lat - event.lat) * METRES_PER_DEGREE
        dist = math.hypot(dx, dy)
        theirs = _bigrams(f"{other.title}{other.description}")
        sim = len(mine & theirs) / len(mine | theirs)
        if dist <= radius_m and sim >= min_similarity:
            out.append((other, round(dist, 1), round(sim, 3)))
    out.sort(key=lambda t: (-t[2], t[1]))
    return out


def supervision_counts(since: datetime | None = None) -> dict[str, Any]:
    """Per department: warnings, supervision orders and whistle check-ins (for S8)."""
    from django.db.models import Count

    warnings = DeadlineWarning.objects.filter(department__isnull=False)
    orders = SupervisionOrder.objects.filter(department__isnull=False)
    calls = WhistleCall.objects.all()
    if since:
        warnings, orders = (
            warnings.filter(created_at__gte=since),
            orders.filter(created_at__gte=since),
        )
        calls = calls.filter(whistle__created_at__gte=since)
    out: dict[str, Any] = {}
    counted = (
        (warnings.values_list("department_id", "kind"), "warnings_"),
        (orders.values_list("department_id"), "supervision_orders"),
        (calls.values_list("department_id", "status"), "whistle_"),
    )
    for rows, label in counted:
        for row in rows.annotate(n=Count("id")):
            dept, *kind, n = row
            key = label + (kind[0] if kind else "")
            out.setdefault(str(dept), {})[key] = n
    return out

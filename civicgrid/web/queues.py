"""The workbench home's queues per role (to sign, to handle, due soon, overdue,
supervision orders, whistles, dispute cases) and the Excel export of any list."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from civicgrid.accounts.models import Role
from civicgrid.events.engine import CENTER_PREFIX
from civicgrid.events.models import (
    Assignment,
    Event,
    SupervisionOrder,
    WhistleCall,
    WorkflowDefinition,
)
from civicgrid.events.services import definition_by_id

SOON = timedelta(hours=2)
TAB_ORDER = (
    "to_sign",
    "mine",
    "soon",
    "overdue",
    "supervision",
    "whistles",
    "disputes",
    "all",
)
# The queues each role works from; a user with several posts sees the union.
ROLE_TABS: dict[str, frozenset[str]] = {
    Role.DEPARTMENT_STAFF: frozenset(TAB_ORDER) - {"disputes"},
    Role.CENTER_STAFF: frozenset(TAB_ORDER),
    Role.LEADER: frozenset({"soon", "overdue", "supervision", "whistles", "disputes"})
    | {"all"},
    Role.MEDIATOR: frozenset({"disputes", "all"}),
}
DEFAULT_TABS = frozenset({"mine", "soon", "overdue", "all"})
EXPORT_LIMIT = 10_000


def tabs_for(user: Any) -> list[str]:
    if getattr(user, "is_superuser", False):
        return list(TAB_ORDER)
    wanted: set[str] = set()
    for role in getattr(user, "roles", set()):
        wanted |= ROLE_TABS.get(role, DEFAULT_TABS)
    return [t for t in TAB_ORDER if t in (wanted or DEFAULT_TABS)]


def my_departments(user: Any) -> list[int]:
    return [
        d
        for d in user.posts.filter(
            active=True, role=Role.DEPARTMENT_STAFF, department__isnull=False
        ).values_list("department_id", flat=True)
    ]


def mine_q(user: Any, workflow_ids: Iterable[int]) -> Q:
    """Open events on which the user may take a step now, as one SQL condition.

    It mirrors the engine's permission check (``engine.authorise``) and the
    workbench's offer of steps (``views_staff.available_steps``: a department signs
    for a pending assignment and reports a signed one): region roles act in their
    area, a center at the event's handling level, a department on its active
    assignments, a reporter on their own reports. A test compares it with the
    engine's check, event by event."""
    posts = list(
        user.posts.filter(active=True).values_list(
            "role", "region_code", "department_id"
        )
    )
    superuser = bool(getattr(user, "is_superuser", False))
    status_of = {
        "sign_for": Assignment.Status.PENDING,
        "report_done": Assignment.Status.SIGNED,
    }
    q = Q(pk__in=[])
    for wf_id in set(workflow_ids):
        definition = definition_by_id(wf_id)
        states: dict[Any, set[str]] = {}
        for t in definition.transitions.values():
            keys: list[Any] = []
            if superuser:
                keys.append("any")
            if "reporter" in t.roles:
                keys.append("reporter")
            for role, prefix, department in posts:
                if role not in t.roles:
                    continue
                if role == Role.DEPARTMENT_STAFF:
                    if department:
                        keys.append(("dept", department, status_of.get(t.effect or "")))
                else:
                    keys.append((role, prefix))
            for key in keys:
                states.setdefault(key, set()).update(t.sources)
        for key, sources in states.items():
            cond = Q(workflow_id=wf_id, state__in=sorted(sources))
            if key == "reporter":
                cond &= Q(reporter=user)
            elif key != "any" and key[0] == "dept":
                assigned = Assignment.objects.filter(active=True, department=key[1])
                if key[2]:
                    assigned = assigned.filter(status=key[2])
                cond &= Q(pk__in=assigned.values("event_id"))
            elif key != "any":
                role, prefix = key
                cond &= Q(region_code__startswith=prefix)
                if role == Role.CENTER_STAFF:
                    cond &= Q(
                        level__in=[
                            lv for lv, n in CENTER_PREFIX.items() if n == len(prefix)
                        ]
                    )
            q |= cond
    return Q(closed_at__isnull=True) & q


def _to_sign(user: Any, qs: QuerySet[Event], departments: list[int]) -> Q:
    """Department: its pending assignments (签收). Center: new reports (受理)."""
    q = Q(pk__in=[])
    if departments:
        q |= Q(
            pk__in=Assignment.objects.filter(
                department__in=departments,
                active=True,
                status=Assignment.Status.PENDING,
            ).values("event_id")
        )
    if getattr(user, "is_superuser", False) or Role.CENTER_STAFF in user.roles:
        for pk, definition in WorkflowDefinition.objects.filter(
            pk__in=qs.values("workflow_id")
        ).values_list("pk", "definition"):
            q |= Q(workflow_id=pk, state=definition.get("initial", ""))
    return q


def _supervision(user: Any, departments: list[int]) -> Q:
    """Unanswered supervision orders: a department's own; all in scope for others."""
    orders = SupervisionOrder.objects.filter(answered_at__isnull=True)
    if not _region_role(user):
        orders = orders.filter(department__in=departments)
    return Q(pk__in=orders.values("event_id"))


def _whistles(user: Any, departments: list[int]) -> Q:
    """Whistles still waiting for a check-in: a department's own calls; all in scope
    for centers and leaders."""
    calls = WhistleCall.objects.filter(status=WhistleCall.Status.PENDING)
    if not _region_role(user):
        calls = calls.filter(department__in=departments)
    return Q(pk__in=calls.values("whistle__event_id"))


def _region_role(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(
        set(user.roles) - {Role.DEPARTMENT_STAFF, Role.CITIZEN}
    )


def event_tabs(
    user: Any, filtered: QuerySet[Event], workflow_ids: list[int], now: datetime
) -> dict[str, QuerySet[Event]]:
    """The event queryset of every tab the user has (disputes are not events)."""
    tabs = tabs_for(user)
    departments = my_departments(user)
    open_events = filtered.filter(closed_at__isnull=True)
    out: dict[str, QuerySet[Event]] = {}
    for tab in tabs:
        if tab == "to_sign":
            out[tab] = open_events.filter(_to_sign(user, filtered, departments))
        elif tab == "mine":
            out[tab] = filtered.filter(mine_q(user, workflow_ids))
        elif tab == "soon":
            out[tab] = open_events.filter(
                deadline_at__gte=now, deadline_at__lt=now + SOON
            )
        elif tab == "overdue":
            out[tab] = open_events.filter(deadline_at__lt=now)
        elif tab == "supervision":
            out[tab] = filtered.filter(_supervision(user, departments))
        elif tab == "whistles":
            out[tab] = filtered.filter(_whistles(user, departments))
        elif tab == "all":
            out[tab] = filtered
    return out


@dataclass
class DisputeSlot:
    """The dispute tab: the open cases the user may see, and where their list is."""

    count: int
    url: str


def dispute_slot(user: Any) -> DisputeSlot:
    from django.urls import reverse

    from civicgrid.disputes.selectors import workbench_count

    return DisputeSlot(workbench_count(user), reverse("disputes:list"))


def xlsx_response(
    filename: str, headers: Iterable[str], rows: Iterable[Iterable[Any]]
) -> HttpResponse:
    """An Excel workbook of one list (write-only mode: rows are streamed into it)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(headers))
    for row in rows:
        sheet.append(
            [
                timezone.localtime(v).replace(tzinfo=None)
                if isinstance(v, datetime)
                else v
                for v in row
            ]
        )
    out = BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ),
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def tab_labels() -> dict[str, str]:
    return {
        "to_sign": _("To sign for"),
        "mine": _("To handle"),
        "soon": _("Due within 2 hours"),
        "overdue": _("Overdue"),
        "supervision": _("Supervision orders"),
        "whistles": _("Whistles"),
        "disputes": _("Dispute cases"),
        "all": _("All"),
    }

"""Reads of the registry, always within the reader's regions."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.core.personal import PersonalKind, mask
from civicgrid.core.reveal import can_unmask
from civicgrid.core.scope import prefixes_q
from civicgrid.registry.models import (
    RESTRICTED_GROUPS,
    Collection,
    Household,
    Person,
    SpecialGroup,
    Visit,
)

# Who works with the registry: the grid's team and the governance centers.
# Departments and leaders do not browse the population door by door.
REGISTRY_ROLES = frozenset(
    {Role.GRID_WORKER, Role.GRID_LEADER, Role.GRID_SPECIALIST, Role.CENTER_STAFF}
)
# Leaders read the households of their area on the workbench (lists, a household,
# the Excel export, masked): they do not collect, visit or import.
READ_ROLES = REGISTRY_ROLES | {Role.LEADER}
# A household not visited for this many days is due a visit (flagged, filtered).
VISIT_DUE_DAYS = 90


def may_use_registry(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.roles & REGISTRY_ROLES)


def may_read_registry(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.roles & READ_ROLES)


def _scoped(user: Any) -> Q:
    if not may_read_registry(user):
        return Q(pk__in=[])
    return prefixes_q(user.scope_prefixes, "region_code")


def visit_due_before(now: datetime | None = None) -> datetime:
    """Households last visited before this (or never) are due a visit."""
    return (now or timezone.now()) - timedelta(days=VISIT_DUE_DAYS)


def visit_due(household: Household, before: datetime | None = None) -> bool:
    """Whether the household is due a visit (``before``: ``visit_due_before()``)."""
    last = household.last_visit_at
    return last is None or last < (before or visit_due_before())


def household_page(
    rows: QuerySet[Household], size: int, number: Any
) -> tuple[Page[Household], list[dict[str, Any]]]:
    """One page of a household list, and its rows with their visit-due flag."""
    page = Paginator(rows, size).get_page(number)
    due = visit_due_before()
    return page, [{"household": h, "due": visit_due(h, due)} for h in page.object_list]


def households_visible(user: Any) -> QuerySet[Household]:
    return Household.objects.filter(_scoped(user))


def household_visible(user: Any, pk: int) -> Household | None:
    """One household of the user's regions (with its grid), or None."""
    return households_visible(user).select_related("grid").filter(pk=pk).first()


def visits_visible(user: Any) -> QuerySet[Visit]:
    return Visit.objects.filter(_scoped(user))


def household_list(user: Any, params: Mapping[str, str]) -> QuerySet[Household]:
    """The visible households, narrowed by ``grid`` (a code prefix), ``q`` (a part
    of the address), ``group`` (a special group one of its members belongs to) and
    ``due`` (not visited for ``VISIT_DUE_DAYS``, or never)."""
    qs = households_visible(user).select_related("grid")
    grid = params.get("grid", "").strip()
    if grid:
        qs = qs.filter(region_code__startswith=grid)
    text = params.get("q", "").strip()
    if text:
        qs = qs.filter(address__contains=text)
    if params.get("due", "") in ("1", "true", "on"):
        qs = qs.filter(
            Q(last_visit_at__isnull=True) | Q(last_visit_at__lt=visit_due_before())
        )
    group = params.get("group", "").strip()
    if group:
        if group not in SpecialGroup.values:
            raise ValueError(f"unknown special group {group!r}")
        if group in RESTRICTED_GROUPS and not can_unmask(user):
            return qs.none()
        ids = Person.objects.filter(
            household__in=qs, active=True, groups__contains=f",{group},"
        ).values("household_id")
        qs = qs.filter(pk__in=ids)
    return qs.annotate(
        members=Count("persons", filter=Q(persons__active=True))
    ).order_by("address", "id")


def groups_shown(
    user: Any, groups: list[str], *, unmask: bool | None = None
) -> list[str]:
    """The special groups a reader may see: restricted ones only for those who may
    see unmasked personal data."""
    allowed = can_unmask(user) if unmask is None else unmask
    return [g for g in groups if allowed or g not in RESTRICTED_GROUPS]


def group_choices(user: Any) -> list[tuple[str, str]]:
    """The special groups a user may filter by or set, with their labels."""
    shown = groups_shown(user, list(SpecialGroup.values))
    return [(g, str(SpecialGroup(g).label)) for g in shown]


def group_labels(groups: list[str]) -> list[dict[str, Any]]:
    """Groups as tags on screen (the restricted ones marked)."""
    return [
        {
            "code": g,
            "label": SpecialGroup(g).label,
            "restricted": g in RESTRICTED_GROUPS,
        }
        for g in groups
    ]


def person_masked(
    user: Any, person: Person, *, unmask: bool | None = None
) -> dict[str, Any]:
    """A member as shown on screen and in the API: personal data masked."""
    return {
        "id": person.pk,
        "name": mask(person.name, PersonalKind.NAME),
        "id_number": mask(person.id_number, PersonalKind.ID_NUMBER),
        "phone": mask(person.phone, PersonalKind.PHONE),
        "relation": person.relation,
        "relation_label": person.get_relation_display(),
        "residence": person.residence,
        "residence_label": person.get_residence_display(),
        "groups": groups_shown(user, person.group_list, unmask=unmask),
        "active": person.active,
    }


def member_rows(user: Any, household: Household) -> list[dict[str, Any]]:
    """The household's members for a page: masked, with their group tags."""
    rows = household_members(user, household)
    for m in rows:
        m["group_labels"] = group_labels(m["groups"])
    return rows


def household_members(user: Any, household: Household) -> list[dict[str, Any]]:
    unmask = can_unmask(user)
    return [
        person_masked(user, p, unmask=unmask)
        for p in household.persons.order_by("-active", "id")
    ]


def group_counts(user: Any, qs: QuerySet[Household]) -> dict[str, int]:
    """Active members of the households by special group (for the list's filter)."""
    counts: dict[str, int] = {}
    rows = Person.objects.filter(household__in=qs, active=True).exclude(groups="")
    for groups in rows.values_list("groups", flat=True):
        for g in groups_shown(user, [g for g in groups.split(",") if g]):
            counts[g] = counts.get(g, 0) + 1
    return counts


def household_timeline(household: Household, limit: int = 50) -> list[dict[str, Any]]:
    """The household's latest visits and information collections, newest first
    (collections name the fields changed, never their values)."""
    visits = household.visits.select_related("worker", "event").order_by(
        "-visited_at", "-id"
    )[:limit]
    collections = Collection.objects.filter(household=household).select_related(
        "worker"
    )[:limit]
    items: list[dict[str, Any]] = [
        {"kind": "visit", "at": v.visited_at, "visit": v, "worker": v.worker}
        for v in visits
    ] + [
        {
            "kind": "collection",
            "at": c.collected_at,
            "collection": c,
            "worker": c.worker,
        }
        for c in collections
    ]
    items.sort(key=lambda i: i["at"], reverse=True)
    return items[:limit]

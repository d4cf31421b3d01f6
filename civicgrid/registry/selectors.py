"""Reads of the registry, always within the reader's regions."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q, QuerySet

from civicgrid.accounts.models import Role
from civicgrid.core.personal import PersonalKind, mask
from civicgrid.core.reveal import can_unmask
from civicgrid.core.scope import prefixes_q
from civicgrid.registry.models import (
    RESTRICTED_GROUPS,
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


def may_use_registry(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.roles & REGISTRY_ROLES)


def _scoped(user: Any) -> Q:
    if not may_use_registry(user):
        return Q(pk__in=[])
    return prefixes_q(user.scope_prefixes, "region_code")


def households_visible(user: Any) -> QuerySet[Household]:
    return Household.objects.filter(_scoped(user))


def visits_visible(user: Any) -> QuerySet[Visit]:
    return Visit.objects.filter(_scoped(user))


def household_list(user: Any, params: Mapping[str, str]) -> QuerySet[Household]:
    """The visible households, narrowed by ``grid`` (a code prefix), ``q`` (a part
    of the address) and ``group`` (a special group one of its members belongs to)."""
    qs = households_visible(user).select_related("grid")
    grid = params.get("grid", "").strip()
    if grid:
        qs = qs.filter(region_code__startswith=grid)
    text = params.get("q", "").strip()
    if text:
        qs = qs.filter(address__contains=text)
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

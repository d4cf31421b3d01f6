"""Reads of accounts and departments, within the caller's scope."""

from collections.abc import Sequence

from django.db.models import QuerySet

from civicgrid.accounts.models import Department, Role, User
from civicgrid.core.scope import prefixes_q

STAFF_ROLES = frozenset(Role.values) - {Role.CITIZEN}


def departments_visible(prefixes: Sequence[str]) -> QuerySet[Department]:
    return Department.objects.filter(prefixes_q(prefixes)).select_related("region")


def is_staff_member(user: User) -> bool:
    """Holds at least one active post with a staff role (or is a superuser)."""
    return user.is_superuser or bool(user.roles & STAFF_ROLES)

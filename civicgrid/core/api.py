"""Shared pieces of the REST API: permissions and the caller's scope."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def scope_of(request: Request) -> list[str]:
    """The caller's region-code prefixes; none for anonymous callers."""
    user = request.user
    if not user or not user.is_authenticated:
        return []
    return list(user.scope_prefixes)  # type: ignore[union-attr]


class IsStaffMember(BasePermission):
    """Staff with at least one active post; citizens and anonymous callers are refused."""

    message = _("Only staff with a post may use this endpoint.")

    def has_permission(self, request: Request, view: Any) -> bool:
        from civicgrid.accounts.selectors import is_staff_member

        user = request.user
        return bool(user and user.is_authenticated and is_staff_member(user))  # type: ignore[arg-type]


class HasRole(IsStaffMember):
    """Staff holding one of ``view.required_roles`` (superusers always pass)."""

    message = _("Your role may not do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        user = request.user
        return bool(user.is_superuser or user.roles & set(view.required_roles))  # type: ignore[union-attr]

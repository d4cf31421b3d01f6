"""Permissions from roles: a user has what their active posts' roles grant."""

from typing import Any

from django.contrib.auth.backends import BaseBackend

from civicgrid.accounts.permissions import role_permissions


class RolePermissionBackend(BaseBackend):
    """Grants no logins, only permissions: ``user.has_perm`` asks it after Django's
    ModelBackend, so roles are the one source of rights."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_role_perm_cache"):
            user_obj._role_perm_cache = role_permissions(user_obj.roles)
        return set(user_obj._role_perm_cache)

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return any(
            p.startswith(app_label + ".") for p in self.get_all_permissions(user_obj)
        )

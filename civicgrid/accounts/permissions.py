"""Which role may do what: permissions are granted by role, never one by one.

Separation of duties (三员分立, GB/T 22239-2019 level 3): the system administrator
configures (regions, grids, catalogues, workflows, departments), the security
administrator manages accounts, roles, second factors and lockouts, and the security
auditor reads the audit log and the login records. None of the three holds another's
permissions, and one person never holds two of the three roles.
"""

from collections.abc import Iterable
from functools import cache
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.models import Role

UNMASK = "accounts.unmask_personal_data"
MANAGE_ACCOUNTS = "accounts.manage_accounts"
READ_AUDIT_LOG = "accounts.read_audit_log"
CONFIGURE = "accounts.configure_system"

ADMIN_ROLES = frozenset({Role.SYSADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
# Staff who must reach the people concerned: the governance center handling events
# and disputes, grid workers and leaders collecting door to door, mediators. Other
# roles see personal data masked.
UNMASK_ROLES = frozenset(
    {Role.CENTER_STAFF, Role.GRID_WORKER, Role.GRID_LEADER, Role.MEDIATOR}
)
# Apps whose models are configuration, changed by the system administrator.
CONFIGURATION_APPS = ("regions", "events", "peace_index", "disputes", "exchange")


def _model_perms(
    label: str, actions: Iterable[str] = ("add", "change", "delete", "view")
) -> set[str]:
    app_label, model_name = label.split(".")
    return {f"{app_label}.{action}_{model_name}" for action in actions}


@cache
def _configuration_perms() -> frozenset[str]:
    perms: set[str] = {CONFIGURE}
    perms |= _model_perms("accounts.department")
    for config in apps.get_app_configs():
        if config.label not in CONFIGURATION_APPS:
            continue
        for model in config.get_models():
            perms |= _model_perms(
                f"{config.label}.{model._meta.model_name}",
                model._meta.default_permissions,
            )
    return frozenset(perms)


def _security_perms() -> set[str]:
    return {
        MANAGE_ACCOUNTS,
        *_model_perms("accounts.user", ("add", "change", "view")),
        *_model_perms("accounts.staffpost"),
        *_model_perms("axes.accessattempt", ("view", "delete")),
        *_model_perms("otp_totp.totpdevice", ("view", "delete")),
    }


def _auditor_perms() -> set[str]:
    return {
        READ_AUDIT_LOG,
        "core.view_auditrecord",
        "axes.view_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
    }


def role_permissions(roles: Iterable[str]) -> set[str]:
    """The permissions ("app.codename") that a set of roles grants."""
    roles = set(roles)
    perms: set[str] = set()
    if Role.SYSADMIN in roles:
        perms |= _configuration_perms()
    if Role.SECURITY_ADMIN in roles:
        perms |= _security_perms()
    if Role.AUDITOR in roles:
        perms |= _auditor_perms()
    if roles & UNMASK_ROLES:
        perms.add(UNMASK)
    return perms


def require(actor: Any, perm: str) -> None:
    """Refuse a service call by a user without ``perm``. ``actor=None`` is the system
    itself (commands, imports, the demo loader), which the operator runs."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        if actor is None:
            return
        raise PermissionDenied(_("Sign in first."))
    if not actor.has_perm(perm):
        raise PermissionDenied(_("Your role may not do this."))


def check_role_combination(roles: Iterable[str]) -> None:
    """One person never holds two of the three administrator roles."""
    held = ADMIN_ROLES & set(roles)
    if len(held) > 1:
        raise ValidationError(
            _(
                "The system administrator, security administrator and auditor "
                "roles are held by different people."
            )
        )

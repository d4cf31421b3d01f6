"""What a signed-in account must still do before it may work: prove its second
factor, or change an expired password. Pages are sent to the step; the API answers
403 with the reason."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import BaseThrottle

from civicgrid.accounts.passwords import password_expired
from civicgrid.accounts.permissions import ADMIN_ROLES, UNMASK, role_permissions


@dataclass(frozen=True)
class Refusal:
    code: str  # machine-readable, in API answers
    message: str | Promise
    url_name: str  # the page that lifts it


OTP_REQUIRED = Refusal(
    "otp_required",
    _(
        "Your role can see personal data: confirm the one-time code from your "
        "authenticator app first."
    ),
    "accounts:otp",
)
PASSWORD_EXPIRED = Refusal(
    "password_expired",
    _("Your password has expired: change it first."),
    "accounts:password_change",
)


def requires_otp(user: Any) -> bool:
    """Roles that can see unmasked personal data, the three administrators and
    superusers sign in with a second factor (when CIVICGRID_OTP_REQUIRED is on)."""
    if not settings.CIVICGRID_OTP_REQUIRED or not user.is_authenticated:
        return False
    # From the roles directly (the one source of rights): no permission queries on
    # every request, and ``user.roles`` is cached for the view that follows.
    return bool(
        user.is_superuser
        or user.roles & ADMIN_ROLES
        or UNMASK in role_permissions(user.roles)
    )


def is_verified(user: Any) -> bool:
    """This session proved a second factor (django-otp's OTPMiddleware sets it)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def refusal_for(user: Any) -> Refusal | None:
    if not user.is_authenticated:
        return None
    if requires_otp(user) and not is_verified(user):
        return OTP_REQUIRED
    if password_expired(user):
        return PASSWORD_EXPIRED
    return None


def client_address(request: Any) -> str | None:
    """The caller's address as DRF's throttles see it (REST_FRAMEWORK NUM_PROXIES):
    django-axes locks out by the same address the rate limits count. None when the
    request has none (a test client's force_login)."""
    ident = BaseThrottle().get_ident(request) if request is not None else None
    return str(ident) if ident else None

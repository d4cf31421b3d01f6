"""Flood limits for the pages anyone may use without an account, without a CAPTCHA.

Each request counts against its network address and against its device (a signed,
random, long-lived cookie given on the first visit). A device may send few requests;
an address more, since many phones share one carrier address. A request that comes
without a valid device cookie (a script that drops it to look new each time) counts
in a small bucket of its address, so clearing cookies does not buy more requests.
Counters are fixed windows counted in the database (civicgrid.core.ratelimit), one
statement a bucket, shared by every worker process."""

import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from civicgrid.core import ratelimit

DEVICE_COOKIE = "cg_device"
COOKIE_SALT = "civicgrid.device"
COOKIE_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Limit:
    window: int  # seconds
    per_device: int
    per_address: int
    per_address_without_device: int


DEFAULTS = {
    "report": Limit(3600, 10, 60, 5),
    "rate": Limit(3600, 10, 60, 5),
    "track": Limit(600, 60, 300, 20),
}


def limit_of(action: str) -> Limit:
    custom: dict[str, Any] = getattr(settings, "CIVICGRID_PUBLIC_LIMITS", {})
    if action in custom:
        return Limit(**custom[action])
    return DEFAULTS[action]


def device_of(request: HttpRequest) -> str | None:
    value = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=COOKIE_SALT)
    return value or None


def give_device(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Set the device cookie when the visitor has none (on the pages' GETs)."""
    if device_of(request) is None:
        response.set_signed_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(16),
            salt=COOKIE_SALT,
            max_age=COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def hit(request: HttpRequest, action: str) -> int | None:
    """Count one request; the seconds to wait when a limit is passed, else None."""
    limit = limit_of(action)
    now = time.time()
    address = request.META.get("REMOTE_ADDR", "")
    device = device_of(request)
    checks = [(f"rl:{action}:a:{address}", limit.per_address)]
    if device:
        checks.append((f"rl:{action}:d:{device}", limit.per_device))
    else:
        checks.append((f"rl:{action}:n:{address}", limit.per_address_without_device))
    over = False
    for key, allowed in checks:
        if ratelimit.hit(key, limit.window, now)[0] > allowed:
            over = True
    if over:
        return limit.window - int(now) % limit.window
    return None

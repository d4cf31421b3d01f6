"""Account security on every request: session time limits, the second factor and
password age, a rate limit on the login forms, and no caching of personal data."""

import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from rest_framework.settings import api_settings

from civicgrid.accounts.security import refusal_for
from civicgrid.core.ratelimit import WindowRateThrottle

AUTH_AT = "_civicgrid_auth_at"  # when the password was proven (epoch seconds)
SEEN_AT = "_civicgrid_seen_at"  # the session's last request
# The last request is written at most this often (seconds): no session write on
# every request, at the price of this much slack on the idle timeout.
SEEN_RESOLUTION = 30

Handler = Callable[[HttpRequest], HttpResponse]


def now_ts() -> float:
    return timezone.now().timestamp()


def stamp_login(request: HttpRequest) -> None:
    """Start the session's clocks (called on user_logged_in)."""
    t = now_ts()
    request.session[AUTH_AT] = t
    request.session[SEEN_AT] = t


class SessionLimitsMiddleware:
    """Idle timeout and absolute lifetime, enforced on the server: an expired
    session is flushed (its row deleted) and the request goes on anonymous."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session, t = request.session, now_ts()
            auth_at = session.setdefault(AUTH_AT, t)
            seen_at = session.setdefault(SEEN_AT, t)
            if (
                t - seen_at > settings.CIVICGRID_SESSION_IDLE_SECONDS
                or t - auth_at > settings.CIVICGRID_SESSION_ABSOLUTE_SECONDS
            ):
                logout(request)
            elif t - seen_at >= SEEN_RESOLUTION:
                session[SEEN_AT] = t
        return self.get_response(request)


def _exempt(path: str) -> bool:
    return path.startswith(tuple(settings.CIVICGRID_ACCOUNT_STEP_EXEMPT_PATHS)) or (
        path.startswith(settings.STATIC_URL if settings.STATIC_URL else "/static/")
    )


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(tuple(settings.CIVICGRID_API_PREFIXES))


class AccountPolicyMiddleware:
    """Sends a signed-in user who still owes a step (second factor, new password) to
    that step; API calls get 403 with the reason instead."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = refusal_for(request.user)
        if refusal is None or _exempt(request.path):
            return self.get_response(request)
        if is_api(request):
            return JsonResponse(
                {"detail": str(refusal.message), "code": refusal.code},
                status=403,
                json_dumps_params={"ensure_ascii": False},
            )
        target = reverse(refusal.url_name)
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer to a signed-in user and on every
    page or API answer that may carry personal data: no browser or proxy keeps it."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith(
            tuple(settings.CIVICGRID_NO_STORE_PREFIXES)
        ):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


class LoginRateThrottle(WindowRateThrottle):
    """Login attempts per source address (a DRF throttle counted in the database,
    civicgrid.core.ratelimit), whatever the user name: password spraying across many names is slowed down too."""

    scope = "login"

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return str(rate) if rate else None

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


class LoginRateLimitMiddleware:
    """429 on the sign-in forms past the ``login`` rate (django-axes locks a user
    name per address after repeated failures; this caps the attempts themselves)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self._paths: frozenset[str] | None = None

    def login_paths(self) -> frozenset[str]:
        if self._paths is None:
            paths = set()
            for name in settings.CIVICGRID_LOGIN_URL_NAMES:
                try:
                    paths.add(reverse(name))
                except NoReverseMatch:
                    continue
            self._paths = frozenset(paths)
        return self._paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in self.login_paths():
            throttle = LoginRateThrottle()
            if not throttle.allow_request(request, None):  # type: ignore[arg-type]
                wait = throttle.wait()
                response = HttpResponse(
                    _("Too many sign-in attempts from your address. Try again later."),
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                if wait is not None:
                    response["Retry-After"] = str(max(math.ceil(wait), 1))
                return response
        return self.get_response(request)

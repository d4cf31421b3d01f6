"""Request rates of the Open311 endpoint, on DRF's throttling counted in the database
(civicgrid.core.ratelimit): POSTs count per client (by API key), GETs per client when they carry a valid
key and per network address when they carry none. A client may have its own rates;
otherwise the site's ``open311_post`` and ``open311_read`` rates apply. Past the rate
the endpoint answers 429 in the spec's ``errors`` shape with a Retry-After header."""

import math
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from civicgrid.core.ratelimit import WindowRateThrottle
from civicgrid.exchange.models import Open311Client
from civicgrid.exchange.open311 import key_digest
from civicgrid.exchange.open311_format import Open311Error

POST_SCOPE = "open311_post"
READ_SCOPE = "open311_read"


class Open311Throttle(WindowRateThrottle):
    """One bucket: ``scope`` and an identity (a client, or an address)."""

    def __init__(self, scope: str, ident: str, rate: str = "") -> None:
        self.scope = scope
        self.ident = ident
        self.rate = rate or self.get_rate()
        num, duration = self.parse_rate(self.rate)  # (None, None): no rate, no limit
        self.num_requests, self.duration = num or 0, duration or 0

    def get_rate(self) -> str | None:
        # Read at each request (not at import), so a changed setting applies.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate else None

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def throttle_for(request: HttpRequest, params: dict[str, str]) -> Open311Throttle:
    """The bucket a request counts in. An unknown key counts against its address (the
    view then refuses it with 403): guessing keys is throttled too."""
    post = request.method == "POST"
    key = params.get("api_key") or ""
    client = (
        Open311Client.objects.filter(key_digest=key_digest(key), active=True)
        .values("pk", "post_rate", "read_rate")
        .first()
        if key
        else None
    )
    if client is None:
        ident = f"addr:{BaseThrottle().get_ident(request)}"  # type: ignore[arg-type]
        return Open311Throttle(POST_SCOPE if post else READ_SCOPE, ident)
    rate = client["post_rate"] if post else client["read_rate"]
    ident = f"client:{client['pk']}"
    return Open311Throttle(POST_SCOPE if post else READ_SCOPE, ident, rate)


def check_rate(request: HttpRequest, params: dict[str, str]) -> None:
    """Count the request; Open311Error 429 (with the wait) past the rate."""
    throttle = throttle_for(request, params)
    if throttle.allow_request(request, None):  # type: ignore[arg-type]
        return
    wait = max(math.ceil(throttle.wait() or 0), 1)  # as DRF rounds it
    raise Open311Error(
        429,
        _("too many requests; try again in %(s)s seconds") % {"s": wait},
        retry_after=wait,
    )

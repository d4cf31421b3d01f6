"""GeoReport v2 endpoints at /open311/v2/: XML by default or by ``.xml``, JSON by
``.json``; every failure in the spec's ``errors`` shape. POST methods need an API
key; the GET methods are public and never show the reporter's contact. Every method
counts against a rate (per client, or per address without a key): 429 past it."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from civicgrid.exchange import open311, open311_updates
from civicgrid.exchange.open311_format import (
    FORMATS,
    XML,
    Open311Error,
    error_response,
    respond,
)
from civicgrid.exchange.open311_media import media_url_clean
from civicgrid.exchange.open311_throttle import check_rate


def _format(fmt: str | None) -> str:
    if not fmt:
        return XML
    if fmt not in FORMATS:
        raise Open311Error(400, _("format %(f)s is not supported") % {"f": fmt})
    return fmt


def _params(request: HttpRequest) -> dict[str, str]:
    source = request.POST if request.method == "POST" else request.GET
    return {k: source.get(k, "") for k in source}


def endpoint(
    methods: tuple[str, ...],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a method: format from the extension, allowed HTTP methods, errors."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def run(
            request: HttpRequest, fmt: str | None = None, **kw: Any
        ) -> HttpResponse:
            out = XML
            try:
                out = _format(fmt)
                if request.method not in methods:
                    raise Open311Error(
                        405, _("method %(m)s not allowed") % {"m": request.method}
                    )
                params = _params(request)
                check_rate(request, params)
                city = open311.jurisdiction_city(params.get("jurisdiction_id"))
                return view(request, out, params, city, **kw)
            except Open311Error as exc:
                return error_response(out, [exc])

        run.__doc__ = view.__doc__
        return csrf_exempt(run)

    return wrap


@endpoint(("GET",))
def discovery(
    request: HttpRequest, fmt: str, params: dict[str, str], city: str
) -> HttpResponse:
    """Service discovery: where the v2 endpoint is and what it speaks."""
    return respond(
        fmt,
        "discovery",
        {
            "changeset": open311.CHANGESET,
            "contact": getattr(settings, "OPEN311_CONTACT", ""),
            "key_service": _(
                "Ask the platform administrator for an API key (manage.py open311_key)."
            ),
            "endpoints": [
                {
                    "specification": open311.SPEC_URL,
                    "url": request.build_absolute_uri("/open311/v2"),
                    "changeset": open311.CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@endpoint(("GET",))
def services(
    request: HttpRequest, fmt: str, params: dict[str, str], city: str
) -> HttpResponse:
    return respond(fmt, "services", open311.services_list())


@endpoint(("GET",))
def service_definition(
    request: HttpRequest, fmt: str, params: dict[str, str], city: str, code: str
) -> HttpResponse:
    return respond(fmt, "service_definition", open311.service_definition(code))


def _float(value: str, name: str) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise Open311Error(400, _("%(n)s is not a number") % {"n": name}) from None


def _post_request(
    request: HttpRequest, fmt: str, params: dict[str, str], city: str
) -> HttpResponse:
    client = open311.client_for_key(params.get("api_key"))
    if not params.get("service_code"):
        raise Open311Error(400, _("service_code is required"))
    matter = open311.matter_for(params["service_code"])
    answers, errors = open311.parse_attributes(
        matter, open311.attribute_values(request.POST.lists())
    )
    if errors:
        return error_response(fmt, errors)
    lat, long = (
        _float(params.get("lat", ""), "lat"),
        _float(params.get("long", ""), "long"),
    )
    if (lat is None) != (long is None):
        raise Open311Error(400, _("lat and long must be given together"))
    sub = open311.Submission(
        matter=matter,
        description=params.get("description", ""),
        attributes=answers,
        lat=lat,
        long=long,
        address_string=params.get("address_string", "")[:300],
        address_id=params.get("address_id", "")[:50],
        media_url=media_url_clean(params.get("media_url")),
        email=params.get("email", "")[:200],
        device_id=params.get("device_id", "")[:200],
        account_id=params.get("account_id", "")[:200],
        first_name=params.get("first_name", "")[:50],
        last_name=params.get("last_name", "")[:50],
        phone=params.get("phone", "")[:30],
        jurisdiction=params.get("jurisdiction_id", "")[:50],
        city=city,
        idempotency_key=(request.headers.get("Idempotency-Key") or "")[:80],
    )
    req = open311.request_create_once(client=client, sub=sub)
    item: dict[str, Any] = (
        {"service_request_id": req.event.code} if req.event else {"token": req.token}
    )
    item["service_notice"] = open311.service_notice(matter) or None
    item["account_id"] = None
    return respond(fmt, "service_requests", [item], status=201)


@endpoint(("GET", "POST"))
def requests(
    request: HttpRequest, fmt: str, params: dict[str, str], city: str
) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt, params, city)
    events = open311.requests_search(params, city)
    return respond(fmt, "service_requests", [open311.request_out(e) for e in events])


@endpoint(("GET",))
def request_detail(
    request: HttpRequest, fmt: str, params: dict[str, str], city: str, code: str
) -> HttpResponse:
    event = open311.event_for(code, city)
    return respond(fmt, "service_requests", [open311.request_out(event)])


@endpoint(("GET",))
def token(
    request: HttpRequest, fmt: str, params: dict[str, str], city: str, token: str
) -> HttpResponse:
    return respond(fmt, "service_requests", open311.tokens_out(token))


@endpoint(("GET", "POST"))
def updates(
    request: HttpRequest, fmt: str, params: dict[str, str], city: str
) -> HttpResponse:
    if request.method == "POST":
        client = open311.client_for_key(params.get("api_key"))
        update = open311_updates.update_post(client=client, params=params, city=city)
        return respond(
            fmt,
            "service_request_updates",
            [{"update_id": f"C{update.pk}"}],
            status=201,
        )
    return respond(
        fmt, "service_requests_updates", open311_updates.updates_search(params, city)
    )

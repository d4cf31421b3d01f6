"""The signed exchange API at /exchange/v1/ for connected systems (machine to
machine, outside the staff API): every request carries an HMAC-SM3 signature, a
timestamp inside the window and a fresh nonce; pushes are idempotent by the sender's
own id. Answers are JSON; failures are {"error": reason} with 400/401/403/409."""

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from civicgrid.exchange import systems
from civicgrid.exchange.models import ConnectedSystem
from civicgrid.exchange.signing import BadSignature

MAX_BODY = 5 * 1024 * 1024

Handler = Callable[[ConnectedSystem, Any], tuple[dict[str, Any], bool]]


def _error(status: int, reason: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": reason, **extra}, status=status)


def signed(
    methods: tuple[str, ...],
) -> Callable[[Callable[..., JsonResponse]], Callable[..., JsonResponse]]:
    """Authenticate the signing system, parse the JSON body, map errors."""

    def wrap(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
        def run(request: HttpRequest, **kw: Any) -> JsonResponse:
            if request.method not in methods:
                return _error(405, f"method {request.method} not allowed")
            body = request.body
            if len(body) > MAX_BODY:
                return _error(413, "the body is too large")
            try:
                system = systems.authenticate(
                    method=request.method or "GET",
                    path=request.get_full_path(),
                    headers=request.headers,
                    body=body,
                )
            except BadSignature as exc:
                return _error(401, str(exc))
            data: Any = None
            if body:
                try:
                    data = json.loads(body)
                except ValueError:
                    return _error(400, "the body is not JSON")
            try:
                return view(request, system, data, **kw)
            except systems.NotAllowed as exc:
                return _error(403, str(exc))
            except systems.Conflict as exc:
                return _error(409, str(exc))
            except systems.BadPush as exc:
                return _error(400, str(exc), rows=exc.details)

        run.__doc__ = view.__doc__
        return csrf_exempt(run)

    return wrap


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise systems.BadPush("the body must be a JSON object")
    return data


def _answer(result: tuple[dict[str, Any], bool]) -> JsonResponse:
    body, created = result
    return JsonResponse(body, status=201 if created else 200)


@signed(("GET",))
def whoami(request: HttpRequest, system: ConnectedSystem, data: Any) -> JsonResponse:
    """Which system the signature belongs to, and what it may do."""
    return JsonResponse(
        {
            "code": system.code,
            "name": system.name,
            "kind": system.kind,
            "permissions": system.permissions,
            "regions": system.region_prefixes,
        }
    )


@signed(("POST",))
def push_event(
    request: HttpRequest, system: ConnectedSystem, data: Any
) -> JsonResponse:
    return _answer(systems.push_event(system=system, data=_object(data)))


@signed(("POST",))
def push_incidents(
    request: HttpRequest, system: ConnectedSystem, data: Any
) -> JsonResponse:
    return _answer(systems.push_incidents(system=system, data=_object(data)))


@signed(("POST",))
def push_report(
    request: HttpRequest, system: ConnectedSystem, data: Any
) -> JsonResponse:
    """A city instance's monthly report (this instance is the higher level)."""
    from civicgrid.exchange.upward import report_receive

    return _answer(report_receive(system=system, data=_object(data)))

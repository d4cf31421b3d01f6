"""Middleware that records the request's source address for the audit log, and
audits every refusal (401/403) from pages and the API."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from civicgrid.core import context

DENIED = {401, 403}


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = context.source_address.set(request.META.get("REMOTE_ADDR"))
        try:
            response = self.get_response(request)
            if response.status_code in DENIED:
                audit_denial(request, response)
            return response
        finally:
            context.source_address.reset(token)


def audit_denial(request: HttpRequest, response: HttpResponse) -> None:
    """One row per refusal: who, which method and path (never the query string or
    the body, which may hold personal data)."""
    from civicgrid.core.audit import audit_record

    user = getattr(request, "user", None)
    audit_record(
        actor=user,
        actor_label="anonymous",
        action="access.denied",
        object_type="http",
        object_id=request.path[:80],
        changes={
            "method": request.method,
            "path": request.path[:500],
            "status": response.status_code,
        },
    )

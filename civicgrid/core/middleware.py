"""Middleware that records the request's source address for the audit log."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from civicgrid.core import context


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = context.source_address.set(request.META.get("REMOTE_ADDR"))
        try:
            return self.get_response(request)
        finally:
            context.source_address.reset(token)

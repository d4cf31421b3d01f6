"""DRF authentication with the account policy: a user name and password on each
call (HTTP Basic) proves no second factor and may not bypass an expired password.
Session calls are checked by AccountPolicyMiddleware before DRF sees them."""

from typing import Any

from drf_spectacular import authentication as drf_auth
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from civicgrid.accounts.security import refusal_for


class PolicyRefused(exceptions.PermissionDenied):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(detail={"detail": message, "code": code})


class BasicAuthentication(authentication.BasicAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            refusal = refusal_for(result[0])
            if refusal is not None:
                raise PolicyRefused(refusal.code, str(refusal.message))
        return result


class BasicScheme(drf_auth.BasicScheme):
    """The same HTTP Basic scheme in the OpenAPI schema."""

    target_class = "civicgrid.accounts.authentication.BasicAuthentication"
    priority = 0

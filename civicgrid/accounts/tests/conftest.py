"""Accounts security fixtures: a clean throttle cache, and signing in through the
real workbench form (so django-axes, the session clocks and the policy all run)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from civicgrid.conftest import PASSWORD


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def otp_on(settings: Any) -> None:
    settings.CIVICGRID_OTP_REQUIRED = True


def sign_in(
    username: str, password: str = PASSWORD, address: str = "203.0.113.10"
) -> tuple[Client, Any]:
    client = Client(REMOTE_ADDR=address)
    response = client.post(
        reverse("workbench:login"), {"username": username, "password": password}
    )
    return client, response

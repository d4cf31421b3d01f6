"""Accounts security fixtures: clean request counts, and signing in through the
real workbench form (so django-axes, the session clocks and the policy all run)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from civicgrid.conftest import PASSWORD, clear_rates


@pytest.fixture(autouse=True)
def fresh_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    """Rate counters live in the database: cleared around every test that uses
    the database (a test without it has no counts to touch)."""
    names = set(request.fixturenames)
    wanted = next((n for n in ("transactional_db", "db") if n in names), None)
    marked = request.node.get_closest_marker("django_db") is not None
    if wanted and not marked:
        request.getfixturevalue(wanted)  # set up before this fixture needs it
    uses_db = marked or wanted is not None
    if uses_db:
        clear_rates()
    yield
    if uses_db:
        clear_rates()


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

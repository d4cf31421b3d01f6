"""Schemathesis over the whole OpenAPI schema (/api/v1/schema/), as an anonymous
caller, a citizen and a town officer: no 5xx, documented responses match their
schema, and no list response carries a full ID number or phone number.

Examples are few and derandomised (the same cases every run) to keep this to a
couple of minutes; failures are collected per operation and reported together."""

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Role
from civicgrid.conftest import PASSWORD, clear_rates
from civicgrid.core.personal import id_number_is_valid
from civicgrid.events import services as events
from civicgrid.events.models import Source
from civicgrid.regions.models import Grid

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 4
# Every failure of any operation fails the test: there is no allow-list.
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
SEEDED_PHONES = ["13912345678", "13800001111"]
SEEDED_ID = "11010519491231002X"


def full_personal_data(body: Any) -> list[str]:
    """Full phone numbers and (check-digit valid) ID numbers anywhere in ``body``."""
    text = json.dumps(body, ensure_ascii=False)
    found = PHONE.findall(text)
    found += [m for m in ID_NUMBER.findall(text) if id_number_is_valid(m)]
    return found


def is_list(body: Any) -> bool:
    return isinstance(body, list) or (
        isinstance(body, dict) and isinstance(body.get("results"), list)
    )


@schemathesis.check
def no_full_personal_data_in_lists(ctx: Any, response: Any, case: Any) -> bool | None:
    if case.method.upper() != "GET" or "json" not in (
        response.headers.get("Content-Type", [""])[0]
        if isinstance(response.headers.get("Content-Type"), list)
        else str(response.headers.get("Content-Type", ""))
    ):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if is_list(body):
        leaked = full_personal_data(body)
        assert not leaked, f"full personal data in a list response: {leaked[:3]}"
    return None


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The real WSGI application, minus what Django's test client also removes: the
    per-request closing of the database connection (it holds the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(make_staff: Any) -> dict[str, dict[str, str]]:
    """Personal data that must stay masked, and the three callers' headers."""
    clear_rates()  # request counts
    grid = Grid.objects.filter(region_code__startswith="370303001").order_by("code")[0]
    point = grid.geometry.representative_point()
    citizen = accounts.user_create(
        actor=None, username="fuzz-citizen", password=PASSWORD, phone=SEEDED_PHONES[1]
    )
    officer = make_staff("fuzz-town", Role.CENTER_STAFF, region="370303001")
    for i, phone in enumerate(SEEDED_PHONES):
        events.event_report(
            actor=citizen,
            source=Source.CITIZEN_WEB,
            title=f"测试事件{i}",
            description="路灯不亮",
            lon=point.x,
            lat=point.y,
            reporter_name="张三",
            reporter_phone=phone,
        )

    def basic(user: Any) -> dict[str, str]:
        token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    return {"anonymous": {}, "citizen": basic(citizen), "town_officer": basic(officer)}


def fuzz(schema: Any, headers: dict[str, str]) -> list[str]:
    failures: list[str] = []
    checks = [
        not_a_server_error,
        response_schema_conformance,
        no_full_personal_data_in_lists,
    ]
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=checks, headers=headers)

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            failures.append(f"{operation.label}: {describe(exc)}")
    return failures


def describe(exc: BaseException) -> str:
    """One line per distinct failure: its kind and the first lines of its message."""
    parts = getattr(exc, "exceptions", None) or [exc]
    lines = []
    for part in parts:
        text = [t.strip() for t in str(part).splitlines() if t.strip()]
        lines.append(f"{type(part).__name__}: " + " | ".join(text[:6]))
    return "\n    ".join(["", *lines])


@pytest.mark.parametrize("who", ["anonymous", "citizen", "town_officer"])
def test_whole_api_schema(
    who: str, seeded: dict[str, dict[str, str]], wsgi_app: Any
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    headers = seeded[who]
    failures = list(fuzz(schema, headers))
    assert not failures, f"{len(failures)} operations failed as {who}:\n" + "\n".join(
        failures
    )


def test_the_leak_check_sees_full_numbers() -> None:
    """The check itself: a full phone or ID number in a list is caught, masked
    forms are not."""
    assert full_personal_data([{"phone": "13912345678"}]) == ["13912345678"]
    assert full_personal_data({"results": [{"id": SEEDED_ID}]}) == [SEEDED_ID]
    assert (
        full_personal_data([{"phone": "139****5678", "id": "110***********002X"}]) == []
    )
    assert full_personal_data([{"code": "370303001001001", "n": 1764489600123}]) == []

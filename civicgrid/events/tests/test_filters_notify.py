"""The list filters of the issue's list not covered in test_api (status, matter,
handler, level, severity), their place in the OpenAPI schema, and the pluggable
notification senders."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from civicgrid.accounts.models import User
from civicgrid.events import notify
from civicgrid.events.engine import event_act
from civicgrid.events.models import Event, Notification
from civicgrid.events.tests.conftest import Cast

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"
FILTERS = {
    "state",
    "status",
    "matter",
    "region",
    "source",
    "overdue",
    "created_after",
    "created_before",
    "department",
    "handler",
    "level",
    "severity",
}


def codes(client: APIClient, **params: str) -> set[str]:
    r = client.get(EVENTS, params)
    assert r.status_code == 200, r.content
    return {e["code"] for e in r.json()["results"]}


def step(event: Event, actor: Any, transition: str, **data: Any) -> Event:
    event.refresh_from_db()
    return event_act(
        actor=actor,
        event_id=event.pk,
        transition=transition,
        version=event.version,
        data=data,
    )


def test_status_matter_handler_level_severity(
    cast: Cast, report: Callable[..., Event]
) -> None:
    small = report()
    big = report(matter=cast.big, severity="urgent")
    step(big, cast.town, "accept")
    step(big, cast.town, "dispatch", lead_department=cast.urban_dept.pk)
    town = APIClient()
    town.force_authenticate(cast.town)
    assert codes(town, status="dispatched") == {big.code}
    assert codes(town, status="reported") == {small.code}
    assert codes(town, matter=cast.small.code) == {small.code}
    assert codes(town, handler=str(cast.urban_dept.pk)) == {big.code}
    assert codes(town, handler=str(cast.market_dept.pk)) == set()
    assert codes(town, severity="urgent") == {big.code}
    assert codes(town, level="town") == {small.code, big.code}
    assert town.get(EVENTS, {"handler": "urban"}).status_code == 400


def test_every_list_filter_is_in_the_openapi_schema(tmp_path: Any) -> None:
    import yaml

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--validate")
    schema = yaml.safe_load(out.read_text())
    params = schema["paths"]["/api/v1/events/"]["get"]["parameters"]
    assert {p["name"] for p in params} >= FILTERS


class Collecting:
    """A sender (as an SMS or WeChat gateway would be) that keeps what it is given."""

    sent: list[tuple[int, str]] = []

    def send(self, user: User, text: str) -> None:
        self.sent.append((user.pk, text))


def test_senders_are_pluggable_and_deliver_after_commit(
    cast: Cast,
    report: Callable[..., Event],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CIVICGRID_NOTIFY_SENDERS = [
        "civicgrid.events.notify.LogSender",
        f"{__name__}.Collecting",
    ]
    notify.senders.cache_clear()
    Collecting.sent.clear()
    try:
        e = report()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            step(e, cast.town, "reject", reason="不属于受理范围")
        assert Collecting.sent == []  # nothing leaves before the commit
        for callback in callbacks:
            callback()
        assert Collecting.sent == [
            (cast.citizen.pk, f"您反映的问题（{e.code}）已不予受理")
        ]
        assert Notification.objects.filter(user=cast.citizen, event=e).count() == 1
        assert "13912345678" not in Collecting.sent[0][1]  # no personal data
    finally:
        notify.senders.cache_clear()

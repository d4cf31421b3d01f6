"""Citizen pages: rating the result with the code and token, the peace index link,
and the CAPTCHA-free flood limits per address and per device."""

from collections.abc import Callable, Iterator

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from civicgrid.conftest import clear_rates
from civicgrid.events.engine import event_act
from civicgrid.events.models import Event
from civicgrid.events.tests.conftest import Cast


@pytest.fixture(autouse=True)
def fresh_counters(db: None) -> Iterator[None]:
    # The counters live in the database (civicgrid.core.ratelimit).
    clear_rates()
    yield
    clear_rates()


def verified(cast: Cast, report: Callable[..., Event]) -> Event:
    """A small matter handled in the grid and checked on site: awaits the visit."""
    event = report()
    for actor, step in (
        (cast.town, "accept"),
        (cast.grid_worker, "handle_in_grid"),
        (cast.grid_worker, "verify"),
    ):
        event.refresh_from_db()
        data = {"result": "已劝离"} if step == "handle_in_grid" else {}
        event = event_act(
            actor=actor,
            event_id=event.pk,
            transition=step,
            version=event.version,
            data=data,
        )
    assert event.state == "verified"
    return event


def track(client: Client, event: Event, token: str | None = None) -> object:
    return client.get(
        reverse("report:track"),
        {"code": event.code, "token": token or event.tracking_token},
    )


def rate(client: Client, event: Event, rating: str, token: str | None = None) -> object:
    return client.post(
        reverse("report:rate"),
        {
            "code": event.code,
            "token": token or event.tracking_token,
            "version": event.version,
            "rating": rating,
        },
    )


def test_the_rating_form_appears_only_while_the_result_awaits_the_visit(
    cast: Cast, report: Callable[..., Event]
) -> None:
    client = Client()
    fresh = report()
    body = track(client, fresh).content.decode()  # type: ignore[attr-defined]
    assert "评价处理结果" not in body and "查询地区平安指数" in body
    refused = rate(client, fresh, "satisfied")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "不在待评价阶段" in refused.content.decode()  # type: ignore[attr-defined]
    event = verified(cast, report)
    body = track(client, event).content.decode()  # type: ignore[attr-defined]
    assert "评价处理结果" in body
    assert "基本满意" in body


def test_a_wrong_token_cannot_rate(cast: Cast, report: Callable[..., Event]) -> None:
    event = verified(cast, report)
    response = rate(Client(), event, "unsatisfied", token="guessed-token")
    assert response.status_code == 404  # type: ignore[attr-defined]
    event.refresh_from_db()
    assert event.rating == "" and event.state == "verified"


def test_the_citizen_rates_the_result_with_code_and_token(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = verified(cast, report)
    client = Client()
    response = rate(client, event, "basically_satisfied")
    assert response.status_code == 302  # type: ignore[attr-defined]
    event.refresh_from_db()
    assert event.rating == "basically_satisfied" and event.state == "visited"
    body = track(client, event).content.decode()  # type: ignore[attr-defined]
    assert "您的评价" in body and "基本满意" in body and "提交评价" not in body


LIMITS = {
    "track": {
        "window": 600,
        "per_device": 3,
        "per_address": 5,
        "per_address_without_device": 2,
    }
}


@override_settings(CIVICGRID_PUBLIC_LIMITS=LIMITS)
def test_lookups_are_limited_per_device_then_per_address(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = report()
    phone = Client()
    phone.get(reverse("report:track"))  # the first visit gives the device cookie
    assert "cg_device" in phone.cookies
    for _ in range(3):
        assert track(phone, event).status_code == 200  # type: ignore[attr-defined]
    limited = track(phone, event)
    assert limited.status_code == 429  # type: ignore[attr-defined]
    assert int(limited["Retry-After"]) > 0  # type: ignore[index]
    assert "请求过多" in limited.content.decode()  # type: ignore[attr-defined]
    # Another phone behind the same address still gets through, up to the
    # address's limit (5: 4 counted already).
    other = Client()
    other.get(reverse("report:track"))
    assert track(other, event).status_code == 200  # type: ignore[attr-defined]
    assert track(other, event).status_code == 429  # type: ignore[attr-defined]


@override_settings(CIVICGRID_PUBLIC_LIMITS=LIMITS)
def test_dropping_the_cookie_buys_no_more_requests(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = report()
    codes = [
        track(Client(), event).status_code  # type: ignore[attr-defined]
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


@override_settings(
    CIVICGRID_PUBLIC_LIMITS={
        "report": {
            "window": 3600,
            "per_device": 1,
            "per_address": 10,
            "per_address_without_device": 1,
        }
    }
)
def test_report_submissions_are_limited(cast: Cast) -> None:
    client = Client()
    client.get(reverse("report:form"))
    p = cast.grid.geometry.representative_point()
    body = {
        "title": "井盖丢失",
        "description": "人行道上的井盖不见了",
        "lon": f"{p.x:.6f}",
        "lat": f"{p.y:.6f}",
    }
    first = client.post(
        reverse("report:form"),
        {**body, "idempotency_key": "5d1b8c3e-0000-4000-8000-000000000001"},
    )
    second = client.post(
        reverse("report:form"),
        {**body, "idempotency_key": "5d1b8c3e-0000-4000-8000-000000000002"},
    )
    assert first.status_code == 302 and second.status_code == 429
    assert Event.objects.filter(title="井盖丢失").count() == 1

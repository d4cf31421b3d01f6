"""Two people at once, in real transactions on their own connections: one wins, the
other gets 409 with the current event; a retried report with the same
Idempotency-Key gives one event, and the same key with another body is refused.

The requests truly overlap on PostgreSQL, where row locks and unique indexes
decide (CI's first run). SQLite has one writer at a time: there the same cases run
one after another in test_api and test_engine."""

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from rest_framework.test import APIClient

from civicgrid.core.models import AuditRecord
from civicgrid.events.catalogue import catalogue_load_default
from civicgrid.events.models import Event, EventAction
from civicgrid.events.services import workflow_install_shipped
from civicgrid.events.tests.conftest import Cast

# Committed data for several connections: each test ends with a flush, kept away
# from the regions the session loaded once; the workflows and the catalogue are
# installed again when the module is done.
KEEP = {"civicgrid.regions"}
POSTGRES = connection.vendor == "postgresql"
pytestmark = [
    pytest.mark.django_db(
        transaction=True,
        available_apps=[a for a in settings.INSTALLED_APPS if a not in KEEP],
    ),
    # On SQLite the flush after each test (the dependency graph of every table,
    # by regular expressions over the schema) takes minutes with this many apps;
    # the same cases run there one after another in test_api and test_engine.
    pytest.mark.skipif(
        not POSTGRES, reason="real concurrency: PostgreSQL (CI runs it)"
    ),
]
# SQLite's in-memory test database is shared between threads by a shared cache,
# which refuses (rather than waits for) a second writer: serialise there.
SQLITE_LOCK = threading.Lock()
EVENTS = "/api/v1/events/"


@pytest.fixture(scope="module", autouse=True)
def reinstall_shipped_data(django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        workflow_install_shipped()
        catalogue_load_default(actor=None)


@pytest.fixture(autouse=True)
def workflows(transactional_db: Any) -> None:
    """The flush after the previous test took the workflow definitions."""
    workflow_install_shipped()


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each thread has its own
    connection, closed when it is done. Results in the order of the calls."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            if POSTGRES:
                results[i] = call()
            else:
                with SQLITE_LOCK:
                    results[i] = call()
        except BaseException as exc:  # reported by the test, not lost in the thread
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request hung"
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def act(user: Any, code: str, transition: str, version: int, **data: Any) -> Any:
    return lambda: client_for(user).post(
        f"{EVENTS}{code}/actions/",
        {"transition": transition, "version": version, "data": data},
        format="json",
    )


def test_two_officers_at_once_one_wins_the_other_gets_409(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """Accept and reject the same version at the same moment, five times over:
    each time exactly one step is taken and the loser sees the winner's event."""
    second = client_for(cast.town)
    for _ in range(5):
        e = report()
        accept, reject = at_once(
            act(cast.town, e.code, "accept", 1),
            lambda e=e: second.post(  # type: ignore[misc]
                f"{EVENTS}{e.code}/actions/",
                {"transition": "reject", "version": 1, "data": {"reason": "重复"}},
                format="json",
            ),
        )
        statuses = sorted([accept.status_code, reject.status_code])
        assert statuses == [200, 409]
        winner, loser = (
            (accept, reject) if accept.status_code == 200 else (reject, accept)
        )
        e.refresh_from_db()
        assert (e.state, e.version) == (winner.json()["state"], 2)
        current = loser.json()["event"]
        assert (current["state"], current["version"]) == (e.state, 2)
        steps = list(e.actions.values_list("transition", flat=True))
        assert steps == ["report", "accept" if winner is accept else "reject"]
        assert (
            AuditRecord.objects.filter(
                object_id=str(e.pk), action__in=["event.accept", "event.reject"]
            ).count()
            == 1
        )


def test_many_at_once_exactly_one_wins(
    cast: Cast, report: Callable[..., Event]
) -> None:
    e = report()
    responses = at_once(*[act(cast.town, e.code, "accept", 1) for _ in range(6)])
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    e.refresh_from_db()
    assert e.version == 2 and e.actions.count() == 2


def test_the_second_waits_for_the_first_and_overwrites_nothing(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """While one transaction holds the event, another officer's step waits for it,
    then finds the new version and is refused: nothing of the first is lost."""
    from civicgrid.events.engine import event_act

    e = report()
    done = threading.Event()
    result: dict[str, Any] = {}

    def second() -> None:
        try:
            result["r"] = act(cast.town, e.code, "reject", 1, reason="重复")()
        finally:
            done.set()
            connection.close()

    with transaction.atomic():
        Event.objects.select_for_update().get(pk=e.pk)
        t = threading.Thread(target=second)
        t.start()
        assert not done.wait(1.0), "the second step did not wait for the lock"
        event_act(actor=cast.town, event_id=e.pk, transition="accept", version=1)
    t.join(timeout=30)
    assert result["r"].status_code == 409
    assert result["r"].json()["event"]["state"] == "accepted"
    e.refresh_from_db()
    assert (e.state, e.version, e.actions.count()) == ("accepted", 2, 2)


def body(cast: Cast, **overrides: Any) -> dict[str, Any]:
    p = cast.grid.geometry.representative_point()
    data = {
        "title": "小区门口井盖缺失",
        "description": "夜间行人容易踩空",
        "lon": p.x,
        "lat": p.y,
        "matter": cast.small.code,
    }
    data.update(overrides)
    return data


def post(user: Any, data: dict[str, Any], key: str) -> Callable[[], Any]:
    return lambda: client_for(user).post(
        EVENTS, data, format="json", headers={"Idempotency-Key": key}
    )


def test_the_same_report_retried_at_once_makes_one_event(cast: Cast) -> None:
    for n in range(3):
        key = f"race-{n}"
        responses = at_once(*[post(cast.citizen, body(cast), key) for _ in range(4)])
        assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
        assert len({r.json()["code"] for r in responses}) == 1
        assert Event.objects.filter(idempotency_key=key).count() == 1
        assert (
            EventAction.objects.filter(event__idempotency_key=key).count() == 1
        )  # one first timeline row


def test_the_same_key_with_another_body_at_once_is_refused(cast: Cast) -> None:
    first, other = at_once(
        post(cast.citizen, body(cast), "race-x"),
        post(cast.citizen, body(cast, title="另一件事：路灯不亮"), "race-x"),
    )
    assert sorted([first.status_code, other.status_code]) == [201, 422]
    winner = first if first.status_code == 201 else other
    event = Event.objects.get(idempotency_key="race-x")
    assert event.code == winner.json()["code"] and event.title == winner.json()["title"]
    assert Event.objects.count() == 1


def test_reports_at_once_get_distinct_consecutive_codes(cast: Cast) -> None:
    """The day's counter is bumped in one statement: eight reports at once take
    eight distinct numbers, 1 to 8, and the next day starts again at 1."""
    import time_machine
    from django.utils import timezone

    responses = at_once(*[post(cast.citizen, body(cast), f"n-{i}") for i in range(8)])
    assert [r.status_code for r in responses] == [201] * 8
    numbers = sorted(int(r.json()["code"].rsplit("-", 1)[1]) for r in responses)
    day = timezone.localdate()
    assert numbers == list(range(1, 9))
    assert all(r.json()["code"].startswith(f"3703-{day:%Y%m%d}-") for r in responses)
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        r = post(cast.citizen, body(cast), "n-next")()
    assert r.json()["code"].endswith("-0001")

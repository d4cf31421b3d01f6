"""Request rates counted in the database (civicgrid.core.ratelimit): one statement
counts a request and reads the previous window; the sliding-window estimate refuses
a caller who straddles a window's edge; refused requests are not counted; the count
lives in the database, not in a process; the scheduled job removes old counts."""

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from civicgrid.conftest import clear_rates
from civicgrid.core import ratelimit
from civicgrid.core.models import RateCount
from civicgrid.core.tasks import purge_rate_counts
from civicgrid.exchange.open311_throttle import READ_SCOPE, Open311Throttle

pytestmark = pytest.mark.django_db
T0 = 1_800_000_000.0  # a window edge for windows of 60 s: 30,000,000 × 60


@pytest.fixture(autouse=True)
def rates(settings: Any) -> Iterator[None]:
    clear_rates()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "open311_read": "3/min",
        },
    }
    yield
    clear_rates()


def test_one_statement_counts_and_reads_the_previous_window() -> None:
    assert ratelimit.hit("k", 60, T0 - 1) == (1, 0, pytest.approx(59 / 60))
    assert ratelimit.hit("k", 60, T0 - 0.5)[:2] == (2, 0)
    with CaptureQueriesContext(connection) as q:
        current, previous, passed = ratelimit.hit("k", 60, T0 + 15)
    assert len(q.captured_queries) == 1
    assert (current, previous, passed) == (1, 2, pytest.approx(0.25))
    assert ratelimit.hit("other", 60, T0 + 15)[:2] == (1, 0)  # buckets are apart


def throttle(ident: str = "addr:10.9.0.1") -> Open311Throttle:
    return Open311Throttle(READ_SCOPE, ident)  # a new object: nothing kept in memory


def ask(t: float, ident: str = "addr:10.9.0.1") -> bool:
    request: Any = RequestFactory().get("/open311/v2/services.json")
    with time_machine.travel(t, tick=False):
        return throttle(ident).allow_request(request, None)  # type: ignore[arg-type]


def test_the_sliding_estimate_refuses_a_burst_across_the_window_edge() -> None:
    # 3 a minute: three at the end of one window...
    assert [ask(T0 - 2 + i * 0.5) for i in range(3)] == [True, True, True]
    # ...and a fourth just past the edge is refused (a fixed window would allow it):
    # 3 × (1 - 0.05) + 1 > 3.
    assert not ask(T0 + 3)
    # Another caller is not held by this one.
    assert ask(T0 + 3, "addr:10.9.0.2")
    # Once a third of the window has passed, the estimate 3 × 2/3 + 1 fits again.
    assert not ask(T0 + 19)
    assert ask(T0 + 21)


def test_refused_requests_are_not_counted_and_wait_is_within_a_window() -> None:
    request: Any = RequestFactory().get("/open311/v2/services.json")
    for i in range(3):
        assert ask(T0 + 10 + i)
    with time_machine.travel(T0 + 20, tick=False):
        t = throttle()
        for _ in range(5):
            assert not t.allow_request(request, None)  # type: ignore[arg-type]
        wait = t.wait()
    row = RateCount.objects.get(
        bucket=f"throttle_{READ_SCOPE}_addr:10.9.0.1:{30_000_000}"
    )
    assert row.hits == 3  # the five refused ones were taken back out
    # The next request fits when this window's 3 have faded to 2: 20 s into the next.
    assert wait == pytest.approx(60)  # 40 s to the edge + 20 s, capped at a window
    assert not ask(T0 + 60 + 19)
    assert ask(T0 + 60 + 21)


def test_the_endpoint_answers_429_from_the_shared_count() -> None:
    here = Client(REMOTE_ADDR="10.9.0.1")
    codes = [here.get("/open311/v2/services.json").status_code for _ in range(2)]
    assert codes == [200, 200]
    # The third request counted elsewhere (another worker process: a new throttle
    # object with nothing in memory) is seen by this one, which refuses the fourth.
    request: Any = RequestFactory().get("/open311/v2/services.json")
    assert throttle().allow_request(request, None)  # type: ignore[arg-type]
    refused = here.get("/open311/v2/services.json")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 61


def test_the_scheduled_job_removes_counts_no_rate_reads() -> None:
    ratelimit.hit("old", 60, T0)  # read until the end of the next window
    ratelimit.hit("new", 60, T0 + 100)
    assert purge_rate_counts.call() == 0  # time.time() is long before T0
    assert ratelimit.purge_expired(now=T0 + 121) == 1
    assert list(RateCount.objects.values_list("bucket", flat=True)) == ["new:30000001"]
    assert any(
        job["task"] == "civicgrid.core.tasks.purge_rate_counts"
        for job in settings.CIVICGRID_SCHEDULE
    )

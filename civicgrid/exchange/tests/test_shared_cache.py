"""The cache is shared by every worker process: request rates counted by one are seen
by another. It lives in the database (Django's database cache), so a new cache
connection, with nothing in this process's memory, sees the same throttle count."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.cache import CacheHandler, cache
from django.core.cache.backends import locmem
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone

from civicgrid.exchange.open311_throttle import READ_SCOPE, Open311Throttle
from civicgrid.exchange.tasks import purge_cache
from civicgrid.exchange.tests.conftest import O311

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def rates(settings: Any) -> Iterator[None]:
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "open311_read": "3/min",
        },
    }
    yield
    cache.clear()


def another_process() -> Any:
    """The default cache as a new worker process would open it: a new handler, and
    nothing kept in this process's memory (a local-memory cache would be empty)."""
    for name in ("_caches", "_expire_info", "_locks"):
        getattr(locmem, name).clear()
    return CacheHandler()["default"]


def test_the_cache_is_the_database_table() -> None:
    default: dict[str, Any] = settings.CACHES["default"]
    assert default["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    table = default["LOCATION"]
    assert table in connection.introspection.table_names()  # made for the test DB


def test_throttle_counts_are_seen_from_a_new_cache_connection(o311: O311) -> None:
    here = Client(REMOTE_ADDR="10.9.0.1")
    codes = [here.get(f"{BASE}/services.json").status_code for _ in range(2)]
    assert codes == [200, 200]

    request: Any = RequestFactory().get(f"{BASE}/services.json", REMOTE_ADDR="10.9.0.1")
    throttle = Open311Throttle(READ_SCOPE, "addr:10.9.0.1")
    throttle.cache = another_process()
    key = throttle.get_cache_key(request, None)
    assert len(throttle.cache.get(key, [])) == 2  # the two reads counted above
    # The third read, counted by the other process:
    assert throttle.allow_request(request, None)  # type: ignore[arg-type]
    # ...so the endpoint, in this process, refuses the fourth.
    assert here.get(f"{BASE}/services.json").status_code == 429
    assert (
        Client(REMOTE_ADDR="10.9.0.2").get(f"{BASE}/services.json").status_code == 200
    )


def test_the_scheduled_job_removes_expired_entries_only() -> None:
    table = connection.ops.quote_name(str(settings.CACHES["default"]["LOCATION"]))

    def rows() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            return int(cursor.fetchone()[0])

    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        cache.set("short", 1, 60)
        cache.set("long", 2, 3600)
        assert rows() == 2
        clock.shift(timedelta(seconds=120))
        assert purge_cache.call() == 1
        assert rows() == 1 and cache.get("long") == 2
        assert purge_cache.call() == 0
    assert any(
        job["task"] == "civicgrid.exchange.tasks.purge_cache"
        for job in settings.CIVICGRID_SCHEDULE
    )

"""The cache is shared by every worker process: it lives in the database (Django's
database cache), and a scheduled job keeps its table small. (Request rates are counted
in a table of their own: civicgrid/core/tests/test_ratelimit.py.)"""

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from civicgrid.exchange.tasks import purge_cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


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

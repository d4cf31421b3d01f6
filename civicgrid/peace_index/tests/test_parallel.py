"""Cities spread over worker processes (``parallel.for_each_city``)."""

import os

import pytest
from django.db import connection

from civicgrid.peace_index.parallel import for_each_city, parallel_possible


def pid_of(city: str) -> tuple[str, int]:
    return city, os.getpid()


def test_workers_fork_on_postgresql_and_keep_the_order() -> None:
    """On PostgreSQL, outside a transaction, the cities run in other processes
    and the results come back in the order of the cities; on SQLite (one writer
    at a time) they run here, one after the other."""
    cities = [f"37{n:02d}" for n in range(1, 9)]
    out = for_each_city(pid_of, cities, workers=2)
    assert [c for c, _pid in out] == cities
    pids = {pid for _c, pid in out}
    if connection.vendor == "postgresql":
        assert os.getpid() not in pids and 1 <= len(pids) <= 2
    else:
        assert pids == {os.getpid()}


@pytest.mark.django_db
def test_inside_a_transaction_the_cities_run_here() -> None:
    """Children could not see the caller's uncommitted rows: no fork then."""
    assert connection.in_atomic_block
    assert not parallel_possible(2, 8)
    out = for_each_city(pid_of, ["3701", "3702"], workers=2)
    assert out == [("3701", os.getpid()), ("3702", os.getpid())]


def test_one_worker_or_one_city_runs_here() -> None:
    assert for_each_city(pid_of, ["3701"], workers=4) == [("3701", os.getpid())]
    assert for_each_city(pid_of, ["3701", "3702"], workers=1) == [
        ("3701", os.getpid()),
        ("3702", os.getpid()),
    ]


def areas_and_pid(city: str) -> tuple[int, int]:
    from civicgrid.regions.models import Region

    return Region.objects.filter(city_code=city).count(), os.getpid()


# committed rows for the workers: a transactional test, its flush kept to this
# app's tables (nothing is written; the session's division tree stays)
@pytest.mark.django_db(transaction=True, available_apps=["civicgrid.peace_index"])
def test_each_worker_queries_on_its_own_connection() -> None:
    """The workers read the database (the session's committed division tree) at
    the same time, each on its own connection (this process's is closed before
    the fork, not shared): the answers are those read here, in the cities' order,
    and this process's connection still works afterwards."""
    from civicgrid.regions.models import Region

    cities = list(
        Region.objects.filter(level="city")
        .order_by("region_code")
        .values_list("region_code", flat=True)
    )
    here = [Region.objects.filter(city_code=c).count() for c in cities]
    out = for_each_city(areas_and_pid, cities, workers=2)
    assert [n for n, _pid in out] == here and sum(here) > 0
    if connection.vendor == "postgresql":
        assert os.getpid() not in {pid for _n, pid in out}
    assert Region.objects.filter(level="city").count() == len(cities)

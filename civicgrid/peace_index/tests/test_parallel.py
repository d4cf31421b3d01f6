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

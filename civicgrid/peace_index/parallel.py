"""Cities in parallel. The cities of a province are independent: each city's month
is its own run, written in its own transaction, and nothing of one city is read
while computing another. A province-wide computation (the monthly job, a
back-fill) can so spread its cities over worker processes, as a task queue with
several workers would.

PostgreSQL only: SQLite has one writer at a time and a month is computed inside
its write transaction, so there the workers would only wait for each other; the
cities then run one after the other in this process. Also in this process: one
worker, one city, or a caller already inside a transaction (the children could
not see its uncommitted rows).
"""

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from django.db import connection, connections

T = TypeVar("T")


def parallel_possible(workers: int, jobs: int) -> bool:
    return (
        workers > 1
        and jobs > 1
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def for_each_city(
    fn: Callable[[str], T], cities: Sequence[str], workers: int = 1
) -> list[T]:
    """``fn(city)`` for every city, the results in the order of ``cities``. With
    ``workers`` > 1 (on PostgreSQL), in that many forked processes, each with its
    own database connection; ``fn`` must be a module-level function (or a
    ``functools.partial`` of one) and return something picklable. The cities are
    handed out one at a time, the largest first if the caller sorts them so."""
    if not parallel_possible(workers, len(cities)):
        return [fn(city) for city in cities]
    # the children must not share this process's connections: close them here,
    # each child opens its own on its first query
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(cities)),
        mp_context=context,
        initializer=connections.close_all,
    ) as pool:
        return list(pool.map(fn, cities))

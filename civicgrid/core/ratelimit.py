"""Request rates counted in the database, one statement a request.

Every worker process must see the same counts, so they live in the database, the
one service the product needs. A rate bucket (a scope and a caller: an address, a
client, a device) counts its requests per fixed window in a row of
``core_ratecount`` keyed by the window's number; one upsert counts the request and
returns the previous window's count with it. DRF's throttles (``WindowRateThrottle``)
judge on the sliding-window estimate ``previous × (share of the window still to come)
+ current``, so a caller cannot double the rate by straddling a window's edge; the
public pages' flood limits (civicgrid.web.ratelimit) count fixed windows.

Before this, the throttles kept DRF's list of request times in Django's database
cache: six statements and a pickled list per request (bench/intake_profile.py).
Expired rows are removed by the scheduled job ``core.tasks.purge_rate_counts``."""

import math
import time
from typing import Any

from django.db import connection
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

_HIT_SQL = (
    "INSERT INTO core_ratecount (bucket, hits, expires) VALUES (%s, 1, %s) "
    "ON CONFLICT (bucket) DO UPDATE SET hits = core_ratecount.hits + 1 "
    "RETURNING hits, (SELECT p.hits FROM core_ratecount p WHERE p.bucket = %s)"
)


def hit(key: str, window: float, now: float | None = None) -> tuple[int, int, float]:
    """Count one request of bucket ``key`` in its window of ``window`` seconds:
    (requests in this window, this one included; requests in the previous window;
    the share of this window already passed, in [0, 1))."""
    now = time.time() if now is None else now
    number = math.floor(now / window)
    with connection.cursor() as cur:
        cur.execute(
            _HIT_SQL,
            [f"{key}:{number}", (number + 2) * window, f"{key}:{number - 1}"],
        )
        row = cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1] or 0), now / window - number


def unhit(key: str, window: float, now: float) -> None:
    """Take one request back out of bucket ``key``'s window (a refused one)."""
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE core_ratecount SET hits = hits - 1 WHERE bucket = %s AND hits > 0",
            [f"{key}:{math.floor(now / window)}"],
        )


def purge_expired(now: float | None = None) -> int:
    """Delete the counts no rate reads any more; the number deleted."""
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM core_ratecount WHERE expires < %s",
            [time.time() if now is None else now],
        )
        return max(cur.rowcount, 0)


class WindowRateThrottle(SimpleRateThrottle):
    """DRF's SimpleRateThrottle (rates, scopes, cache keys, ``wait``) counted by
    ``hit``: allowed while ``previous × (1 - passed) + current ≤ rate``. A refused
    request is taken back out of the count, as DRF does not record refused ones: a
    caller who keeps knocking is let in again as soon as one who stopped would be."""

    num_requests: int  # set by SimpleRateThrottle from the rate
    duration: int
    counts: tuple[int, int, float]  # of the last refused request

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        current, previous, passed = hit(self.key, self.duration, self.now)
        if previous * (1 - passed) + current <= self.num_requests:
            return True
        unhit(self.key, self.duration, self.now)
        self.counts = (current - 1, previous, passed)
        return False

    def wait(self) -> float | None:
        """Seconds until one more request fits the estimate (at most one window)."""
        current, previous, passed = self.counts
        room = self.num_requests - current - 1
        if room >= 0:  # this window's count leaves room once the previous one fades
            t = (1 - passed - room / previous) * self.duration if previous else 0.0
        else:  # only the next window helps, when this one's weight has faded enough
            fade = 1 - (self.num_requests - 1) / current if current else 0.0
            t = (1 - passed + max(fade, 0.0)) * self.duration
        return min(max(t, 0.0), float(self.duration))


class ScopedWindowThrottle(ScopedRateThrottle, WindowRateThrottle):
    """DRF's ScopedRateThrottle (the view's ``throttle_scope``), counted by ``hit``."""

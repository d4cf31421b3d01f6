"""Rate-check and bulk-page benchmark:
``.venv/bin/python bench/cache_bench.py [--rows 1000000] [--database-url URL]``.

A migrated throw-away database (SQLite in a temporary directory, or the empty
PostgreSQL database of ``--database-url``), no demo data. Measured, each a median
over repeats:

(a) one Open311 rate check (civicgrid.core.ratelimit: one upsert in core_ratecount)
    with the table nearly empty and with 20,000 other buckets' counts in it.
    (Results before 2026-11-30 14:00 measured DRF's request log in the database
    cache, which the product no longer uses.)
(b) the bulk page's list of incident-count sources (``exchange.bulk.count_sources``,
    from the log of deliveries) with ``--rows`` monthly counts of one city (3
    sources), for a city, a town and a province-wide user; and the DISTINCT over the
    counts themselves that the page ran before.

Results: ``bench/results/cache-<YYYYMMDD-HHMMSS>.json`` and ``cache-latest.txt``
with the machine description.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import log, timed, write_results  # noqa: E402
from peace_bench import machine_info  # noqa: E402


def throttles(out: dict[str, Any]) -> None:
    from django.test import RequestFactory

    from civicgrid.core import ratelimit
    from civicgrid.core.models import RateCount
    from civicgrid.exchange.open311_throttle import READ_SCOPE, Open311Throttle

    request: Any = RequestFactory().get("/open311/v2/services.json")
    RateCount.objects.all().delete()

    def check(n: list[int]) -> Callable[[], Any]:
        def one() -> Any:
            n[0] += 1
            t = Open311Throttle(READ_SCOPE, f"addr:10.0.{n[0] % 250}.1", "100000/min")
            return t.allow_request(request, None)  # type: ignore[arg-type]

        return one

    out["throttle_check_ms"] = {"few_counts": timed(check([0]), 201) * 1000}
    now = time.time()
    for i in range(20_000):  # other callers' buckets
        ratelimit.hit(f"bench:other:{i}", 60, now)
    out["throttle_check_ms"]["20000_other_buckets"] = timed(check([0]), 201) * 1000
    RateCount.objects.all().delete()
    log(f"(a) one rate check, ms: {out['throttle_check_ms']}")


def sources(out: dict[str, Any], rows: int) -> None:
    from django.db import connection, transaction

    from civicgrid.core.scope import ALL, prefixes_q
    from civicgrid.exchange.bulk import count_sources
    from civicgrid.peace_index.models import CountImport, IndexKind, MonthlyCount

    villages, items, per_source = 3000, 15, rows // 3
    months = max(1, per_source // (villages * items))
    t0 = time.perf_counter()
    with transaction.atomic():
        for source in ("police", "12345", "events"):
            batch = CountImport.objects.create(
                kind=IndexKind.PEACE, source=source, city_code="3703"
            )
            objs = (
                MonthlyCount(
                    kind=IndexKind.PEACE,
                    month=f"{2020 + m // 12}-{m % 12 + 1:02d}",
                    region_code=f"370303{v // 300 + 1:03d}{v % 300 + 1:03d}",
                    city_code="3703",
                    indicator_code=f"I{i:02d}",
                    source=source,
                    count=1,
                    batch=batch,
                )
                for m in range(months)
                for v in range(villages)
                for i in range(items)
            )
            MonthlyCount.objects.bulk_create(objs, batch_size=10_000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE peace_index_monthlycount")
    stored = MonthlyCount.objects.count()
    log(f"(b) {stored} monthly counts written in {time.perf_counter() - t0:.0f} s")
    out["monthly_counts"] = stored
    out["count_sources_ms"] = {
        name: timed(partial(count_sources, scope), 5) * 1000
        for name, scope in {
            "city_3703": ["3703"],
            "town_370303001": ["370303001"],
            "province": [ALL],
        }.items()
    }
    log(f"(b) count_sources, ms: {out['count_sources_ms']}")

    def distinct_over_counts(scope: list[str]) -> list[str]:
        """What the page did before: a DISTINCT over the counts themselves."""
        return sorted(
            set(
                MonthlyCount.objects.filter(prefixes_q(scope), kind=IndexKind.PEACE)
                .values_list("source", flat=True)
                .distinct()
            )
        )

    out["distinct_over_counts_ms"] = {
        name: timed(partial(distinct_over_counts, scope), 5) * 1000
        for name, scope in {"city_3703": ["3703"], "province": [ALL]}.items()
    }
    log(f"(b) before, DISTINCT over the counts, ms: {out['distinct_over_counts_ms']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--only", choices=["throttles", "sources"], default="")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine_info()}
    with tempfile.TemporaryDirectory(prefix="cache-bench-") as var:
        os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
        os.environ["CIVICGRID_VAR_DIR"] = var
        if args.database_url:
            os.environ["DATABASE_URL"] = args.database_url
        else:
            os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        report["database"] = connection.vendor
        log(f"database: {connection.vendor}")
        results: dict[str, Any] = {}
        if args.only != "sources":
            throttles(results)
        if args.only != "throttles":
            sources(results, args.rows)
        report["results"] = results
    write_results("cache", report, tag=report["database"])


if __name__ == "__main__":
    main()

"""Page speed benchmark: ``.venv/bin/python bench/pages_bench.py [--events 300] [--runs 40]``.

A temporary SQLite database with the product's demo (``civicgrid.web.demo.load_demo``:
the real Shandong division tree, 淄博's demo grids, demo accounts and events) plus
``--events`` SYNTHETIC citizen reports (fixed seed) in 张店区's demo grids, a third
of them accepted and some dispatched, so that the lists have pages to paginate.

``--households`` SYNTHETIC households (three members each, two visits each) are
registered in the demo grid worker's grid for the app's household pages.

Every page people use daily is asked ``--runs`` times (after 3 warm-up requests)
through Django's test client as the demo account that uses it (in process: the
server's HTML time without network): p50 and p95 in ms against the goal of 200 ms
p95. For each page the static assets it loads (scripts, style sheets, icons, the
manifest) are found with the static files finders and added up (uncompressed bytes),
against the goal of at most 1.5 MB. The admin's coverage map of the whole city is
measured too (fewer runs: its coverage check is the slow part), outside the goal of
daily pages, with the size of its map data before (grid-by-grid, spaced JSON) and
after (the city overview: one outline drawing, compact JSON). Results: ``bench/results/pages-<stamp>.json``
and ``pages-latest.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from locate_bench import setup_django  # noqa: E402
from peace_bench import machine_info  # noqa: E402

GOAL_P95_MS = 200.0
GOAL_ASSET_BYTES = 1_500_000
ASSET = re.compile(r'<(?:script[^>]+src|link[^>]+href)="(/static/[^"]+)"')


def log(msg: str = "") -> None:
    print(msg, flush=True)


def add_events(n: int, seed: int) -> None:
    """SYNTHETIC reports at random points of 张店区's grids; some moved along."""
    from civicgrid.accounts.models import Department, User
    from civicgrid.events.engine import event_act
    from civicgrid.events.models import Source
    from civicgrid.events.services import event_report
    from civicgrid.regions.models import Grid

    rng = random.Random(seed)
    grids = list(Grid.objects.filter(region_code__startswith="370303001"))
    center = User.objects.get(username="town_a")
    department = Department.objects.filter(region_code__startswith="370303").first()
    for i in range(n):
        p = rng.choice(grids).geometry.representative_point()
        event, _created = event_report(
            actor=None,
            source=Source.CITIZEN_WEB,
            title=f"测试事件 {i}",
            description="基准测试生成的事件",
            lon=p.x,
            lat=p.y,
        )
        if i % 3 == 0:
            event = event_act(
                actor=center, event_id=event.pk, transition="accept", version=1
            )
            if i % 2 == 0 and department is not None:
                event_act(
                    actor=center,
                    event_id=event.pk,
                    transition="dispatch",
                    version=event.version,
                    data={"lead_department": department.pk},
                )


def add_households(n: int, seed: int) -> int:
    """SYNTHETIC households in the demo grid worker's grid; returns one's id."""
    from datetime import timedelta

    from django.utils import timezone

    from civicgrid.accounts.models import StaffPost
    from civicgrid.registry.models import SpecialGroup
    from civicgrid.registry.services import household_collect, visit_record

    rng = random.Random(seed)
    post = StaffPost.objects.select_related("grid", "user").get(
        user__username="gridworker", grid__isnull=False
    )
    groups = list(SpecialGroup.values)
    first = 0
    for i in range(n):
        collection, _ = household_collect(
            actor=post.user,
            grid=post.grid,
            fields={"address": f"测试小区{i // 12 + 1}号楼{i % 12 + 1:02d}室"},
            persons=[
                {
                    "name": f"测试{i}{m}",
                    "relation": "head" if m == 0 else "child",
                    "phone": f"1380000{i:04d}",
                    "groups": rng.sample(groups, rng.choice((0, 0, 1))),
                }
                for m in range(3)
            ],
        )
        for d in (3, 40):
            visit_record(
                actor=post.user,
                household=collection.household,
                visited_at=timezone.now() - timedelta(days=d + i % 7),
                notes="基准测试走访",
            )
        first = first or collection.household_id
    return first


def pages(household: int) -> list[tuple[str, str | None, str]]:
    """(name, demo account or None for anonymous, URL)."""
    from civicgrid.events.models import Event

    event = Event.objects.filter(region_code__startswith="370303001").order_by("id")[0]
    return [
        ("workbench home (center)", "town_a", "/workbench/"),
        ("workbench all, 50/page", "town_a", "/workbench/?tab=all"),
        ("workbench all, 100/page", "town_a", "/workbench/?tab=all&size=100"),
        ("workbench overdue", "zibo_center", "/workbench/?tab=overdue"),
        ("workbench to sign (department)", "dept_urban", "/workbench/?tab=to_sign"),
        ("workbench export .xlsx", "town_a", "/workbench/?tab=all&export=xlsx"),
        ("event detail", "town_a", f"/workbench/events/{event.code}/"),
        ("citizen report", None, "/report/"),
        (
            "citizen track",
            None,
            f"/report/track/?code={event.code}&token={event.tracking_token}",
        ),
        ("grid worker app", "gridworker", "/app/"),
        ("app: my households", "gridworker", "/app/households/"),
        ("app: household detail", "gridworker", f"/app/households/{household}/"),
        ("leadership dashboard", "zibo_leader", "/dashboard/"),
        (
            "dashboard live counts",
            "zibo_leader",
            "/dashboard/areas/370300000000/live/",
        ),
        (
            "dashboard county figures",
            "zibo_leader",
            "/dashboard/areas/370303000000/",
        ),
        ("peace index (public)", None, "/peace-index/"),
    ]


# Back-office pages measured beside the daily ones (not held to the p95 goal).
ADMIN_PAGES = [
    (
        "admin coverage map, county",
        "admin",
        "/admin/regions/region/370303000000/coverage/",
    ),
    (
        "admin coverage map, city",
        "admin",
        "/admin/regions/region/370300000000/coverage/",
    ),
]


def coverage_map_sizes() -> dict[str, Any]:
    """The city's coverage map data in bytes: before (every grid a feature, JSON
    with spaces: what the page sent until the overview) and after."""
    from django.utils.html import json_script

    from civicgrid.regions import coverage
    from civicgrid.regions.models import Region

    city = Region.objects.get(code="370300000000")
    report = coverage.check_coverage(city)
    after = coverage.coverage_map_data(city, report)
    limit = coverage.OVERVIEW_GRIDS
    coverage.OVERVIEW_GRIDS = 10**9
    try:
        before = coverage.coverage_map_data(city, report)
    finally:
        coverage.OVERVIEW_GRIDS = limit
    return {
        "grids": report.grid_count,
        "before_bytes": len(json_script(before, "coverage-data")),
        "after_bytes": len(
            json_script(after, "coverage-data", encoder=coverage.CompactJSONEncoder)
        ),
    }


def asset_bytes(html: str) -> tuple[int, list[str]]:
    from django.conf import settings
    from django.contrib.staticfiles import finders

    urls = sorted(set(ASSET.findall(html)))
    total = 0
    for url in urls:
        found = finders.find(url.split(settings.STATIC_URL.rstrip("/") + "/", 1)[1])
        if isinstance(found, str):
            total += Path(found).stat().st_size
    return total, urls


def measure(runs: int, household: int, admin_runs: int) -> list[dict[str, Any]]:
    from django.test import Client

    from civicgrid.accounts.models import User

    rows = []
    todo = [(*p, runs, True) for p in pages(household)]
    todo += [(*p, admin_runs, False) for p in ADMIN_PAGES]
    for name, username, url, n, daily in todo:
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        times = []
        for i in range(n + 3):
            t0 = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status_code not in (200,):
                raise SystemExit(f"{url}: HTTP {response.status_code}")
            if i >= 3:
                times.append(elapsed)
        body = response.content
        html = body.decode("utf-8", "replace") if b"<html" in body[:200] else ""
        assets, urls = asset_bytes(html) if html else (0, [])
        times.sort()
        rows.append(
            {
                "page": name,
                "url": url,
                "as": username or "anonymous",
                "daily": daily,
                "runs": n,
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "max_ms": round(times[-1], 1),
                "html": bool(html),
                "body_bytes": len(body),
                "asset_bytes": assets,
                "assets": urls,
            }
        )
        log(
            f"  {name:34} p50 {rows[-1]['p50_ms']:7.1f} ms  p95 "
            f"{rows[-1]['p95_ms']:7.1f} ms  body {len(body) / 1024:7.1f} KiB  "
            f"assets {assets / 1024:7.1f} KiB"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--households", type=int, default=120)
    parser.add_argument("--admin-runs", type=int, default=5)
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": machine_info(), "args": vars(args)}
    # Other work on the machine skews the figures: record how busy it was.
    out["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="pages-bench-") as tmp:
        setup_django(Path(tmp))
        from django.conf import settings
        from django.core.management import call_command

        # The flood limits would answer 429 to a benchmark: lift them here only.
        limit = {
            "window": 60,
            "per_device": 10**9,
            "per_address": 10**9,
            "per_address_without_device": 10**9,
        }
        settings.CIVICGRID_PUBLIC_LIMITS = {
            k: limit for k in ("report", "track", "rate")
        }
        from civicgrid.events.models import Event
        from civicgrid.web.demo import load_demo

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        load_demo()
        add_events(args.events, args.seed)
        household = add_households(args.households, args.seed)
        out["setup_s"] = round(time.perf_counter() - t0, 1)
        out["events"] = Event.objects.count()
        log(f"demo loaded in {out['setup_s']} s, {out['events']} events")
        out["database"] = "SQLite (temporary file)"
        out["pages"] = measure(args.runs, household, args.admin_runs)
        out["coverage_map"] = coverage_map_sizes()
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    # The goal is on HTML pages; downloads and JSON/fragments are reported too.
    daily = [r for r in out["pages"] if r["daily"]]
    worst = max(r["p95_ms"] for r in daily if r["html"])
    heaviest = max(r["asset_bytes"] for r in daily)
    out["summary"] = {
        "worst_p95_ms": worst,
        "goal_p95_ms": GOAL_P95_MS,
        "p95_goal_met": worst < GOAL_P95_MS,
        "heaviest_assets_bytes": heaviest,
        "goal_asset_bytes": GOAL_ASSET_BYTES,
        "asset_goal_met": heaviest <= GOAL_ASSET_BYTES,
    }
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"pages-{stamp}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1))
    lines = [
        f"pages bench {stamp} ({out['machine']['cpu_model']}, "
        f"{out['machine']['cores_usable']} cores), {out['events']} events, "
        f"{args.runs} runs/page, load average {out['load_average_before'][0]} before "
        f"and {out['load_average_after'][0]} after",
        *(
            f"{r['page']:34} p95 {r['p95_ms']:7.1f} ms  assets "
            f"{r['asset_bytes'] / 1024:7.1f} KiB  body {r['body_bytes'] / 1024:7.1f} KiB"
            for r in out["pages"]
        ),
        f"worst daily HTML page p95 {worst} ms (goal < {GOAL_P95_MS:.0f}); heaviest "
        f"assets {heaviest / 1e6:.2f} MB (goal <= 1.5 MB)",
        "city coverage map data ({grids} grids): {before_bytes} bytes before, "
        "{after_bytes} after".format(**out["coverage_map"]),
    ]
    (RESULTS_DIR / "pages-latest.txt").write_text("\n".join(lines) + "\n")
    log("\n".join(lines))
    log(f"written {path}")


if __name__ == "__main__":
    main()

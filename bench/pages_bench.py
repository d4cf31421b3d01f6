"""Page speed benchmark: ``.venv/bin/python bench/pages_bench.py [--events 300] [--runs 40]``.

A temporary SQLite database with the product's demo (``civicgrid.web.demo.load_demo``:
the real Shandong division tree, 淄博's demo grids, demo accounts and events) plus
``--events`` SYNTHETIC citizen reports (fixed seed) in 张店区's demo grids, a third
of them accepted and some dispatched, so that the lists have pages to paginate.

Every page people use daily is asked ``--runs`` times (after 3 warm-up requests)
through Django's test client as the demo account that uses it (in process: the
server's HTML time without network): p50 and p95 in ms against the goal of 200 ms
p95. For each page the static assets it loads (scripts, style sheets, icons, the
manifest) are found with the static files finders and added up (uncompressed bytes),
against the goal of at most 1.5 MB. Results: ``bench/results/pages-<stamp>.json``
and ``pages-latest.txt``.
"""

from __future__ import annotations

import argparse
import json
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


def pages() -> list[tuple[str, str | None, str]]:
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


def measure(runs: int) -> list[dict[str, Any]]:
    from django.test import Client

    from civicgrid.accounts.models import User

    rows = []
    for name, username, url in pages():
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        times = []
        for i in range(runs + 3):
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
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": machine_info(), "args": vars(args)}
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
        out["setup_s"] = round(time.perf_counter() - t0, 1)
        out["events"] = Event.objects.count()
        log(f"demo loaded in {out['setup_s']} s, {out['events']} events")
        out["database"] = "SQLite (temporary file)"
        out["pages"] = measure(args.runs)
    # The goal is on HTML pages; downloads and JSON/fragments are reported too.
    worst = max(r["p95_ms"] for r in out["pages"] if r["html"])
    heaviest = max(r["asset_bytes"] for r in out["pages"])
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
        f"{args.runs} runs/page",
        *(
            f"{r['page']:34} p95 {r['p95_ms']:7.1f} ms  assets "
            f"{r['asset_bytes'] / 1024:7.1f} KiB"
            for r in out["pages"]
        ),
        f"worst HTML page p95 {worst} ms (goal < {GOAL_P95_MS:.0f}); heaviest assets "
        f"{heaviest / 1e6:.2f} MB (goal <= 1.5 MB)",
    ]
    (RESULTS_DIR / "pages-latest.txt").write_text("\n".join(lines) + "\n")
    log("\n".join(lines))
    log(f"written {path}")


if __name__ == "__main__":
    main()

"""Where the time of one report goes: ``.venv/bin/python bench/intake_profile.py``.

In one process (Django's test client, the benchmark's settings and URLs, a private
PostgreSQL 15 prepared as ``intake_bench.py`` does), one client at a time: wall and
CPU time per report of the whole request and of each step of the intake path, the
SQL statements of one report, and the same for the ceiling endpoint. ``--code-root``
profiles another checkout of the product (e.g. an older commit, unpacked with
``git archive``) against the same database set-up, for before/after figures.
Results: ``bench/results/intake-profile-<YYYYMMDD-HHMMSS>[-tag].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from _pg import PostGISServer
from intake_bench import RESULTS_DIR, ROOT, log, prepare_database, server_env
from locate_bench import machine_info

# Run inside the prepared environment: times the steps by wrapping them.
PROBE = r"""
import collections, functools, json, random, sys, time
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
import intake_bench as ib

N = int(sys.argv[1])
points = [tuple(p) for p in json.loads(sys.argv[2])]
W, C = collections.defaultdict(float), collections.defaultdict(float)

def timed(name, f):
    @functools.wraps(f)
    def g(*a, **k):
        t, c = time.perf_counter(), time.process_time()
        try:
            return f(*a, **k)
        finally:
            W[name] += time.perf_counter() - t
            C[name] += time.process_time() - c
    return g

from civicgrid.events import api, services
from civicgrid.events.models import Event, EventAction
from civicgrid.regions.locate import locator
steps = [
    (api, "report", "api: the whole view"),
    (api.EventIn, "is_valid", "api: request validation"),
    (services, "event_report", "service: event_report"),
    (services, "next_event_code", "service: event code (counter)"),
    (services, "route_text", "service: routing"),
    (services, "workflow_for_city", "service: workflow"),
    (services, "audit_record", "service: audit row (chain)"),
    (locator, "refresh", "service: grid index versions"),
    (locator, "locate", "service: locate"),
    (locator, "locate_grid", "service: locate"),
]
try:
    from civicgrid.events import config
    steps += [(config, "read_versions", "service: versions (grids, config)"),
              (config, "current", "service: configuration copy")]
except ImportError:
    pass
try:
    from civicgrid.exchange import webhooks
    steps.append((webhooks, "enqueue", "after commit: webhook lookup (exchange)"))
except ImportError:
    pass
for obj, attr, name in steps:
    if hasattr(obj, attr):
        setattr(obj, attr, timed(name, getattr(obj, attr)))
if hasattr(services, "insert"):  # core.inserts: wrapping Model.save would bypass it
    services.insert = timed("service: INSERT event, timeline row", services.insert)
else:
    Event.save = timed("service: INSERT event", Event.save)
    EventAction.save = timed("service: INSERT timeline row", EventAction.save)

rng = random.Random(7)
client = Client(REMOTE_ADDR="127.0.0.1")

def post(path):
    r = client.post(path, ib.body_for(rng, points), content_type="application/json")
    assert r.status_code == 201, r.content[:300]

def measure(path):
    W.clear(); C.clear()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(N):
        post(path)
    return {"wall_ms": (time.perf_counter() - t) / N * 1e3,
            "cpu_ms": (time.process_time() - c) / N * 1e3}

for _ in range(30):
    post(ib.CEILING); post(ib.INTAKE)
out = {"ceiling": measure(ib.CEILING)}
with CaptureQueriesContext(connection) as q:
    post(ib.INTAKE)
out["statements"] = [x["sql"][:160] for x in q.captured_queries]
out["intake"] = measure(ib.INTAKE)
if len(sys.argv) > 3:  # a cProfile of the intake requests, functions by own CPU
    import cProfile, io, pstats
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    for _ in range(N):
        post(ib.INTAKE)
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats(sys.argv[3]).print_stats(int(sys.argv[4]))
    out["cprofile"] = buf.getvalue()
out["steps"] = {k: {"wall_ms": W[k] / N * 1e3, "cpu_ms": C[k] / N * 1e3}
                for k in sorted(W, key=lambda k: -W[k])}
print(json.dumps(out))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Per-step profile of the intake path.")
    ap.add_argument("--reports", type=int, default=500)
    ap.add_argument("--code-root", type=Path, default=ROOT)
    ap.add_argument("--tag", default="")
    ap.add_argument(
        "--cprofile",
        default="",
        help="also print a cProfile of the intake sorted by this key (tottime, cumtime)",
    )
    ap.add_argument("--top", type=int, default=60, help="cProfile rows printed")
    ap.add_argument("--results", type=Path, default=RESULTS_DIR)
    args = ap.parse_args(argv)
    code_root = args.code_root.resolve()
    var_dir = Path(tempfile.mkdtemp(prefix="intake-profile-"))
    try:
        with PostGISServer(0) as pg:
            with pg.connect() as conn:
                conn.execute("CREATE DATABASE intake")
            env = server_env(
                f"postgres://bench@127.0.0.1:{pg.port}/intake", var_dir, code_root
            )
            log(f"== set-up ({code_root})")
            points = prepare_database(env, 200, cwd=code_root)
            log(f"== {args.reports} reports, one at a time")
            out = subprocess.run(  # noqa: S603
                [sys.executable, "-c", PROBE, str(args.reports), json.dumps(points)]
                + ([args.cprofile, str(args.top)] if args.cprofile else []),
                env=env,
                cwd=code_root,
                check=True,
                capture_output=True,
                text=True,
            )
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["machine"] = machine_info()
    result["machine"]["load_avg_end"] = [round(v, 2) for v in os.getloadavg()]
    result["code_root"] = str(code_root)
    result["reports"] = args.reports
    lines = [
        f"ceiling: wall {result['ceiling']['wall_ms']:.2f} ms, "
        f"CPU {result['ceiling']['cpu_ms']:.2f} ms per request",
        f"intake:  wall {result['intake']['wall_ms']:.2f} ms, "
        f"CPU {result['intake']['cpu_ms']:.2f} ms per report, "
        f"{len(result['statements'])} SQL statements",
        f"{'step':44} {'wall ms':>8} {'CPU ms':>8}",
    ]
    lines += [
        f"{k:44} {v['wall_ms']:8.3f} {v['cpu_ms']:8.3f}"
        for k, v in result["steps"].items()
    ]
    lines += ["statements:"] + [f"  {s}" for s in result["statements"]]
    if "cprofile" in result:
        lines += ["", result["cprofile"]]
    result["summary_text"] = "\n".join(lines) + "\n"
    log(result["summary_text"])
    args.results.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.tag}" if args.tag else ""
    path = args.results / f"intake-profile-{datetime.now():%Y%m%d-%H%M%S}{suffix}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    log(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

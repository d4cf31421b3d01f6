"""Event intake benchmark: ``.venv/bin/python bench/intake_bench.py``.

Over HTTP against PostgreSQL, at 1, 16 and 32 concurrent clients: events/s and
p50/p99 latency of the whole intake path — a citizen's report to
``/api/v1/public/reports/`` (validate, locate in 淄博's grids, route the text to a
matter, encrypt the reporter's phone, write the event, its first timeline row and
its audit record) — and, in the same run through the same server, middleware and
database, the ceiling: a minimal Django endpoint that parses a JSON body and inserts
one row (``bench/intake_urls.py``), and the floor of the intake's writes: an
endpoint that writes the three rows a report needs (event, timeline row, audit row
chained under an advisory lock) by hand-written SQL and does nothing else — what the
intake could reach if all its other work (validation, locate, routing, encryption,
the ORM) were free.

A private PostgreSQL 15 (``_pg.py``) and a multi-process WSGI server (gunicorn, sync
workers: how the product is deployed) are started here on 127.0.0.1 and stopped at
the end; the client is a pool of threads in this process, one HTTP request at a time
each. Results go to ``bench/results/intake-<YYYYMMDD-HHMMSS>.json`` and
``intake-latest.txt`` with the machine description.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from _pg import PG_BIN, PostGISServer, free_port  # bench/_pg.py, next to this script
from locate_bench import machine_info, machine_line

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS_DIR = BENCH / "results"
SHARED_DATA = ROOT.parent / "shared" / "data"
CITY = "3703"
INTAKE = "/api/v1/public/reports/"
CEILING = "/bench/ceiling/"
FLOOR = "/bench/floor/"
ENDPOINTS = (("ceiling", CEILING), ("floor", FLOOR), ("intake", INTAKE))
GOAL_SHARE_AT_16 = 0.60
GOAL_P99_MS = 100.0
# Reports as citizens write them; most name a matter of the default catalogue.
TEXTS = [
    ("路边有人占道经营", "人行道被流动摊贩占满，行人只能走机动车道"),
    ("小区垃圾清运不及时", "垃圾桶满溢三天无人清理，气味很大"),
    ("工地夜间施工噪音扰民", "晚上十一点后还在施工，影响休息"),
    ("楼道堆放杂物存在消防隐患", "楼道里堆满纸箱和电动车，堵塞消防通道"),
    ("路灯不亮", "小区门口路灯坏了一周，晚上很黑"),
    ("井盖缺失", "路口井盖丢失，容易发生危险"),
    ("餐馆油烟污染", "楼下饭店油烟直排，家里窗户不敢开"),
    ("邻里纠纷", "楼上漏水和邻居协商不成，希望调解"),
    ("违章搭建", "小区内有人私自搭建棚子"),
    ("车辆乱停乱放", "人行道上停满汽车，堵塞盲道"),
]


def log(msg: str = "") -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------------ set-up


def server_env(db_url: str, var_dir: Path, code_root: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="intake_settings",
        CIVICGRID_VAR_DIR=str(var_dir),
        CIVICGRID_DEBUG="0",
        CIVICGRID_LOG_LEVEL="WARNING",
        # The public endpoint is rate-limited per address: not the subject here, but
        # its bookkeeping is part of every report. Each client has its own address
        # (client_address) and a one-second window, so that an address's history
        # stays as short as a citizen's under the real limit (30 an hour).
        CIVICGRID_PUBLIC_REPORT_RATE="100000000/s",
        PYTHONPATH=os.pathsep.join([str(BENCH), str(code_root)]),
    )
    return env


def prepare_database(
    env: dict[str, str], points: int, cwd: Path = ROOT
) -> list[tuple[float, float]]:
    """Migrate, load the division tree, 淄博's demo grids, the workflows and the
    catalogue (the product's own commands and services), create the ceiling's table;
    return points inside the grids to report at."""
    code = f"""
import json, random, sys
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from civicgrid.events.catalogue import catalogue_load_default
from civicgrid.events.services import workflow_install_shipped
from civicgrid.regions.demo_grids import DEMO_BOUNDARIES, generate_city_grids
from civicgrid.regions.divisions import import_divisions
from civicgrid.regions.models import Grid
from intake_urls import FLOOR_DDL
from pathlib import Path
call_command("migrate", verbosity=0)
import_divisions(Path({str(SHARED_DATA / "admin_divisions_shandong")!r}), province="37")
generate_city_grids({CITY!r}, DEMO_BOUNDARIES)
workflow_install_shipped()
catalogue_load_default(actor=None)
with connection.cursor() as c:
    c.execute("CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, "
              "at timestamptz NOT NULL, title varchar(200) NOT NULL)")
    for ddl in FLOOR_DDL:
        c.execute(ddl)
grids = list(Grid.objects.filter(city_code={CITY!r}).order_by("code"))
rng = random.Random(20261130)
pts = []
for g in rng.sample(grids, min({points}, len(grids))):
    p = g.geometry.representative_point()
    pts.append((p.x, p.y))
print(json.dumps({{"grids": len(grids), "points": pts}}))
"""
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"  {data['grids']} grids of {CITY}; {len(data['points'])} report points")
    return [tuple(p) for p in data["points"]]


class Gunicorn:
    """``gunicorn civicgrid.wsgi`` on 127.0.0.1 with the bench settings."""

    def __init__(self, env: dict[str, str], workers: int, cwd: Path = ROOT) -> None:
        self.port = free_port()
        self.env, self.workers, self.cwd = env, workers, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        exe = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(  # noqa: S603
            [
                str(exe),
                "civicgrid.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.workers}",
                "--worker-class=sync",
                "--backlog=256",
                "--log-level=warning",
            ],
            env=self.env,
            cwd=self.cwd,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


# ------------------------------------------------------------------------- load


def body_for(rng: random.Random, points: list[tuple[float, float]]) -> bytes:
    title, description = rng.choice(TEXTS)
    lon, lat = rng.choice(points)
    return json.dumps(
        {
            "title": title,
            "description": description,
            "lon": lon,
            "lat": lat,
            "reporter_phone": f"139{rng.randrange(10**8):08d}",
        },
        ensure_ascii=False,
    ).encode()


def client_address(i: int) -> str:
    """A loopback source address of its own for client ``i`` (127.0.0.0/8 is all
    local on Linux), as citizens come from many addresses."""
    return f"127.0.{1 + i // 250}.{2 + i % 250}"


def run_level(
    port: int,
    path: str,
    clients: int,
    seconds: float,
    points: list[tuple[float, float]],
) -> dict[str, Any]:
    """``clients`` threads POST one request after another for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[list[str]] = [[] for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        rng = random.Random(i * 7919 + clients)
        start.wait()
        while time.perf_counter() < stop_at[0]:
            data = body_for(rng, points)
            t0 = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=60, source_address=(client_address(i), 0)
                )
                conn.request("POST", path, data, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                conn.close()
            except OSError as exc:
                errors[i].append(type(exc).__name__)
                continue
            dt = time.perf_counter() - t0
            if resp.status == 201:
                latencies[i].append(dt)
            else:
                errors[i].append(str(resp.status))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lat = sorted(x for per in latencies for x in per)
    errs = [e for per in errors for e in per]
    if not lat:
        raise RuntimeError(f"{path} at {clients}: no request succeeded ({errs[:5]})")
    return {
        "clients": clients,
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
        "seconds": round(elapsed, 2),
        "ok": len(lat),
        "errors": len(errs),
        "error_kinds": sorted(set(errs)),
        "per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 2),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2),
        "max_ms": round(lat[-1] * 1000, 2),
    }


def check_written(pg: PostGISServer, expected_events: int) -> dict[str, Any]:
    """Every accepted report wrote its event, one timeline row and an audit record."""
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=pg.port, user="bench", dbname="intake"
    ) as conn:
        q = conn.execute
        events = q("SELECT count(*) FROM events_event").fetchone()[0]  # type: ignore[index]
        actions = q("SELECT count(*) FROM events_eventaction").fetchone()[0]  # type: ignore[index]
        audits = q(
            "SELECT count(*) FROM core_auditrecord WHERE action = 'event.report'"
        ).fetchone()[0]  # type: ignore[index]
        routed = q(
            "SELECT count(*) FROM events_event WHERE matter_id IS NOT NULL"
        ).fetchone()[0]  # type: ignore[index]
    return {
        "events": events,
        "expected_events": expected_events,
        "timeline_rows": actions,
        "audit_records": audits,
        "routed_to_a_matter": routed,
        "consistent": events == expected_events == actions == audits,
    }


# ---------------------------------------------------------------------- results


def summary_text(r: dict[str, Any]) -> str:
    lines = [
        "Event intake over HTTP (gunicorn "
        f"{r['config']['workers']} sync workers, PostgreSQL {r['postgres']}), "
        f"{r['config']['seconds']} s per level",
        machine_line(r["machine"]),
        "",
        f"{'clients':>7} | {'ceiling /s':>10} {'p50':>7} {'p99':>7} | "
        f"{'floor /s':>9} {'p50':>7} {'p99':>7} | "
        f"{'intake /s':>9} {'p50':>7} {'p99':>7} | share | of floor",
    ]
    for c, f, i in zip(r["ceiling"], r["floor"], r["intake"], strict=True):
        lines.append(
            f"{c['clients']:>7} | {c['per_s']:>10.1f} {c['p50_ms']:>7.1f} "
            f"{c['p99_ms']:>7.1f} | {f['per_s']:>9.1f} {f['p50_ms']:>7.1f} "
            f"{f['p99_ms']:>7.1f} | {i['per_s']:>9.1f} {i['p50_ms']:>7.1f} "
            f"{i['p99_ms']:>7.1f} | {i['per_s'] / c['per_s']:>5.0%} | "
            f"{i['per_s'] / f['per_s']:>8.0%}"
        )
    g = r["goals"]
    lines += [
        "(latencies in ms; share: intake / ceiling; errors: "
        f"{sum(x['errors'] for x in r['ceiling'] + r['floor'] + r['intake'])})",
        f"goal intake >= {GOAL_SHARE_AT_16:.0%} of the ceiling at 16 clients: "
        f"{g['share_at_16']:.0%} -> {'met' if g['share_met'] else 'NOT met'}",
        f"goal intake p99 < {GOAL_P99_MS:.0f} ms at 16 clients: "
        f"{g['p99_at_16_ms']:.1f} ms -> {'met' if g['p99_met'] else 'NOT met'}",
        f"written: {r['written']}",
    ]
    return "\n".join(lines) + "\n"


def write_results(results_dir: Path, report: dict[str, Any], tag: str = "") -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    text = summary_text(report)
    report["summary_text"] = text
    suffix = f"-{tag}" if tag else ""
    path = results_dir / f"intake-{datetime.now():%Y%m%d-%H%M%S}{suffix}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    (results_dir / "intake-latest.txt").write_text(text)
    log("\n" + text)
    log(f"written: {path} and {results_dir / 'intake-latest.txt'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Event intake benchmark over HTTP.")
    ap.add_argument("--clients", default="1,16,32", help="concurrency levels")
    ap.add_argument("--seconds", type=float, default=15.0, help="per level")
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    ap.add_argument("--points", type=int, default=500, help="report places")
    ap.add_argument("--pg-port", type=int, default=0, help="0: any free port")
    ap.add_argument("--results", type=Path, default=RESULTS_DIR)
    ap.add_argument("--tag", default="", help="appended to the result file's name")
    ap.add_argument(
        "--code-root",
        type=Path,
        default=ROOT,
        help="the product checkout to serve (e.g. an older commit from git archive)",
    )
    args = ap.parse_args(argv)
    if not (PG_BIN / "initdb").exists():
        log(f"PostgreSQL 15 binaries not found in {PG_BIN}: nothing measured")
        return 1
    levels = [int(x) for x in args.clients.split(",")]
    report: dict[str, Any] = {"machine": machine_info()}
    t_start = time.perf_counter()
    var_dir = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        with PostGISServer(args.pg_port) as pg:
            with pg.connect() as conn:
                conn.execute("CREATE DATABASE intake")
                report["postgres"] = str(
                    conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
                )
            code_root = args.code_root.resolve()
            env = server_env(
                f"postgres://bench@127.0.0.1:{pg.port}/intake", var_dir, code_root
            )
            log(f"== set-up of {code_root}: migrate, divisions, grids, catalogue")
            points = prepare_database(env, args.points, cwd=code_root)
            with Gunicorn(env, args.workers, cwd=code_root) as server:
                log(f"== gunicorn on :{server.port}, {args.workers} workers; warm-up")
                run_level(server.port, CEILING, 4, 3.0, points)
                run_level(server.port, FLOOR, 4, 3.0, points)
                warm = run_level(server.port, INTAKE, 4, 3.0, points)
                for name, _ in ENDPOINTS:
                    report[name] = []
                for n in levels:  # side by side at each level: the same conditions
                    for name, path in ENDPOINTS:
                        r = run_level(server.port, path, n, args.seconds, points)
                        report[name].append(r)
                        log(
                            f"  {name:>7} {n:>2} clients: {r['per_s']:>7.1f}/s "
                            f"p50 {r['p50_ms']:.1f} ms p99 {r['p99_ms']:.1f} ms "
                            f"errors {r['errors']}"
                        )
            accepted = warm["ok"] + sum(r["ok"] for r in report["intake"])
            report["written"] = check_written(pg, accepted)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    report["machine"]["load_avg_end"] = [round(v, 2) for v in os.getloadavg()]
    report["config"] = {
        "workers": args.workers,
        "seconds": args.seconds,
        "clients": levels,
        "intake": INTAKE,
        "ceiling": CEILING,
        "floor": FLOOR,
    }
    at16 = {r["clients"]: r for r in report["intake"]}.get(16)
    c16 = {r["clients"]: r for r in report["ceiling"]}.get(16)
    if at16 and c16:
        share = at16["per_s"] / c16["per_s"]
        report["goals"] = {
            "share_at_16": round(share, 3),
            "share_met": share >= GOAL_SHARE_AT_16,
            "p99_at_16_ms": at16["p99_ms"],
            "p99_met": at16["p99_ms"] < GOAL_P99_MS,
        }
    report["total_runtime_s"] = round(time.perf_counter() - t_start, 1)
    report["config"]["tag"] = args.tag
    report["config"]["code_root"] = str(args.code_root.resolve())
    write_results(args.results, report, args.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())

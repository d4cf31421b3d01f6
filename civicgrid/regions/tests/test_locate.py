"""Locate: the API, the in-process index, real county polygons, and other processes."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient
from shapely.geometry import box, shape

from civicgrid.conftest import shared_data
from civicgrid.regions import services
from civicgrid.regions.crs import CRS, from_wgs84
from civicgrid.regions.geometry import PRECISION
from civicgrid.regions.locate import locate_batch, locator
from civicgrid.regions.models import Grid

pytestmark = pytest.mark.django_db
URL = "/api/v1/locate"


def _inner_points(geom: shapely.Geometry, n: int, seed: int) -> np.ndarray:
    """n random points at least ~50 m inside ``geom``."""
    rng = np.random.default_rng(seed)
    inner = geom.buffer(-0.0005)
    minx, miny, maxx, maxy = inner.bounds
    shapely.prepare(inner)
    found: list[np.ndarray] = []
    while sum(len(f) for f in found) < n:
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(4 * n, 2))
        found.append(xy[shapely.contains_xy(inner, xy[:, 0], xy[:, 1])])
    return np.concatenate(found)[:n]


def test_locate_returns_grid_and_full_chain() -> None:
    """A point inside a grid resolves to that grid and province → village."""
    grid = Grid.objects.filter(region_code__startswith="370303001").first()
    assert grid is not None
    p = grid.geometry.representative_point()
    response = APIClient().get(URL, {"lon": p.x, "lat": p.y})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["grid"]["code"] == grid.code
    assert [r["level"] for r in body["regions"]] == [
        "province",
        "city",
        "county",
        "town",
        "village",
    ]
    assert [r["code"] for r in body["regions"]] == [
        "370000000000",
        "370300000000",
        "370303000000",
        "370303001000",
        grid.code[:12],
    ]
    assert body["regions"][2]["name"] == "张店区"


@pytest.mark.parametrize("crs", [CRS.GCJ02, CRS.BD09])
def test_locate_accepts_chinese_map_coordinates(crs: CRS) -> None:
    """The same place given in GCJ-02 or BD-09 resolves to the same grid."""
    grid = Grid.objects.filter(region_code__startswith="370303002").first()
    assert grid is not None
    p = grid.geometry.representative_point()
    lon, lat = from_wgs84(p.x, p.y, crs)
    body = APIClient().get(URL, {"lon": lon, "lat": lat, "crs": crs.value}).json()
    assert body["grid"]["code"] == grid.code
    assert (
        abs(body["point"]["lon"] - p.x) < 1e-5
        and abs(body["point"]["lat"] - p.y) < 1e-5
    )


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"lon": 116.0, "lat": 39.9}, 404),  # Beijing: no grid there
        ({"lon": "abc", "lat": 36}, 400),
        ({"lat": 36}, 400),
        ({"lon": 200, "lat": 36}, 400),
        ({"lon": 118, "lat": 95}, 400),
        ({"lon": "nan", "lat": 36}, 400),
        ({"lon": 118, "lat": 36, "crs": "utm"}, 400),
    ],
)
def test_locate_bad_input_and_misses_have_reasons(params: dict, status: int) -> None:
    """Invalid input is a 400 and a point outside every grid a 404, each with a reason."""
    response = APIClient().get(URL, params)
    assert response.status_code == status
    assert response.json()


def test_points_inside_each_real_county_resolve_to_that_county() -> None:
    """Points sampled inside the real (GCJ-02) county polygons of 淄博市, sent as
    GCJ-02, resolve to grids of that county."""
    doc = json.loads(
        shared_data("geo_shandong", "counties_by_city", "370300_full.json").read_text()
    )
    client = APIClient()
    for i, feature in enumerate(doc["features"]):
        county = str(feature["properties"]["adcode"])
        for lon, lat in _inner_points(shape(feature["geometry"]), 5, seed=i):
            body = client.get(URL, {"lon": lon, "lat": lat, "crs": "gcj02"}).json()
            assert body["grid"]["code"].startswith(county), (county, lon, lat, body)
            assert body["regions"][2]["code"] == county.ljust(12, "0")


def test_batch_matches_single_lookups() -> None:
    """The vectorised batch gives the same grid as one-at-a-time lookups, and None
    outside every grid."""
    rng = np.random.default_rng(7)
    lons, lats = rng.uniform(117.6, 118.3, 500), rng.uniform(35.9, 37.4, 500)
    codes = locate_batch(lons, lats)
    assert [locator.locate(x, y) for x, y in zip(lons, lats, strict=True)] == list(
        codes
    )
    assert any(c is None for c in codes) and any(c is not None for c in codes)


def test_shared_edge_resolves_to_exactly_one_grid() -> None:
    """A point on the edge between two grids resolves to one of them, the same one
    in single and batch lookups."""
    grid = Grid.objects.filter(region_code__startswith="370303001").first()
    assert grid is not None
    for other in Grid.objects.filter(city_code="3703").exclude(pk=grid.pk):
        edge = shapely.intersection(grid.geometry, other.geometry, grid_size=PRECISION)
        if edge.length > 0:
            p = edge.interpolate(0.5, normalized=True)
            single = locator.locate(p.x, p.y)
            assert single in {grid.code, other.code}
            assert locate_batch(np.array([p.x]), np.array([p.y]))[0] == single
            return
    pytest.fail("no neighbouring grids found")


def test_index_follows_grid_changes_in_this_process() -> None:
    """A grid moved through the service is found at its new place at once (it wins
    the spot from the grid already there, having the lower code)."""
    grid = (
        Grid.objects.filter(region_code__startswith="370303").order_by("code").first()
    )
    other = (
        Grid.objects.filter(region_code__startswith="370303").order_by("code").last()
    )
    assert grid is not None and other is not None
    p = other.geometry.representative_point()
    locator.refresh()
    assert locator.locate(p.x, p.y) == other.code
    services.grid_update(
        actor=None,
        grid=grid,
        geometry=box(p.x - 1e-4, p.y - 1e-4, p.x + 1e-4, p.y + 1e-4),
    )
    body = APIClient().get(URL, {"lon": p.x, "lat": p.y}).json()
    assert body["grid"]["code"] == grid.code


def test_grid_far_from_its_county_is_refused() -> None:
    """A boundary typed with wrong coordinates (landing in another province) is refused."""
    grid = Grid.objects.filter(region_code__startswith="370303").first()
    assert grid is not None
    with pytest.raises(services.GridError, match="张店区"):
        services.grid_update(
            actor=None, grid=grid, geometry=box(100, 30, 100.01, 30.01)
        )


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """An empty database of the same engine as the suite's, for other processes."""
    engine = connection.settings_dict["ENGINE"]
    if "sqlite" in engine:
        path = Path(settings.VAR_DIR) / f"xproc-{uuid.uuid4().hex}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    s = connection.settings_dict
    name = f"cg_xproc_{uuid.uuid4().hex[:12]}"
    dsn = dict(
        host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], password=s["PASSWORD"]
    )
    with psycopg.connect(dbname="postgres", autocommit=True, **dsn) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    yield f"postgres://{auth}@{s['HOST']}:{dsn['port']}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **dsn) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


class Worker:
    def __init__(self, database_url: str) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(settings.BASE_DIR),
        }
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("xproc_worker.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=settings.BASE_DIR,
        )

    def ask(self, **cmd: object) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def test_grid_changed_in_one_process_is_seen_by_another(scratch_database: str) -> None:
    """Two worker processes on one database: after worker B moves a grid, worker A
    (whose index was built before) finds it at the new place and not the old."""
    a, b = Worker(scratch_database), Worker(scratch_database)
    try:
        assert a.ask(op="setup") == {"ok": True}
        code = "980101001001001"
        assert a.ask(op="locate", lon=100.005, lat=30.005) == {"code": code}
        assert b.ask(op="locate", lon=100.005, lat=30.005) == {"code": code}
        assert b.ask(op="move", code=code, box=[101, 31, 101.01, 31.01]) == {"ok": True}
        assert a.ask(op="locate", lon=100.005, lat=30.005) == {"code": None}
        assert a.ask(op="locate", lon=101.005, lat=31.005) == {"code": code}
    finally:
        a.close()
        b.close()

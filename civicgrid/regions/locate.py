"""Point-to-grid lookup: an in-process STRtree per city, rebuilt when the city's
grids change.

Each process keeps its own indexes and compares their versions with
``GridIndexVersion`` (bumped in the same transaction as any grid change), so a grid
changed through one worker is seen by every other one on its next lookup.
"""

import threading
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree

from civicgrid.regions.models import Grid, GridIndexVersion

MISS = -1


@dataclass
class CityIndex:
    city_code: str
    version: str
    codes: np.ndarray  # grid codes, sorted: a lower index wins a tie on a shared edge
    geoms: np.ndarray
    tree: STRtree
    bounds: tuple[float, float, float, float]  # the city's extent: a cheap first test
    # The grids' primary keys and scope codes, in the order of ``codes`` (when built
    # from the database): a report needs them, and they change with the version.
    ids: np.ndarray | None = None
    region_codes: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        city_code: str,
        version: str,
        codes: list[str],
        geoms: list,
        ids: list[int] | None = None,
        region_codes: list[str] | None = None,
    ) -> "CityIndex":
        order = (
            np.argsort(np.asarray(codes, dtype=object))
            if codes
            else np.array([], dtype=int)
        )
        codes_arr = np.asarray(codes, dtype=object)[order]
        geoms_arr = np.asarray(geoms, dtype=object)[order]
        shapely.prepare(geoms_arr)
        extent = shapely.total_bounds(geoms_arr) if len(geoms_arr) else (0, 0, -1, -1)
        return cls(
            city_code,
            version,
            codes_arr,
            geoms_arr,
            STRtree(geoms_arr),
            tuple(float(v) for v in extent),  # type: ignore[arg-type]
            None if ids is None else np.asarray(ids, dtype=np.int64)[order],
            None
            if region_codes is None
            else np.asarray(region_codes, dtype=object)[order],
        )

    def covers_xy(self, x: float, y: float) -> bool:
        minx, miny, maxx, maxy = self.bounds
        return minx <= x <= maxx and miny <= y <= maxy

    def position(self, x: float, y: float) -> int | None:
        """The position (in ``codes``) of the grid holding the point, or None."""
        if not self.covers_xy(x, y):
            return None
        hits = self.tree.query(shapely.Point(x, y), predicate="intersects")
        if hits.size == 0:
            return None
        return int(hits.min())

    def locate_many(self, points: np.ndarray) -> np.ndarray:
        """Index into ``codes`` for every point, MISS where no grid holds it."""
        out = np.full(len(points), np.iinfo(np.int64).max, dtype=np.int64)
        minx, miny, maxx, maxy = self.bounds
        x, y = shapely.get_x(points), shapely.get_y(points)
        inside = np.flatnonzero((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        p_idx, g_idx = self.tree.query(points[inside], predicate="intersects")
        np.minimum.at(out, inside[p_idx], g_idx)
        out[out == np.iinfo(np.int64).max] = MISS
        return out


class GridLocator:
    """The per-process set of city indexes."""

    def __init__(self) -> None:
        self._cities: dict[str, CityIndex] = {}
        self._lock = threading.Lock()

    def refresh(self, versions: dict[str, str] | None = None) -> None:
        """Rebuild the indexes whose city changed since they were built. A caller
        that has just read ``GridIndexVersion`` (with other versions, in one query)
        passes what it read."""
        if versions is None:
            versions = dict(
                GridIndexVersion.objects.values_list("city_code", "version")
            )
        stale = [
            c
            for c, v in versions.items()
            if c not in self._cities or self._cities[c].version != v
        ]
        gone = [c for c in self._cities if c not in versions]
        if not stale and not gone:
            return
        with self._lock:
            for city in gone:
                self._cities.pop(city, None)
            for city in stale:
                self._cities[city] = load_city_index(city, versions[city])

    def cities(self) -> list[CityIndex]:
        return list(self._cities.values())

    def _find(self, lon: float, lat: float) -> tuple[CityIndex, int] | None:
        """The city index holding the point and the grid's position in it."""
        for index in self._cities.values():
            i = index.position(lon, lat)
            if i is not None:
                return index, i
        return None

    def locate(self, lon: float, lat: float) -> str | None:
        hit = self._find(lon, lat)
        return None if hit is None else str(hit[0].codes[hit[1]])

    def locate_grid(self, lon: float, lat: float) -> Grid | None:
        """The grid holding the point, with its id, code, scope and city codes only
        (as ``.only()`` would load them), from the index: no query."""
        hit = self._find(lon, lat)
        if hit is None:
            return None
        index, i = hit
        if index.ids is None or index.region_codes is None:
            return None  # an index built without ids (benchmarks)
        return Grid.from_db(
            Grid.objects.db,
            ["id", "code", "region_code", "city_code"],
            [
                int(index.ids[i]),
                str(index.codes[i]),
                str(index.region_codes[i]),
                index.city_code,
            ],
        )

    def locate_many(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Grid code (or None) for every point, vectorised."""
        points = shapely.points(lons, lats)
        result = np.full(len(points), None, dtype=object)
        todo = np.arange(len(points))
        for index in self._cities.values():
            if todo.size == 0:
                break
            hit = index.locate_many(points[todo])
            found = hit != MISS
            result[todo[found]] = index.codes[hit[found]]
            todo = todo[~found]
        return result


def load_city_index(city_code: str, version: str) -> CityIndex:
    rows = Grid.objects.filter(city_code=city_code).values_list(
        "id", "code", "region_code", "geometry"
    )
    ids, codes, region_codes, geoms = [], [], [], []
    for pk, code, region_code, geom in rows.iterator(chunk_size=5000):
        ids.append(pk)
        codes.append(code)
        region_codes.append(region_code)
        geoms.append(geom)
    return CityIndex.build(city_code, version, codes, geoms, ids, region_codes)


locator = GridLocator()


def locate_batch(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Vectorised locate of WGS-84 points, after making sure the indexes are current."""
    locator.refresh()
    return locator.locate_many(lons, lats)

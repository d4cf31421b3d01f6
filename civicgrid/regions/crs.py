"""Coordinate systems of Chinese maps: WGS-84, GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

The conversions are prcoords' (CC0, the precise iterative inverses); this module only
applies them to points and to every vertex of a geometry. Everything is stored in WGS-84.
"""

from collections.abc import Callable
from enum import StrEnum

import numpy as np
import prcoords
import shapely
from shapely.geometry.base import BaseGeometry


class CRS(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


_TO_WGS: dict[CRS, Callable[..., prcoords.Coords]] = {
    CRS.GCJ02: prcoords.gcj_wgs_bored,
    CRS.BD09: prcoords.bd_wgs_bored,
}
_FROM_WGS: dict[CRS, Callable[..., prcoords.Coords]] = {
    CRS.GCJ02: prcoords.wgs_gcj,
    CRS.BD09: prcoords.wgs_bd,
}


def valid_lon_lat(lon: float, lat: float) -> bool:
    return (
        bool(np.isfinite(lon) and np.isfinite(lat))
        and -180 <= lon <= 180
        and -90 <= lat <= 90
    )


def _convert(
    table: dict[CRS, Callable[..., prcoords.Coords]], crs: CRS, lon: float, lat: float
) -> tuple[float, float]:
    if crs == CRS.WGS84 or not prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)):
        # Outside China the map offsets are not applied: coordinates are WGS-84.
        return lon, lat
    c = table[crs]((lat, lon))
    return c.lon, c.lat


def to_wgs84(lon: float, lat: float, crs: CRS | str) -> tuple[float, float]:
    return _convert(_TO_WGS, CRS(crs), lon, lat)


def from_wgs84(lon: float, lat: float, crs: CRS | str) -> tuple[float, float]:
    return _convert(_FROM_WGS, CRS(crs), lon, lat)


def _transform_geometry(
    geom: BaseGeometry, fn: Callable[[float, float], tuple[float, float]]
) -> BaseGeometry:
    def apply(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        for i, (x, y) in enumerate(coords):
            out[i] = fn(float(x), float(y))
        return out

    return shapely.transform(geom, apply)


def geometry_to_wgs84(geom: BaseGeometry, crs: CRS | str) -> BaseGeometry:
    crs = CRS(crs)
    if crs == CRS.WGS84:
        return geom
    return _transform_geometry(geom, lambda x, y: to_wgs84(x, y, crs))


def geometry_from_wgs84(geom: BaseGeometry, crs: CRS | str) -> BaseGeometry:
    crs = CRS(crs)
    if crs == CRS.WGS84:
        return geom
    return _transform_geometry(geom, lambda x, y: from_wgs84(x, y, crs))

"""Geometry helpers: geodesic areas in m², validation and repair of polygons."""

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

WGS84_A = 6_378_137.0
WGS84_E2 = 6.69437999014e-3
# Stored coordinates are snapped to 1e-7 degrees (about 1 cm), and every overlay runs on
# that precision grid: neighbouring grids then share exact edges, and a coverage check
# finds no phantom slivers from floating-point intersections.
PRECISION = 1e-7


def area_m2(geom: BaseGeometry) -> float:
    """Area on the WGS-84 ellipsoid, in square metres, of a polygon whose edges are
    straight in longitude/latitude (as GeoJSON defines them).

    Each part's planar area in degrees² is scaled by the ellipsoid's area element
    R_M·R_N·cos φ at the part's centroid latitude (relative error under 1e-5 for a
    county). A sliver with no planar area has no area — geodesic formulas would give
    long, collinear edges a phantom area of several m².
    """
    if geom.is_empty:
        return 0.0
    parts = shapely.get_parts(geom)
    deg2 = shapely.area(parts)
    phi = np.radians(shapely.get_y(shapely.centroid(parts)))
    w = 1 - WGS84_E2 * np.sin(phi) ** 2
    r_m = WGS84_A * (1 - WGS84_E2) / w**1.5
    r_n = WGS84_A / np.sqrt(w)
    scale = r_m * r_n * np.cos(phi) * (np.pi / 180) ** 2
    return float(np.sum(np.nan_to_num(deg2 * scale)))


def polygonal_part(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """Only the polygons of a geometry (drops points and lines left by overlay operations)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [
        g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)
    ]
    polys: list[Polygon] = []
    for p in parts:
        polys.extend(p.geoms if isinstance(p, MultiPolygon) else [p])
    return MultiPolygon(polys) if polys else Polygon()


@dataclass
class Checked:
    geometry: Polygon | MultiPolygon
    note: str = ""  # set when the polygon was repaired


def check_polygon(geom: BaseGeometry) -> Checked:
    """Accept a polygon, repair an invalid one (with a note), or raise ValueError."""
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ValueError(
            f"geometry must be a Polygon or MultiPolygon, not {geom.geom_type}"
        )
    if geom.is_empty:
        raise ValueError("geometry is empty")
    if geom.has_z:
        geom = shapely.force_2d(geom)
    if geom.is_valid:
        snapped = polygonal_part(shapely.set_precision(geom, PRECISION))
        if not snapped.is_empty:
            return Checked(snapped)
        raise ValueError("polygon vanishes at 1 cm precision")
    reason = shapely.is_valid_reason(geom)
    fixed = polygonal_part(shapely.set_precision(shapely.make_valid(geom), PRECISION))
    if fixed.is_empty or fixed.area < geom.area * 1e-6:
        raise ValueError(f"invalid polygon that cannot be repaired: {reason}")
    return Checked(fixed, note=f"repaired: {reason}")

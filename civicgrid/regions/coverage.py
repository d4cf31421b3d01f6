"""Coverage check (全域覆盖、地域无缝隙): every gap and every overlap between the grids
of a town, county or city, each with its location and geodesic area in m².

Pieces under an area tolerance (1 m²) or a width tolerance (10 cm) are seams of
floating-point arithmetic between neighbours drawn independently, not gaps; both
tolerances are settings and are stated in the report. Gaps are measured against the region's recorded boundary; where a region has none,
only the holes enclosed by its grids can be found, and the report says so.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from shapely import STRtree
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from civicgrid.regions.geometry import PRECISION, area_m2, polygonal_part
from civicgrid.regions.models import Grid, Region


@dataclass
class Piece:
    kind: str  # "gap", "overlap" or "outside" (grid area beyond the region's boundary)
    area_m2: float
    lon: float
    lat: float
    grids: list[str]
    geometry: dict[str, Any]


@dataclass
class CoverageReport:
    code: str  # the region's 12-digit code
    prefix: str  # its significant digits
    region_name: str
    level: str
    grid_count: int
    region_area_m2: float | None
    grid_area_m2: float
    boundary_known: bool
    tolerance_m2: float
    min_width_m: float
    gaps: list[Piece] = field(default_factory=list)
    overlaps: list[Piece] = field(default_factory=list)
    outside: list[Piece] = field(default_factory=list)
    areas_without_grids: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.gaps or self.overlaps or self.outside or self.grid_count == 0)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        d["gap_area_m2"] = round(sum(p.area_m2 for p in self.gaps), 2)
        d["overlap_area_m2"] = round(sum(p.area_m2 for p in self.overlaps), 2)
        return d


def _pieces(geom: BaseGeometry) -> list[BaseGeometry]:
    poly = polygonal_part(geom)
    return [] if poly.is_empty else list(getattr(poly, "geoms", [poly]))


def _piece(kind: str, geom: BaseGeometry, grids: list[str]) -> Piece:
    p = geom.representative_point()
    return Piece(
        kind=kind,
        area_m2=round(area_m2(geom), 2),
        lon=round(p.x, 7),
        lat=round(p.y, 7),
        grids=grids,
        geometry=mapping(shapely.set_precision(geom, 1e-7)),
    )


METRES_PER_DEGREE = 111_320.0
COVERAGE_LEVELS = ("town", "county", "city")
# Grid outlines on the coverage map are simplified to about a metre: a county's
# grids stay a few hundred kilobytes, and gaps and overlaps are drawn exactly.
MAP_SIMPLIFY_DEG = 1e-5
# Above this many grids (a city: 淄博 has 3,392) the map is an overview: the grids'
# outlines are one line drawing, every shared edge once, simplified to about 10 m
# and rounded to about 1 m, without a feature (and tooltip) per grid; the county
# pages keep the grid-by-grid map. The gaps, overlaps and spills stay exact.
OVERVIEW_GRIDS = 1000
OVERVIEW_SIMPLIFY_DEG = 1e-4
OVERVIEW_DECIMALS = 5


class CompactJSONEncoder(DjangoJSONEncoder):
    """JSON without the spaces after separators (a tenth of a coordinate list)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["separators"] = (",", ":")
        super().__init__(*args, **kwargs)


def _rounded(geometry: Any, decimals: int) -> Any:
    return shapely.transform(geometry, lambda c: np.round(c, decimals))


def _overview_outlines(geometries: list[BaseGeometry]) -> dict[str, Any]:
    simplified = shapely.simplify(
        np.array(geometries, dtype=object),
        OVERVIEW_SIMPLIFY_DEG,
        preserve_topology=True,
    )
    edges = shapely.union_all(shapely.boundary(_rounded(simplified, OVERVIEW_DECIMALS)))
    return dict(mapping(shapely.line_merge(edges)))


def coverage_map_data(region: Region, report: CoverageReport) -> dict[str, Any]:
    """GeoJSON for the coverage map: the region's grids (or, for an overview of
    more than OVERVIEW_GRIDS grids, their outlines as one line drawing), its
    boundary, and the report's pieces (gaps, overlaps, spills) with their kind,
    area and grids."""
    rows = list(
        Grid.objects.filter(region_code__startswith=region.region_code)
        .order_by("code")
        .values_list("code", "name", "geometry")
    )
    overview = len(rows) > OVERVIEW_GRIDS
    grid_features = (
        []
        if overview
        else [
            {
                "type": "Feature",
                "properties": {"code": code, "name": name},
                "geometry": mapping(
                    shapely.set_precision(
                        shapely.simplify(
                            geom, MAP_SIMPLIFY_DEG, preserve_topology=True
                        ),
                        1e-6,
                    )
                ),
            }
            for code, name, geom in rows
        ]
    )
    pieces = [
        {
            "type": "Feature",
            "properties": {"kind": p.kind, "area_m2": p.area_m2, "grids": p.grids},
            "geometry": p.geometry,
        }
        for p in [*report.gaps, *report.overlaps, *report.outside]
    ]
    boundary = None
    if region.boundary is not None:
        tolerance = OVERVIEW_SIMPLIFY_DEG if overview else MAP_SIMPLIFY_DEG
        outline = shapely.simplify(region.boundary, tolerance, preserve_topology=True)
        boundary = mapping(
            _rounded(outline, OVERVIEW_DECIMALS) if overview else outline
        )
    return {
        "grids": {"type": "FeatureCollection", "features": grid_features},
        "outlines": _overview_outlines([g for _, _, g in rows]) if overview else None,
        "pieces": {"type": "FeatureCollection", "features": pieces},
        "boundary": boundary,
    }


def _significant(piece: BaseGeometry, tol_m2: float, min_width_m: float) -> bool:
    if area_m2(piece) < tol_m2:
        return False
    half_width_deg = min_width_m / 2 / METRES_PER_DEGREE
    return not shapely.buffer(piece, -half_width_deg).is_empty


def check_coverage(
    region: Region, tolerance_m2: float | None = None, min_width_m: float | None = None
) -> CoverageReport:
    tol = (
        settings.CIVICGRID_COVERAGE_TOLERANCE_M2
        if tolerance_m2 is None
        else tolerance_m2
    )
    width = (
        settings.CIVICGRID_COVERAGE_MIN_WIDTH_M if min_width_m is None else min_width_m
    )
    rows = list(
        Grid.objects.filter(region_code__startswith=region.region_code)
        .order_by("code")
        .values_list("code", "geometry")
    )
    codes = [c for c, _ in rows]
    geoms = np.asarray([g for _, g in rows], dtype=object)
    report = CoverageReport(
        code=region.code,
        prefix=region.region_code,
        region_name=region.name,
        level=region.level,
        grid_count=len(rows),
        region_area_m2=round(area_m2(region.boundary), 1)
        if region.boundary is not None
        else None,
        grid_area_m2=0.0,
        boundary_known=region.boundary is not None,
        tolerance_m2=tol,
        min_width_m=width,
    )
    report.areas_without_grids = [
        {"code": r.code, "name": r.name}
        for r in region.children.order_by("code")
        if not any(c.startswith(r.region_code) for c in codes)
    ]
    if not rows:
        report.notes.append("no grids in this region")
        return report
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    if left.size:
        inters = shapely.intersection(geoms[left], geoms[right], grid_size=PRECISION)
        for a, b, inter in zip(left, right, inters, strict=True):
            for piece in _pieces(inter):
                if _significant(piece, tol, width):
                    report.overlaps.append(
                        _piece("overlap", piece, [codes[a], codes[b]])
                    )
    union = shapely.union_all(geoms, grid_size=PRECISION)
    report.grid_area_m2 = round(area_m2(union), 1)
    if region.boundary is not None:
        gaps = _pieces(shapely.difference(region.boundary, union, grid_size=PRECISION))
        outside = [
            (p, "outside")
            for p in _pieces(
                shapely.difference(union, region.boundary, grid_size=PRECISION)
            )
        ]
    else:
        report.notes.append(
            "no boundary on record: only holes enclosed by the grids are found"
        )
        gaps = [
            shapely.Polygon(ring) for poly in _pieces(union) for ring in poly.interiors
        ]
        outside = []
    for gap in gaps:
        if _significant(gap, tol, width):
            near = tree.query(gap, predicate="intersects")  # touching grids
            report.gaps.append(
                _piece("gap", gap, [codes[i] for i in sorted(near)][:10])
            )
    for piece, kind in outside:
        if _significant(piece, tol, width):
            inside = tree.query(piece.representative_point(), predicate="intersects")
            report.outside.append(
                _piece(kind, piece, [codes[i] for i in sorted(inside)])
            )
    return report

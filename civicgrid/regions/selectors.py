"""Reads of regions and grids, always within the caller's scope."""

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet
from shapely.geometry import mapping

from civicgrid.core.scope import covers, prefixes_q
from civicgrid.regions.models import LEVEL_BY_PREFIX_LENGTH, PREFIX_LENGTH, Grid, Region


def region_by_any_code(code: str) -> Region | None:
    """A region by its 12-digit code or by its significant prefix."""
    code = code.strip()
    if not code.isdigit():
        return None
    if len(code) == 12:
        return Region.objects.filter(code=code).first()
    if len(code) in LEVEL_BY_PREFIX_LENGTH:
        return Region.objects.filter(region_code=code).first()
    return None


def _ancestor_prefixes(prefixes: Sequence[str]) -> set[str]:
    return {p[:n] for p in prefixes for n in PREFIX_LENGTH.values() if n < len(p)}


def regions_visible(prefixes: Sequence[str]) -> QuerySet[Region]:
    """Regions inside the scope, and the ancestors of the scope (to name the chain)."""
    q = prefixes_q(prefixes) | Q(region_code__in=_ancestor_prefixes(prefixes))
    return Region.objects.filter(q)


def region_in_scope(region: Region, prefixes: Sequence[str]) -> bool:
    """Whether the whole region lies inside the scope (not just an ancestor of it)."""
    return covers(prefixes, region.region_code)


def region_search(prefixes: Sequence[str], text: str) -> QuerySet[Region]:
    return regions_visible(prefixes).filter(name__contains=text.strip())


def ancestors(region: Region) -> list[Region]:
    """From the province down to the region's parent."""
    codes = [
        region.region_code[:n]
        for n in PREFIX_LENGTH.values()
        if n < len(region.region_code)
    ]
    by_code = {r.region_code: r for r in Region.objects.filter(region_code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def grids_visible(prefixes: Sequence[str]) -> QuerySet[Grid]:
    return Grid.objects.filter(prefixes_q(prefixes))


def grid_with_chain(code: str) -> tuple[Grid, list[Region]] | None:
    grid = Grid.objects.select_related("village").filter(code=code).first()
    if grid is None:
        return None
    return grid, [*ancestors(grid.village), grid.village]


def grid_neighbours_geojson(grid: Grid, limit: int = 200) -> dict[str, Any]:
    """The grids of the same county around ``grid``, as a FeatureCollection (for maps)."""
    area = grid.geometry.buffer(0.01)
    features = []
    county = Grid.objects.filter(region_code__startswith=grid.code[:6]).exclude(
        pk=grid.pk
    )
    for other in county.only("code", "name", "geometry"):
        if other.geometry.intersects(area):
            features.append(
                {
                    "type": "Feature",
                    "properties": {"code": other.code, "name": other.name},
                    "geometry": mapping(other.geometry),
                }
            )
            if len(features) >= limit:
                break
    return {"type": "FeatureCollection", "features": features}

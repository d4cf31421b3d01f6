"""Writes to regions and grids. Every grid change bumps its city's index version
in the same transaction, and writes an audit record."""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from shapely.geometry.base import BaseGeometry

from civicgrid.core.audit import audit_record, diff
from civicgrid.regions.divisions import is_code
from civicgrid.regions.geometry import area_m2, check_polygon
from civicgrid.regions.models import GRID_CODE_LENGTH, Grid, GridIndexVersion, Region

GRID_FIELDS = ("name", "village_id", "households", "population", "area_m2")


class GridError(ValueError):
    """A grid that cannot be saved, with the reason."""


def bump_index_version(city_codes: Iterable[str]) -> None:
    for city in sorted(set(city_codes)):
        GridIndexVersion.objects.update_or_create(
            city_code=city, defaults={"version": uuid.uuid4().hex}
        )


def check_lon_lat_bounds(geom: BaseGeometry) -> None:
    """Every vertex must be a longitude within ±180 and a latitude within ±90."""
    if geom.is_empty:
        return  # reported by check_polygon
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GridError("coordinates outside longitude ±180 / latitude ±90")


PLACE_MARGIN_DEG = 0.01  # about 1 km of slack around the county's boundary


def check_grid_place(code: str, geometry: BaseGeometry) -> None:
    """A grid must lie in (or within about 1 km of) its county, where the county's
    boundary is on record: a typo in coordinates must not land a grid elsewhere."""
    county = (
        Region.objects.filter(region_code=code[:6]).only("boundary", "name").first()
    )
    if county is None or county.boundary is None:
        return
    if not geometry.intersects(county.boundary.buffer(PLACE_MARGIN_DEG)):
        raise GridError(f"the grid lies outside {county.name} ({code[:6]})")


def village_for_grid_code(code: str) -> Region:
    if not is_code(code, GRID_CODE_LENGTH):
        raise GridError(
            f"grid code {code!r} must be 15 digits: the village code and 3 more"
        )
    try:
        return Region.objects.get(code=code[:12], level="village")
    except Region.DoesNotExist:
        raise GridError(f"grid code {code}: no village/community {code[:12]}") from None


def grid_validate_geometry(
    code: str, geometry: BaseGeometry
) -> tuple[BaseGeometry, float, str]:
    check_lon_lat_bounds(geometry)
    try:
        checked = check_polygon(geometry)
    except ValueError as exc:
        raise GridError(str(exc)) from None
    check_grid_place(code, checked.geometry)
    return checked.geometry, area_m2(checked.geometry), checked.note


def grid_create(
    *,
    actor: Any,
    code: str,
    name: str,
    geometry: BaseGeometry,
    households: int | None = None,
    population: int | None = None,
    data_source: str = "",
    origin_id: str = "",
) -> Grid:
    village = village_for_grid_code(code)
    geom, area, note = grid_validate_geometry(code, geometry)
    with transaction.atomic():
        grid = Grid.objects.create(
            code=code,
            name=name,
            village=village,
            region_code=code,
            city_code=code[:4],
            geometry=geom,
            area_m2=area,
            households=households,
            population=population,
            data_source=data_source,
            origin_id=origin_id,
        )
        bump_index_version([grid.city_code])
        audit_record(
            actor=actor,
            action="grid.create",
            obj=grid,
            changes={
                "name": [None, name],
                "area_m2": [None, round(area, 1)],
                "note": note,
            },
        )
    return grid


def grid_update(
    *,
    actor: Any,
    grid: Grid,
    name: str | None = None,
    geometry: BaseGeometry | None = None,
    households: int | None = None,
    population: int | None = None,
) -> Grid:
    before = {f: getattr(grid, f) for f in GRID_FIELDS}
    changes: dict[str, Any] = {}
    if name is not None:
        grid.name = name
    if households is not None:
        grid.households = households
    if population is not None:
        grid.population = population
    if geometry is not None:
        geom, area, note = grid_validate_geometry(grid.code, geometry)
        grid.geometry, grid.area_m2 = geom, area
        changes["geometry"] = ["…", note or "changed"]
    with transaction.atomic():
        grid.save()
        bump_index_version([grid.city_code])
        changes.update(diff(before, {f: getattr(grid, f) for f in GRID_FIELDS}))
        audit_record(actor=actor, action="grid.update", obj=grid, changes=changes)
    return grid


def grid_delete(*, actor: Any, grid: Grid) -> None:
    with transaction.atomic():
        code, city = grid.code, grid.city_code
        audit_record(
            actor=actor, action="grid.delete", obj=grid, changes={"code": [code, None]}
        )
        grid.delete()
        bump_index_version([city])

"""Generating a whole city's demo grids from its real county boundaries."""

import json
import math
from pathlib import Path
from typing import Any

import shapely
from django.db import transaction
from shapely.geometry import shape

from civicgrid.accounts.models import Level
from civicgrid.core.audit import audit_record
from civicgrid.regions.crs import CRS, geometry_to_wgs84
from civicgrid.regions.geometry import PRECISION, area_m2, check_polygon, polygonal_part
from civicgrid.regions.models import Grid, Region
from civicgrid.regions.services import bump_index_version
from civicgrid.regions.tessellate import TARGET_HOUSEHOLDS, cut_cells, split_counts

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_CITY = "3703"  # 淄博市: the peace-index pilot city, no development zones
DEMO_BOUNDARIES = DATA_DIR / "zibo_counties_gcj02.geojson"
HOUSEHOLDS_PER_PERSON = 1 / 2.8  # when the census gives no household count


def short_name(village_name: str) -> str:
    """解放桥社区居民委员会 → 解放桥社区, 东村村民委员会 → 东村村."""
    for suffix, kind in (
        ("社区居民委员会", "社区"),
        ("居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("居委会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
    ):
        if village_name.endswith(suffix) and len(village_name) > len(suffix):
            return village_name[: -len(suffix)] + kind
    return village_name


def load_county_boundaries(path: Path, crs: CRS) -> dict[str, Any]:
    """County boundaries in WGS-84, overlaps between neighbours given to the first."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    taken = None
    for feature in sorted(
        doc["features"], key=lambda f: str(f["properties"]["adcode"])
    ):
        code = str(feature["properties"]["adcode"])
        geom = check_polygon(
            geometry_to_wgs84(shape(feature["geometry"]), crs)
        ).geometry
        if taken is not None:
            geom = polygonal_part(shapely.difference(geom, taken, grid_size=PRECISION))
        taken = (
            geom if taken is None else shapely.union(taken, geom, grid_size=PRECISION)
        )
        out[code] = geom
    return out


def generate_city_grids(
    city_code: str, boundaries: Path, *, crs: CRS = CRS.GCJ02, actor: Any = None
) -> dict[str, int]:
    counties = load_county_boundaries(boundaries, crs)
    regions = {
        r.region_code: r
        for r in Region.objects.filter(region_code__startswith=city_code)
    }
    grids: list[Grid] = []
    touched: list[Region] = []
    for county_code, boundary in counties.items():
        county = regions.get(county_code)
        if county is None:
            raise ValueError(
                f"county {county_code} of the boundary file is not in the division tree"
            )
        towns = sorted(
            (
                r
                for r in regions.values()
                if r.level == Level.TOWN and r.region_code.startswith(county_code)
            ),
            key=lambda r: r.code,
        )
        villages_by_town = {
            t.region_code: sorted(
                (
                    r
                    for r in regions.values()
                    if r.level == Level.VILLAGE
                    and r.region_code.startswith(t.region_code)
                ),
                key=lambda r: r.code,
            )
            for t in towns
        }
        towns = [t for t in towns if villages_by_town[t.region_code]]
        n_villages = sum(len(v) for v in villages_by_town.values())
        households = county.households or int(
            (county.population or 0) * HOUSEHOLDS_PER_PERSON
        )
        wanted = max(n_villages, math.ceil(households / TARGET_HOUSEHOLDS))
        cells = cut_cells(boundary, wanted)
        while len(cells) < n_villages:
            wanted = math.ceil(wanted * n_villages / max(len(cells), 1) * 1.05)
            cells = cut_cells(boundary, wanted)
        county_area = area_m2(boundary)
        per_town = split_counts(
            len(cells), [len(villages_by_town[t.region_code]) for t in towns]
        )
        start = 0
        for town, n_town in zip(towns, per_town, strict=True):
            villages = villages_by_town[town.region_code]
            town_parts = []
            for village, n in zip(
                villages, split_counts(n_town, [1] * len(villages)), strict=True
            ):
                parts = cells[start : start + n]
                start += n
                for k, cell in enumerate(parts, start=1):
                    a = area_m2(cell.geometry)
                    code = f"{village.region_code}{k:03d}"
                    grids.append(
                        Grid(
                            code=code,
                            name=f"{short_name(village.name)}第{k}网格",
                            village=village,
                            region_code=code,
                            city_code=city_code,
                            geometry=cell.geometry,
                            area_m2=a,
                            households=round(households * a / county_area)
                            if county_area
                            else None,
                            population=round((county.population or 0) * a / county_area)
                            if county_area
                            else None,
                            data_source="demo-tessellation",
                        )
                    )
                village.boundary = polygonal_part(
                    shapely.union_all([c.geometry for c in parts], grid_size=PRECISION)
                )
                village.boundary_source = "demo: union of its grids"
                town_parts.append(village.boundary)
                touched.append(village)
            town.boundary = polygonal_part(
                shapely.union_all(town_parts, grid_size=PRECISION)
            )
            town.boundary_source = "demo: union of its villages' grids"
            touched.append(town)
        county.boundary = boundary
        county.boundary_source = f"DataV GeoJSON ({crs.value}), converted to WGS-84"
        touched.append(county)
    city = regions[city_code]
    city.boundary = polygonal_part(
        shapely.union_all(list(counties.values()), grid_size=PRECISION)
    )
    city.boundary_source = "union of its county boundaries"
    touched.append(city)
    with transaction.atomic():
        Grid.objects.filter(city_code=city_code).delete()
        Grid.objects.bulk_create(grids, batch_size=1000)
        Region.objects.bulk_update(
            touched, ["boundary", "boundary_source"], batch_size=500
        )
        bump_index_version([city_code])
        audit_record(
            actor=actor,
            action="grid.generate_demo",
            object_type="regions.grid",
            region_code=city_code,
            changes={"grids": len(grids), "counties": len(counties)},
        )
    return {"grids": len(grids), "counties": len(counties)}

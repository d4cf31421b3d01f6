"""Region polygons as GeoJSON coloured by index, for the dashboard map."""

from typing import Any

from django.db.models import QuerySet
from shapely.geometry import mapping

from civicgrid.peace_index.models import AreaResult
from civicgrid.peace_index.selectors import latest_month
from civicgrid.regions.models import Region

SIMPLIFY_DEGREES = 0.0005  # about 50 m: enough for a city map, a fraction of the bytes


def map_geojson(
    region: Region, results: QuerySet[AreaResult], month: str | None
) -> dict[str, Any]:
    """The children of ``region`` that have a boundary, with their figures of
    ``month`` (the latest month of ``results`` when not given)."""
    month = month or latest_month(results.filter(parent_code=region.region_code))
    by_code = {
        r.region_code: r
        for r in results.filter(parent_code=region.region_code, month=month)
    }
    features = []
    for child in Region.objects.filter(parent=region, boundary__isnull=False).order_by(
        "code"
    ):
        res = by_code.get(child.region_code)
        boundary = child.boundary
        if boundary is None:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name": child.name,
                    "code": child.code,
                    "level": child.level,
                    "index": round(res.index, 2) if res else None,
                    "rank": res.rank if res else None,
                    "rank_total": res.rank_total if res else None,
                    "drillable": child.level in ("city", "county"),
                },
                "geometry": mapping(
                    boundary.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
                ),
            }
        )
    return {
        "type": "FeatureCollection",
        "month": month,
        "area": {"code": region.code, "name": region.name, "level": region.level},
        "features": features,
    }

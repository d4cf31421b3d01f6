"""Import of grid polygons from GeoJSON in WGS-84, GCJ-02 or BD-09 (stored as WGS-84).

Each feature needs ``properties.code`` (15 digits: village code + 3) and may carry
``name``, ``households`` and ``population``. Bad features are reported by index and
code; nothing is written unless every feature is good or ``partial`` is asked for.
"""

import json
from pathlib import Path
from typing import Any

from django.db import transaction
from shapely.geometry import shape

from civicgrid.core.audit import audit_record
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.regions.crs import CRS, geometry_to_wgs84
from civicgrid.regions.divisions import is_code
from civicgrid.regions.geometry import area_m2, check_polygon
from civicgrid.regions.models import GRID_CODE_LENGTH, Grid, Region
from civicgrid.regions.services import (
    bump_index_version,
    check_grid_place,
    check_lon_lat_bounds,
)


def _int_or_none(value: Any, what: str) -> int | None:
    """A count: a whole number (1, 1.0 or "1"); not 1.5, not true, not negative."""
    if value in (None, ""):
        return None
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and value.strip().isascii() and value.strip().isdigit()
    ):
        number = int(value)
    if number is None:
        raise ValueError(f"{what} {value!r} is not a whole number")
    if number < 0:
        raise ValueError(f"{what} {value!r} is negative")
    return number


def _props(feature: Any) -> dict[str, Any]:
    props = feature.get("properties") if isinstance(feature, dict) else None
    return props if isinstance(props, dict) else {}


def _code(feature: Any) -> str:
    return str(_props(feature).get("code", "")).strip()


def load_feature_collection(
    data: bytes | str, file: str, report: ImportReport
) -> list[dict[str, Any]]:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        report.error(file, 0, f"not valid JSON: {exc}")
        return []
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        report.error(file, 0, "not a GeoJSON FeatureCollection")
        return []
    return doc["features"]


def import_grids(
    data: bytes | str,
    *,
    crs: CRS | str,
    actor: Any = None,
    file: str = "upload.geojson",
    data_source: str = "geojson",
    partial: bool = False,
    scope: list[str] | None = None,
) -> ImportReport:
    """Create or replace grids from a FeatureCollection. ``scope`` (prefixes) limits
    which villages the caller may write to."""
    crs = CRS(crs)
    report = ImportReport()
    features = load_feature_collection(data, file, report)
    villages = {
        r.region_code: r
        for r in Region.objects.filter(
            level="village",
            region_code__in={_code(f)[:12] for f in features},
        )
    }
    rows: list[Grid] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(features):
        props = _props(feature)
        code = _code(feature)
        where = f"feature {i}" + (f" ({code})" if code else "")
        try:
            if not isinstance(feature, dict):
                raise ValueError("feature is not an object")
            if not isinstance(feature.get("properties"), dict):
                raise ValueError("properties must be an object with the grid's code")
            if not is_code(code, GRID_CODE_LENGTH):
                raise ValueError(
                    f"code {code!r} must be 15 digits: the village code and 3 more"
                )
            if code in seen:
                raise ValueError(f"duplicate code {code} (also feature {seen[code]})")
            village = villages.get(code[:12])
            if village is None:
                raise ValueError(f"unknown village/community code {code[:12]}")
            if scope is not None and not any(code.startswith(p) for p in scope):
                raise ValueError(f"village {code[:12]} is outside your scope")
            if not isinstance(feature.get("geometry"), dict):
                raise ValueError("feature has no geometry")
            try:
                raw = shape(feature["geometry"])
            except Exception as exc:  # shapely raises several types for bad GeoJSON
                raise ValueError(f"unreadable geometry: {exc}") from None
            check_lon_lat_bounds(raw)
            checked = check_polygon(geometry_to_wgs84(raw, crs))
            check_grid_place(code, checked.geometry)
            if checked.note:
                report.notes.append(f"{file}: {where}: {checked.note}")
            households = _int_or_none(props.get("households"), "households")
            population = _int_or_none(props.get("population"), "population")
        except ValueError as exc:
            report.error(file, where, str(exc))
            continue
        seen[code] = i
        rows.append(
            Grid(
                code=code,
                name=str(props.get("name") or f"{village.name}{code[-3:]}网格"),
                village=village,
                region_code=code,
                city_code=code[:4],
                geometry=checked.geometry,
                area_m2=area_m2(checked.geometry),
                households=households,
                population=population,
                data_source=data_source,
                origin_id=str(feature.get("id", "")),
            )
        )
    if report.errors and not partial:
        raise ImportRejected(report)
    existing = set(
        Grid.objects.filter(code__in=[g.code for g in rows]).values_list(
            "code", flat=True
        )
    )
    with transaction.atomic():
        Grid.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=[
                "name",
                "village",
                "geometry",
                "area_m2",
                "households",
                "population",
                "data_source",
                "origin_id",
                "updated_at",
            ],
        )
        report.created = sum(1 for g in rows if g.code not in existing)
        report.updated = len(rows) - report.created
        report.skipped = len(report.errors)
        bump_index_version(g.city_code for g in rows)
        audit_record(
            actor=actor,
            action="grid.import",
            object_type="regions.grid",
            region_code=_common_prefix([g.code for g in rows]),
            changes={
                "crs": crs.value,
                "file": file,
                "created": report.created,
                "updated": report.updated,
                "codes": sorted(g.code for g in rows)[:1000],
            },
        )
    return report


def import_grids_file(path: Path, **kwargs: Any) -> ImportReport:
    return import_grids(path.read_bytes(), file=path.name, **kwargs)


def _common_prefix(codes: list[str]) -> str:
    if not codes:
        return ""
    lo, hi = min(codes), max(codes)
    n = 0
    while n < len(lo) and lo[n] == hi[n]:
        n += 1
    return lo[:n]

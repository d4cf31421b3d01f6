"""Bulk Excel (xlsx) import and export of every kind of reference data the issue
lists, on one page: the matter catalogue (the events app's workbook), departments,
grid staff, the expert and mediator pool (disputes) and the monthly incident counts
(the peace index's import). For each kind: an empty template, an export of the
current data in the template's shape (scoped to the user's regions; the catalogue is
province-wide) that imports back unchanged, and an import that reports every bad row
by its line and writes nothing unless every row is good."""

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from civicgrid.accounts.models import Role
from civicgrid.accounts.permissions import CONFIGURE, MANAGE_ACCOUNTS
from civicgrid.core.audit import audit_record
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.core.scope import ALL, prefixes_q
from civicgrid.disputes.errors import DisputeError
from civicgrid.events.catalogue import (
    catalogue_export_xlsx,
    catalogue_import_xlsx,
    catalogue_template_xlsx,
)
from civicgrid.exchange import bulk_pool as pool
from civicgrid.exchange import bulk_sheets as sheets
from civicgrid.peace_index.imports import counts_import, parse_month
from civicgrid.peace_index.models import CountImport, IndexKind, MonthlyCount

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 50 * 1024 * 1024
COUNT_ROLES = {Role.CENTER_STAFF, Role.DEPARTMENT_STAFF, Role.SYSADMIN}
# The headings of an incident-count workbook, as the peace index's import reads them.
COUNT_HEADINGS = ["区划代码", "月份", "指标代码", "数量"]


class BadRequest(Exception):
    """An export asked without what it needs (e.g. the source of the counts)."""


@dataclass(frozen=True)
class Kind:
    key: str
    title: Any
    may: Callable[[Any], bool]
    template: Callable[[], bytes]
    export: Callable[[Sequence[str], Mapping[str, str]], bytes]
    load: Callable[[Any, bytes, str, Sequence[str], Mapping[str, str]], ImportReport]
    # Extra fields of the page's forms (the incident counts' index, source, month).
    options: tuple[str, ...] = ()


def _count_rows(
    report: ImportReport, writes: Sequence[sheets.Write], sheet: sheets.Sheet
) -> None:
    """A row is new if it created a record, else updated; a note names each updated
    row and its changed columns (never their values)."""
    created = {w.line for w in writes if w.outcome == sheets.CREATED}
    updated = sorted({w.line for w in writes if w.outcome == sheets.UPDATED} - created)
    report.created, report.updated = len(created), len(updated)
    labels = dict(sheet.columns)
    for w in writes:
        if w.outcome == sheets.UPDATED:
            report.notes.append(
                _("line %(n)s: %(c)s changed")
                % {"n": w.line, "c": ", ".join(str(labels[c]) for c in w.columns)}
            )


def _one_sheet(
    sheet: sheets.Sheet,
    rows: Callable[[Sequence[str]], list[list[Any]]],
    check: Callable[..., list[sheets.Write]],
) -> tuple[
    Callable[[], bytes],
    Callable[[Sequence[str], Mapping[str, str]], bytes],
    Callable[[Any, bytes, str, Sequence[str], Mapping[str, str]], ImportReport],
]:
    def template() -> bytes:
        return sheets.write_sheet(sheet, [])

    def export(scope: Sequence[str], options: Mapping[str, str]) -> bytes:
        return sheets.write_sheet(sheet, rows(scope))

    def load(
        actor: Any,
        content: bytes,
        name: str,
        scope: Sequence[str],
        options: Mapping[str, str],
    ) -> ImportReport:
        report = ImportReport()
        lines = list(sheets.read_sheet(content, sheet, report, name))
        if report.ok and not lines:
            report.error(name, "-", _("the file has no rows"))
        writes = check(lines, scope, report, name) if report.ok else []
        if not report.ok:
            raise ImportRejected(report)
        try:
            with transaction.atomic():
                for write in writes:
                    write.run(actor)
        except (PermissionDenied, ValidationError, DisputeError) as exc:
            text = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
            report.error(name, "-", text)
            raise ImportRejected(report) from None
        _count_rows(report, writes, sheet)
        return report

    return template, export, load


# --- the catalogue (events' workbook) ------------------------------------------------


def _catalogue_load(
    actor: Any, content: bytes, name: str, scope: Sequence[str], o: Mapping[str, str]
) -> ImportReport:
    return catalogue_import_xlsx(content, actor=actor, file=name)


# --- incident counts (the peace index's import) --------------------------------------


def count_sources(scope: Sequence[str]) -> list[str]:
    """The sources counts were delivered from to the user's cities (any index), read
    from the log of deliveries (a row per file): a DISTINCT over the counts
    themselves reads them all, 0.3 s a page at a million counts (bench/cache_bench.py).
    A delivery to several cities at once (by the province) is listed to each."""
    if not scope:
        return []
    cities = [p if p == ALL else p[:4] for p in scope]
    return sorted(
        set(
            CountImport.objects.filter(
                prefixes_q(cities, "city_code") | Q(city_code="")
            )
            .values_list("source", flat=True)
            .distinct()
        )
    )


def _counts_rows(scope: Sequence[str], options: Mapping[str, str]) -> list[list[Any]]:
    kind = options.get("index_kind") or IndexKind.PEACE
    source = (options.get("source") or "").strip()
    if kind not in IndexKind.values or not source:
        raise BadRequest(_("Choose the index and the source of the counts."))
    qs = MonthlyCount.objects.filter(prefixes_q(scope), kind=kind, source=source)
    month = parse_month(options.get("month") or "") if options.get("month") else None
    if options.get("month") and month is None:
        raise BadRequest(_("The month is written YYYY-MM."))
    month = month or qs.order_by("-month").values_list("month", flat=True).first()
    rows = qs.filter(month=month).order_by("region_code", "indicator_code")
    return [
        [c.region_code, c.month, c.indicator_code, c.count]
        for c in rows.only("region_code", "month", "indicator_code", "count")
    ]


def _counts_book(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("incident counts")[:31]
    ws.append(COUNT_HEADINGS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _counts_load(
    actor: Any, content: bytes, name: str, scope: Sequence[str], o: Mapping[str, str]
) -> ImportReport:
    kind = o.get("index_kind") or IndexKind.PEACE
    source = (o.get("source") or "").strip()
    report = ImportReport()
    if kind not in IndexKind.values:
        report.error(name, "-", _("unknown index %(k)s") % {"k": kind})
    if not source or len(source) > 40:
        report.error(
            name, "-", _("name the source of the counts (up to 40 characters)")
        )
    if not report.ok:
        raise ImportRejected(report)
    return counts_import(
        actor=actor,
        kind=kind,
        content=content,
        file_name=name,
        source=source,
        scope=scope,
    )


def _has(perm: str) -> Callable[[Any], bool]:
    return lambda user: bool(user.has_perm(perm))


def _counts_may(user: Any) -> bool:
    return bool(user.is_superuser or user.roles & COUNT_ROLES)


KINDS: dict[str, Kind] = {}
for _kind in (
    Kind(
        "catalogue",
        gettext_lazy("matter catalogue"),
        _has("events.change_matter"),
        catalogue_template_xlsx,
        lambda scope, options: catalogue_export_xlsx(),
        _catalogue_load,
    ),
    Kind(
        "departments",
        sheets.DEPARTMENTS.title,
        _has(CONFIGURE),
        *_one_sheet(
            sheets.DEPARTMENTS, sheets.departments_rows, sheets.departments_check
        ),
    ),
    Kind(
        "staff",
        sheets.STAFF.title,
        _has(MANAGE_ACCOUNTS),
        *_one_sheet(sheets.STAFF, sheets.staff_rows, sheets.staff_check),
    ),
    Kind(
        "experts",
        pool.EXPERTS.title,
        _has("disputes.add_mediator"),
        *_one_sheet(pool.EXPERTS, pool.experts_rows, pool.experts_check),
    ),
    Kind(
        "counts",
        gettext_lazy("monthly incident counts"),
        _counts_may,
        lambda: _counts_book([]),
        lambda scope, options: _counts_book(_counts_rows(scope, options)),
        _counts_load,
        ("index_kind", "source", "month"),
    ),
):
    KINDS[_kind.key] = _kind


def kinds_for(user: Any) -> dict[str, Kind]:
    """The kinds of bulk data ``user`` may handle."""
    return {key: k for key, k in KINDS.items() if k.may(user)}


def bulk_import(
    *,
    actor: Any,
    kind: str,
    content: bytes,
    file_name: str,
    scope: Sequence[str],
    options: Mapping[str, str] | None = None,
) -> ImportReport:
    """Import one file of ``kind``: every row written, or ImportRejected and none."""
    k = KINDS[kind]
    if actor is not None and not k.may(actor):
        raise PermissionDenied(_("Your role may not do this."))
    if len(content) > MAX_UPLOAD:
        report = ImportReport()
        report.error(file_name, "-", _("file larger than 50 MB"))
        raise ImportRejected(report)
    return k.load(actor, content, file_name, scope, options or {})


def bulk_export(
    *, actor: Any, kind: str, scope: Sequence[str], options: Mapping[str, str]
) -> bytes:
    k = KINDS[kind]
    if actor is not None and not k.may(actor):
        raise PermissionDenied(_("Your role may not do this."))
    data = k.export(scope, options)
    audit_record(
        actor=actor,
        action="exchange.bulk_export",
        object_type="exchange.bulk",
        object_id=kind,
        changes={"scope": list(scope), "options": dict(options)},
    )
    return data

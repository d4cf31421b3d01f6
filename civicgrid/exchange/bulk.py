"""Bulk Excel (xlsx) templates for departments and for staff posts (grid workers,
grid leaders, specialist grid workers, experts): download the template, fill it,
upload it; every bad row is reported with its line and reason, and nothing is
written unless every row is good. The matter catalogue (events) and the monthly
incident counts (peace index) have their own workbooks in their apps."""

import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role, User
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.core.scope import covers
from civicgrid.regions.models import Grid, Region

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 20_000
GRID_ROLES = (Role.GRID_WORKER, Role.GRID_LEADER, Role.GRID_SPECIALIST)
STAFF_ROLES = (*GRID_ROLES, Role.EXPERT)


@dataclass(frozen=True)
class Sheet:
    key: str
    title: Any
    columns: tuple[tuple[str, Any], ...]  # (machine key, label)
    example: tuple[str, ...]


DEPARTMENTS = Sheet(
    "departments",
    gettext_lazy("departments"),
    (
        ("name", gettext_lazy("department name")),
        ("kind", gettext_lazy("kind")),
        ("region", gettext_lazy("region code")),
    ),
    ("张店区城市管理局", "urban_management", "370303000000"),
)
STAFF = Sheet(
    "staff",
    gettext_lazy("staff"),
    (
        ("username", gettext_lazy("username")),
        ("display_name", gettext_lazy("name")),
        ("phone", gettext_lazy("phone")),
        ("role", gettext_lazy("role")),
        ("grid", gettext_lazy("grid code (grid roles)")),
        ("region", gettext_lazy("region code (experts)")),
    ),
    ("zd_wgy_001", "王网格", "13800000000", "grid_worker", "370303001001001", ""),
)
SHEETS = {s.key: s for s in (DEPARTMENTS, STAFF)}


def template(sheet: Sheet) -> bytes:
    """Headers (label and machine key) and a drop-down of codes on the first sheet;
    a filled example on a second sheet (only the first sheet is imported)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = str(sheet.title)[:31]
    ws.append([str(label) for _, label in sheet.columns])
    ws.append([key for key, _ in sheet.columns])
    example = wb.create_sheet(_("example"))
    example.append([str(label) for _, label in sheet.columns])
    example.append([key for key, _ in sheet.columns])
    example.append(list(sheet.example))
    codes = (
        Department.Kind.values
        if sheet is DEPARTMENTS
        else [str(r) for r in STAFF_ROLES]
    )
    col = [k for k, _ in sheet.columns].index(
        "kind" if sheet is DEPARTMENTS else "role"
    )
    letter = chr(ord("A") + col)
    dv = DataValidation(type="list", formula1='"' + ",".join(codes) + '"')
    ws.add_data_validation(dv)
    dv.add(f"{letter}3:{letter}{MAX_ROWS}")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rows(
    content: bytes, sheet: Sheet, report: ImportReport, name: str
) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a non-workbook
        report.error(name, 1, _("not an Excel (xlsx) workbook"))
        return
    ws = wb.worksheets[0]
    keys = [k for k, _ in sheet.columns]
    header: list[str] | None = None
    for line, raw in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = ["" if v is None else str(v).strip() for v in raw]
        if header is None:
            if set(keys) <= set(cells):
                header = cells
            elif line > 2:
                report.error(
                    name,
                    line,
                    _("no heading row naming the columns %(c)s")
                    % {"c": ", ".join(keys)},
                )
                return
            continue
        if not any(cells):
            continue
        if line > MAX_ROWS:
            report.error(name, line, _("too many rows"))
            return
        yield (
            line,
            {
                k: cells[header.index(k)] if header.index(k) < len(cells) else ""
                for k in keys
            },
        )


def _check_departments(
    rows: Sequence[tuple[int, dict[str, str]]],
    scope: Sequence[str],
    report: ImportReport,
    name: str,
) -> list[Callable[[Any], Any]]:
    writes: list[Callable[[Any], Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, r in rows:
        region = (
            Region.objects.filter(code=r["region"]).first()
            or Region.objects.filter(region_code=r["region"]).first()
        )
        problem = None
        if not r["name"] or len(r["name"]) > 100:
            problem = _("a name of 1 to 100 characters is required")
        elif r["kind"] not in Department.Kind.values:
            problem = _("unknown department kind %(k)s") % {"k": r["kind"]}
        elif region is None:
            problem = _("unknown region %(c)s") % {"c": r["region"]}
        elif not covers(scope, region.region_code):
            problem = _("region %(c)s is outside your scope") % {"c": r["region"]}
        elif (r["name"], region.code) in seen:
            problem = _("same department as line %(n)s") % {
                "n": seen[(r["name"], region.code)]
            }
        elif Department.objects.filter(name=r["name"], region=region).exists():
            problem = _("department %(d)s already exists") % {"d": r["name"]}
        if problem:
            report.error(name, line, problem)
            continue
        seen[(r["name"], region.code)] = line  # type: ignore[union-attr]

        def write(actor: Any, r: dict[str, str] = r, region: Any = region) -> Any:
            return accounts.department_create(
                actor=actor, name=r["name"], kind=r["kind"], region=region
            )

        writes.append(write)
    return writes


def _check_staff(
    rows: Sequence[tuple[int, dict[str, str]]],
    scope: Sequence[str],
    report: ImportReport,
    name: str,
) -> list[Callable[[Any], Any]]:
    writes: list[Callable[[Any], Any]] = []
    seen: dict[str, int] = {}
    for line, r in rows:
        grid = Grid.objects.filter(code=r["grid"]).first() if r["grid"] else None
        region = (
            Region.objects.filter(code=r["region"]).first()
            or Region.objects.filter(region_code=r["region"]).first()
            if r["region"]
            else None
        )
        place = grid.region_code if grid else region.region_code if region else ""
        problem = None
        if not r["username"] or len(r["username"]) > 150:
            problem = _("a username is required")
        elif r["username"] in seen:
            problem = _("same username as line %(n)s") % {"n": seen[r["username"]]}
        elif User.objects.filter(username=r["username"]).exists():
            problem = _("user %(u)s already exists") % {"u": r["username"]}
        elif r["role"] not in STAFF_ROLES:
            problem = _("role must be one of %(r)s") % {"r": ", ".join(STAFF_ROLES)}
        elif r["role"] in GRID_ROLES and grid is None:
            problem = _("unknown grid %(g)s") % {"g": r["grid"]}
        elif r["role"] == Role.EXPERT and region is None:
            problem = _("unknown region %(c)s") % {"c": r["region"]}
        elif r["phone"] and not (r["phone"].isdigit() and len(r["phone"]) == 11):
            problem = _("phone %(p)s is not an 11-digit mobile number") % {
                "p": r["phone"]
            }
        elif not covers(scope, place):
            problem = _("%(c)s is outside your scope") % {"c": r["grid"] or r["region"]}
        if problem:
            report.error(name, line, problem)
            continue
        seen[r["username"]] = line

        def write(
            actor: Any, r: dict[str, str] = r, grid: Any = grid, region: Any = region
        ) -> Any:
            user = accounts.user_create(
                actor=actor,
                username=r["username"],
                password=None,
                display_name=r["display_name"],
                phone=r["phone"],
            )
            return accounts.staff_post_create(
                actor=actor,
                user=user,
                role=r["role"],
                grid=grid if r["role"] in GRID_ROLES else None,
                region=region if r["role"] == Role.EXPERT else None,
            )

        writes.append(write)
    return writes


def bulk_import(
    *, actor: Any, kind: str, content: bytes, file_name: str, scope: Sequence[str]
) -> ImportReport:
    """Check every row; write all of them in one transaction or none."""
    sheet = SHEETS[kind]
    report = ImportReport()
    rows = list(_rows(content, sheet, report, file_name))
    if report.ok and not rows:
        report.error(file_name, "-", _("the file has no rows"))
    check = _check_departments if sheet is DEPARTMENTS else _check_staff
    writes = check(rows, scope, report, file_name) if report.ok else []
    if not report.ok:
        raise ImportRejected(report)
    try:
        with transaction.atomic():
            for write in writes:
                write(actor)
    except (PermissionDenied, ValidationError) as exc:
        report.error(
            file_name,
            "-",
            str(exc.messages[0] if isinstance(exc, ValidationError) else exc),
        )
        raise ImportRejected(report) from None
    report.created = len(writes)
    return report

"""The workbook layout of the matter catalogue: sheets, columns and their spellings in
each language, reading rows out of a workbook and writing one (see events.catalogue)."""

import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from civicgrid.accounts.models import Department
from civicgrid.core.reports import ImportReport
from civicgrid.events.models import LimitKind, Severity

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 10_000  # per sheet; a catalogue has hundreds
LEVELS = ("town", "county", "city")
LIMIT_KEYS = [(s.value, k.value) for s in Severity for k in LimitKind]


# A column: (machine key, label in the active language, width in characters).
ColumnSpec = tuple[str, str, int]


def category_columns() -> list[ColumnSpec]:
    return [
        ("code", _("category code"), 14),
        ("name", _("category name"), 22),
        ("parent", _("parent category code"), 18),
        ("order", _("order"), 8),
    ]


def department_label(level: str) -> str:
    return {
        "town": _("responsible department (town)"),
        "county": _("responsible department (county)"),
        "city": _("responsible department (city)"),
    }[level]


def matter_columns() -> list[ColumnSpec]:
    limits = [
        (
            f"{severity}.{kind}",
            _("%(severity)s: %(step)s (hours)")
            % {"severity": Severity(severity).label, "step": LimitKind(kind).label},
            12,
        )
        for severity, kind in LIMIT_KEYS
    ]
    return [
        ("code", _("matter code"), 12),
        ("name", _("matter name"), 24),
        ("category", _("category code"), 12),
        ("description", _("description"), 40),
        ("keywords", _("keywords"), 40),
        *[(f"{lvl}_department", department_label(lvl), 16) for lvl in LEVELS],
        *limits,
        ("admitted_to_grid", _("admitted to grid workers"), 12),
        ("small_in_grid", _("small matter handled in the grid"), 12),
        ("peace_item_code", _("peace-index item"), 12),
        ("active", _("active"), 8),
    ]


def sheet_titles() -> dict[str, str]:
    return {"categories": _("matter categories"), "matters": _("matters")}


def languages() -> list[str]:
    return ["en", *(code for code, _name in settings.LANGUAGES)]


def norm(text: Any) -> str:
    text = str(text).replace("（", "(").replace("）", ")").replace("：", ":")
    return re.sub(r"\s+", "", text).casefold()


def aliases(labels: Callable[[], Iterable[tuple[str, str]]]) -> dict[str, str]:
    """Every spelling of a key: the key itself and its label in each language."""
    out: dict[str, str] = {}
    for lang in languages():
        with translation.override(lang):
            for key, label in labels():
                out.setdefault(norm(label), key)
                out[norm(key)] = key
    return out


def column_aliases(columns: Callable[[], list[ColumnSpec]]) -> dict[str, str]:
    return aliases(lambda: ((key, label) for key, label, _w in columns()))


def department_aliases() -> dict[str, str]:
    return aliases(lambda: ((k.value, str(k.label)) for k in Department.Kind))


def bool_aliases() -> dict[str, bool]:
    out: dict[str, bool] = {}
    for lang in languages():
        with translation.override(lang):
            out[norm(_("Yes"))] = True
            out[norm(_("No"))] = False
    out.update({v: True for v in ("1", "true", "yes", "y", "是", "√", "✓")})
    out.update({v: False for v in ("0", "false", "no", "n", "否", "×")})
    return out


@dataclass
class Row:
    where: str  # "sheet:line" for a workbook, "matters[3]" for the JSON catalogue
    values: Mapping[str, Any]


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number: 101, not 101.0
    return str(value).strip()


def _read_sheet(
    ws: Any,
    title: str,
    columns: Callable[[], list[ColumnSpec]],
    report: ImportReport,
    file: str,
) -> list[Row]:
    aliases = column_aliases(columns)
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    keys: list[str | None] = []
    for cell in header:
        key = aliases.get(norm(cell_text(cell))) if cell_text(cell) else None
        if cell_text(cell) and key is None:
            report.notes.append(
                _("%(sheet)s: column %(column)s ignored")
                % {"sheet": title, "column": cell_text(cell)}
            )
        if key is not None and key in keys:
            report.error(
                file,
                f"{title}:1",
                _("column %(column)s appears twice") % {"column": cell_text(cell)},
            )
        keys.append(key)
    labels = {key: label for key, label, _w in columns()}
    for key in labels:
        if key not in keys:
            report.error(
                file,
                f"{title}:1",
                _("missing column %(column)s") % {"column": labels[key]},
            )
    out: list[Row] = []
    for line, cells in enumerate(rows, start=2):
        if all(cell_text(c) == "" for c in cells):
            continue
        if len(out) >= MAX_ROWS:
            report.error(file, f"{title}:{line}", _("too many rows"))
            break
        values = {k: c for k, c in zip(keys, cells, strict=False) if k is not None}
        out.append(Row(f"{title}:{line}", values))
    return out


class NotAWorkbook(Exception):
    """The bytes are not an .xlsx workbook."""


def read_workbook(
    data: bytes, file: str, report: ImportReport
) -> tuple[list[Row], list[Row]]:
    """The category and matter rows of a workbook; header problems go to the report."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl and zipfile raise many types for a bad file
        raise NotAWorkbook(file) from None
    found: dict[str, list[Row]] = {}
    columns = {"categories": category_columns, "matters": matter_columns}
    try:
        sheets = {norm(ws.title): ws for ws in wb.worksheets}
        for alias, key in aliases(lambda: sheet_titles().items()).items():
            ws = sheets.pop(alias, None)
            if ws is not None and key not in found:
                found[key] = _read_sheet(ws, ws.title, columns[key], report, file)
        if not found:
            report.error(
                file,
                0,
                _("no sheet named %(names)s")
                % {"names": " / ".join(sheet_titles().values())},
            )
    finally:
        wb.close()
    return found.get("categories", []), found.get("matters", [])


def write_workbook(
    category_rows: Iterable[Sequence[Any]], matter_rows: Iterable[Sequence[Any]]
) -> bytes:
    wb = Workbook()
    titles = sheet_titles()
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    lists = wb.create_sheet("lists")
    kinds = [str(k.label) for k in Department.Kind]
    for i, label in enumerate(kinds, start=1):
        lists.cell(i, 1, label)
    lists.cell(1, 2, _("Yes"))
    lists.cell(2, 2, _("No"))
    lists.sheet_state = "hidden"
    categories_ws = wb.active
    assert categories_ws is not None
    for ws, key, columns, rows in (
        (categories_ws, "categories", category_columns(), category_rows),
        (wb.create_sheet(index=1), "matters", matter_columns(), matter_rows),
    ):
        ws.title = titles[key]
        ws.append([label for _k, label, _w in columns])
        for i, (_key, _label, width) in enumerate(columns, start=1):
            cell = ws.cell(1, i)
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "B2"
        for row in rows:
            ws.append(list(row))
        keys = [key for key, _l, _w in columns]
        checks = [
            (
                DataValidation(type="list", formula1=f"lists!$A$1:$A${len(kinds)}"),
                [f"{lvl}_department" for lvl in LEVELS],
            ),
            (
                DataValidation(type="list", formula1="lists!$B$1:$B$2"),
                ["admitted_to_grid", "small_in_grid", "active"],
            ),
            (
                DataValidation(type="decimal", operator="greaterThan", formula1="0"),
                [f"{s}.{k}" for s, k in LIMIT_KEYS],
            ),
        ]
        for validation, names in checks:
            validation.allow_blank = True
            validation.showErrorMessage = True
            validation.error = _("Choose a value from the list, or hours above 0.")
            for name in names:
                if name in keys:
                    letter = get_column_letter(keys.index(name) + 1)
                    validation.add(f"{letter}2:{letter}{MAX_ROWS}")
            if validation.sqref:
                ws.add_data_validation(validation)
    notes = wb.create_sheet(_("notes"))
    notes.column_dimensions["A"].width = 100
    for line in (
        _("One row per category and per matter; codes are unique."),
        _("Time limits are hours (0.5 = half an hour); all twelve are required."),
        _(
            "Rows not in the file stay as they are; set active to No to retire a matter."
        ),
        _("Nothing is imported while any row is wrong; every wrong row is listed."),
    ):
        notes.append([line])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

"""The matter catalogue (事项目录): the default catalogue, Excel import, export, template.

One workbook layout serves the template, the export and the import:

* sheet "matter categories" (事项分类): code | name | parent category code | order
* sheet "matters" (事项): code | name | category code | description | keywords |
  responsible department kind for the town, county and city | twelve time limits in
  hours (normal/urgent/major × sign for/handle/verify/return visit) | admitted to grid
  workers | small matter handled in the grid | peace-index item | active
* a hidden sheet of drop-down lists and a sheet of notes, both ignored on import.

Sheets and headers are recognised by their machine key (``code``, ``normal.sign_for``),
their English label or its translation, so an exported file re-imports whatever the
language. Department kinds may be written as codes or labels; yes/no as 是/否, yes/no,
true/false or 1/0. Either sheet may be left out (matters may name categories that are
already stored). Import is an upsert by code: what the file does not mention stays as
it is — set "active" to "no" to retire a matter. Every bad row is reported as
(file, "sheet:line", reason) and nothing is written unless every row is good.
"""

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department
from civicgrid.core.audit import audit_record, diff
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.events.catalogue_sheets import (
    LEVELS,
    LIMIT_KEYS,
    XLSX_CONTENT_TYPE,
    NotAWorkbook,
    Row,
    bool_aliases,
    cell_text,
    department_aliases,
    department_label,
    matter_columns,
    norm,
    read_workbook,
    write_workbook,
)
from civicgrid.events.models import LimitKind, Matter, MatterCategory, Severity

__all__ = [
    "XLSX_CONTENT_TYPE",
    "catalogue_export_xlsx",
    "catalogue_import_xlsx",
    "catalogue_load_default",
    "catalogue_template_xlsx",
    "validate_time_limits",
]

DEFAULT_CATALOGUE = Path(__file__).resolve().parent / "data" / "default_catalogue.json"
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")
KEYWORD_SEPARATORS = re.compile(r"[,，、;；\s]+")
MAX_HOURS = 24 * 366  # a limit beyond a year is a typing error


# --- reading cells -------------------------------------------------------------


def _number(value: Any) -> float | int:
    """Hours: a positive number (4, 0.5, "24"); integral values come back as int."""
    if isinstance(value, bool):
        raise ValueError(_("%(value)s is not a number") % {"value": value})
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(
                _("%(value)s is not a number") % {"value": value}
            ) from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(_("%(value)s is not a number") % {"value": value})
    if value <= 0:
        raise ValueError(_("%(value)s is not a positive number") % {"value": value})
    if value > MAX_HOURS:
        raise ValueError(_("%(value)s hours is more than a year") % {"value": value})
    return int(value) if float(value).is_integer() else float(value)


def validate_time_limits(value: Any) -> dict[str, dict[str, float | int]]:
    """The complete {severity: {step: hours}} mapping, or ValueError naming what is wrong.
    Signing for may not take longer than handling."""
    if not isinstance(value, Mapping):
        raise ValueError(_("time limits must map each severity to its limits"))
    out: dict[str, dict[str, float | int]] = {}
    problems: list[str] = []
    for severity, kind in LIMIT_KEYS:
        hours = (value.get(severity) or {}).get(kind)
        label = _("%(severity)s: %(step)s (hours)") % {
            "severity": Severity(severity).label,
            "step": LimitKind(kind).label,
        }
        if hours in (None, ""):
            problems.append(_("missing %(column)s") % {"column": label})
            continue
        try:
            out.setdefault(severity, {})[kind] = _number(hours)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
    for severity, limits in out.items():
        sign_for, handle = limits.get("sign_for"), limits.get("handle")
        if sign_for is not None and handle is not None and sign_for > handle:
            problems.append(
                _("%(severity)s: signing for may not take longer than handling")
                % {"severity": Severity(severity).label}
            )
    if problems:
        raise ValueError("; ".join(problems))
    return out


def _whole(value: Any) -> int | None:
    """An order: blank (0) or a whole number ≥ 0 (3, 3.0 or "3"); None when not."""
    if value is None or cell_text(value) == "":
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return int(value) if value >= 0 else None
    text = cell_text(value)
    return int(text) if text.isascii() and text.isdigit() else None


def _keywords(value: Any) -> str:
    seen: list[str] = []
    for word in KEYWORD_SEPARATORS.split(cell_text(value)):
        if word and word not in seen:
            seen.append(word)
    return ",".join(seen)


# --- validation ----------------------------------------------------------------


@dataclass
class _Checked:
    categories: dict[str, dict[str, Any]]
    matters: dict[str, dict[str, Any]]


def _check_code(code: str, seen: dict[str, str], problems: list[str]) -> None:
    if not code:
        problems.append(_("missing code"))
    elif not CODE_RE.fullmatch(code):
        problems.append(
            _("code %(code)s must be 1 to 20 letters, digits, '.', '-' or '_'")
            % {"code": code}
        )
    elif code in seen:
        problems.append(
            _("duplicate code %(code)s (also at %(where)s)")
            % {"code": code, "where": seen[code]}
        )


def _check_name(name: str, problems: list[str]) -> None:
    if not name:
        problems.append(_("missing name"))
    elif len(name) > 100:
        problems.append(_("name is longer than 100 characters"))


def _check_categories(
    rows: Sequence[Row], report: ImportReport, file: str
) -> dict[str, dict[str, Any]]:
    seen: dict[str, str] = {}
    clean: dict[str, dict[str, Any]] = {}
    stored = dict(MatterCategory.objects.values_list("code", "parent__code").iterator())
    for row in rows:
        problems: list[str] = []
        code, name = (
            cell_text(row.values.get("code")),
            cell_text(row.values.get("name")),
        )
        parent = cell_text(row.values.get("parent"))
        _check_code(code, seen, problems)
        _check_name(name, problems)
        order_value = row.values.get("order")
        order = _whole(order_value)
        if order is None:
            problems.append(
                _("order %(value)s is not a whole number") % {"value": order_value}
            )
        if code and code not in seen:
            seen[code] = row.where
            if not problems:
                clean[code] = {
                    "name": name,
                    "parent": parent,
                    "order": order,
                    "where": row.where,
                }
        for problem in problems:
            report.error(file, row.where, problem)
    # Parents may come later in the sheet or be stored already; loops are refused.
    parents = {**stored, **{c: v["parent"] or None for c, v in clean.items()}}
    for code, values in list(clean.items()):
        parent = values["parent"]
        problem = ""
        if parent and parent == code:
            problem = _("a category cannot be its own parent")
        elif parent and parent not in seen and parent not in stored:
            problem = _("unknown parent category %(code)s") % {"code": parent}
        elif parent:
            node: str | None = parent
            for _step in range(len(parents) + 1):
                if node is None or node == code:
                    break
                node = parents.get(node)
            if node == code:
                problem = _("category %(code)s would be its own ancestor") % {
                    "code": code
                }
        if problem:
            report.error(file, values["where"], problem)
            del clean[code]
    return clean


def _check_matters(
    rows: Sequence[Row],
    report: ImportReport,
    file: str,
    category_codes: set[str],
) -> dict[str, dict[str, Any]]:
    seen: dict[str, str] = {}
    clean: dict[str, dict[str, Any]] = {}
    departments = department_aliases()
    booleans = bool_aliases()
    labels = {key: label for key, label, _w in matter_columns()}
    for row in rows:
        problems: list[str] = []
        values: dict[str, Any] = {}
        code, name = (
            cell_text(row.values.get("code")),
            cell_text(row.values.get("name")),
        )
        _check_code(code, seen, problems)
        _check_name(name, problems)
        category = cell_text(row.values.get("category"))
        if not category:
            problems.append(_("missing category"))
        elif category not in category_codes:
            problems.append(_("unknown category %(code)s") % {"code": category})
        values["keywords"] = _keywords(row.values.get("keywords"))
        if len(values["keywords"]) > 300:
            problems.append(_("keywords are longer than 300 characters"))
        for level in LEVELS:
            raw = row.values.get(f"{level}_department")
            kind = departments.get(norm(cell_text(raw))) if cell_text(raw) else ""
            if kind is None:
                problems.append(
                    _("%(column)s: unknown department kind %(value)s")
                    % {"column": department_label(level), "value": cell_text(raw)}
                )
            values[f"{level}_department"] = kind or ""
        try:
            values["time_limits"] = validate_time_limits(
                {
                    s: {k: row.values.get(f"{s}.{k}") for k in LimitKind.values}
                    for s in Severity.values
                }
            )
        except ValueError as exc:
            problems.append(str(exc))
        for key, default in (
            ("admitted_to_grid", False),
            ("small_in_grid", False),
            ("active", True),
        ):
            raw = row.values.get(key)
            if isinstance(raw, bool):
                values[key] = raw
            elif cell_text(raw) == "":
                values[key] = default
            elif norm(cell_text(raw)) in booleans:
                values[key] = booleans[norm(cell_text(raw))]
            else:
                problems.append(
                    _("%(column)s: %(value)s is neither yes nor no")
                    % {"column": labels[key], "value": cell_text(raw)}
                )
        if values.get("small_in_grid") and not values.get("admitted_to_grid"):
            problems.append(
                _("a small matter handled in the grid must be admitted to grid workers")
            )
        peace = cell_text(row.values.get("peace_item_code"))
        if len(peace) > 20:
            problems.append(_("peace-index item code is longer than 20 characters"))
        if code and code not in seen:
            seen[code] = row.where
            if not problems:
                clean[code] = {
                    **values,
                    "name": name,
                    "category": category,
                    "description": cell_text(row.values.get("description")),
                    "peace_item_code": peace,
                }
        for problem in problems:
            report.error(file, row.where, problem)
    return clean


def _check(
    category_rows: Sequence[Row],
    matter_rows: Sequence[Row],
    report: ImportReport,
    file: str,
) -> _Checked:
    categories = _check_categories(category_rows, report, file)
    known = {cell_text(r.values.get("code")) for r in category_rows} | set(
        MatterCategory.objects.values_list("code", flat=True)
    )
    matters = _check_matters(matter_rows, report, file, known)
    return _Checked(categories, matters)


# --- writing -------------------------------------------------------------------

CATEGORY_FIELDS = ("name", "parent", "order")
MATTER_FIELDS = (
    "name",
    "category",
    "description",
    "keywords",
    "town_department",
    "county_department",
    "city_department",
    "time_limits",
    "admitted_to_grid",
    "small_in_grid",
    "peace_item_code",
    "active",
)


def _category_state(c: MatterCategory) -> dict[str, Any]:
    return {
        "name": c.name,
        "parent": c.parent.code if c.parent else "",
        "order": c.order,
    }


def _matter_state(m: Matter) -> dict[str, Any]:
    state = {f: getattr(m, f) for f in MATTER_FIELDS if f != "category"}
    return {**state, "category": m.category.code}


def _depth(code: str, parents: Mapping[str, str | None]) -> int:
    depth, node = 0, parents.get(code)
    while node and depth <= len(parents):
        depth, node = depth + 1, parents.get(node)
    return depth


def _apply(checked: _Checked, *, actor: Any, file: str, action: str) -> ImportReport:
    report = ImportReport()
    changed: list[str] = []
    with transaction.atomic():
        by_code = {c.code: c for c in MatterCategory.objects.select_related("parent")}
        parents = {c: (o.parent.code if o.parent else None) for c, o in by_code.items()}
        parents.update({c: v["parent"] or None for c, v in checked.categories.items()})
        for code in sorted(checked.categories, key=lambda c: _depth(c, parents)):
            values = checked.categories[code]
            fields = {
                "name": values["name"],
                "order": values["order"],
                "parent": by_code[values["parent"]] if values["parent"] else None,
            }
            category = by_code.get(code)
            before = _category_state(category) if category else None
            if category is None:
                category = MatterCategory.objects.create(code=code, **fields)
                by_code[code] = category
            else:
                for name, value in fields.items():
                    setattr(category, name, value)
            after = _category_state(category)
            if before is not None and before == after:
                continue
            if before is not None:
                category.save()
            report.created += before is None
            report.updated += before is not None
            changed.append(f"category:{code}")
            audit_record(
                actor=actor,
                action="matter_category.create"
                if before is None
                else "matter_category.update",
                obj=category,
                changes=diff(before, after),
            )
        by_matter = {m.code: m for m in Matter.objects.select_related("category")}
        for code, values in checked.matters.items():
            fields = {**values, "category": by_code[values["category"]]}
            matter = by_matter.get(code)
            before = _matter_state(matter) if matter else None
            if matter is None:
                matter = Matter.objects.create(code=code, **fields)
            else:
                for name, value in fields.items():
                    setattr(matter, name, value)
            after = _matter_state(matter)
            if before is not None and before == after:
                continue
            if before is not None:
                matter.save()
            report.created += before is None
            report.updated += before is not None
            changed.append(code)
            audit_record(
                actor=actor,
                action="matter.create" if before is None else "matter.update",
                obj=matter,
                changes=diff(before, after),
            )
        unchanged = len(checked.categories) + len(checked.matters) - len(changed)
        report.notes.append(_("%(count)s rows unchanged") % {"count": unchanged})
        audit_record(
            actor=actor,
            action=action,
            object_type="events.matter",
            changes={
                "file": file,
                "created": report.created,
                "updated": report.updated,
                "unchanged": unchanged,
                "codes": changed[:1000],
            },
        )
    return report


def _run(
    category_rows: Sequence[Row],
    matter_rows: Sequence[Row],
    *,
    actor: Any,
    file: str,
    action: str,
    report: ImportReport | None = None,
) -> ImportReport:
    report = report or ImportReport()
    checked = _check(category_rows, matter_rows, report, file)
    if report.errors:
        raise ImportRejected(report)
    result = _apply(checked, actor=actor, file=file, action=action)
    result.notes[:0] = report.notes
    return result


# --- services ------------------------------------------------------------------


def catalogue_load_default(*, actor: Any) -> ImportReport:
    """Create or update the default catalogue by code; running it again changes nothing.
    Stored matters the default does not name are left alone."""
    doc = json.loads(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    profiles = doc.get("limit_profiles", {})
    category_rows = [
        Row(f"categories[{i}]", c) for i, c in enumerate(doc.get("categories", []))
    ]
    matter_rows = []
    for i, matter in enumerate(doc.get("matters", [])):
        limits = matter.get("limits")
        limits = profiles.get(limits, {}) if isinstance(limits, str) else limits or {}
        values = {k: v for k, v in matter.items() if k != "limits"}
        for severity, kind in LIMIT_KEYS:
            values[f"{severity}.{kind}"] = (limits.get(severity) or {}).get(kind)
        matter_rows.append(Row(f"matters[{i}]", values))
    return _run(
        category_rows,
        matter_rows,
        actor=actor,
        file=DEFAULT_CATALOGUE.name,
        action="matter_catalogue.load_default",
    )


def catalogue_import_xlsx(data: bytes, *, actor: Any, file: str) -> ImportReport:
    """Upsert categories and matters from a workbook laid out like the template.
    Raises ImportRejected (nothing written) when any row is bad."""
    report = ImportReport()
    try:
        category_rows, matter_rows = read_workbook(data, file, report)
    except NotAWorkbook:
        report.error(file, 0, _("not an Excel workbook (.xlsx)"))
        raise ImportRejected(report) from None
    if report.errors:
        raise ImportRejected(report)
    return _run(
        category_rows,
        matter_rows,
        actor=actor,
        file=file,
        action="matter_catalogue.import",
        report=report,
    )


def _tree_order(categories: list[MatterCategory]) -> list[MatterCategory]:
    children: dict[int | None, list[MatterCategory]] = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c)
    out: list[MatterCategory] = []

    def walk(parent: int | None) -> None:
        for c in sorted(children.get(parent, []), key=lambda c: (c.order, c.code)):
            out.append(c)
            walk(c.pk)

    walk(None)
    return out


def catalogue_template_xlsx() -> bytes:
    """An empty workbook with the headers, drop-down lists and notes."""
    return write_workbook([], [])


def catalogue_export_xlsx() -> bytes:
    """The whole catalogue, in the layout the import reads back unchanged."""
    kinds = {k.value: str(k.label) for k in Department.Kind}
    yes, no = _("Yes"), _("No")
    categories = _tree_order(list(MatterCategory.objects.select_related("parent")))
    position = {c.pk: i for i, c in enumerate(categories)}
    category_rows = [
        [c.code, c.name, c.parent.code if c.parent else "", c.order] for c in categories
    ]
    matters = sorted(
        Matter.objects.select_related("category"),
        key=lambda m: (position.get(m.category_id, len(position)), m.code),
    )
    matter_rows = [
        [
            m.code,
            m.name,
            m.category.code,
            m.description,
            m.keywords,
            *[
                kinds.get(m.department_kind(lvl), m.department_kind(lvl))
                for lvl in LEVELS
            ],
            *[(m.time_limits.get(s) or {}).get(k) for s, k in LIMIT_KEYS],
            yes if m.admitted_to_grid else no,
            yes if m.small_in_grid else no,
            m.peace_item_code,
            yes if m.active else no,
        ]
        for m in matters
    ]
    return write_workbook(category_rows, matter_rows)

"""Households from Excel (or CSV): one row per person, the rows of one address in
one grid make one household. Every row is checked first (grid in the importer's
regions, address not registered yet, ID number, phone, choices, the same ID twice);
any bad row rejects the file with a per-row report and nothing is written."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.core import scope
from civicgrid.core.reports import ImportRejected, ImportReport
from civicgrid.core.tables import header_columns, read_table
from civicgrid.regions.models import Grid
from civicgrid.registry.errors import RegistryError
from civicgrid.registry.models import (
    Household,
    HouseKind,
    Relation,
    Residence,
    SpecialGroup,
)
from civicgrid.registry.services import (
    _id_taken,
    _person_values,
    household_collect,
)

# Column -> the headings accepted (Chinese as officials write them, or the API name).
COLUMNS: dict[str, tuple[str, ...]] = {
    "grid": ("网格编码", "grid"),
    "address": ("住址", "地址", "address"),
    "kind": ("房屋类别", "kind"),
    "name": ("姓名", "name"),
    "id_number": ("身份证号", "公民身份号码", "id_number"),
    "phone": ("联系电话", "电话", "phone"),
    "relation": ("与户主关系", "relation"),
    "residence": ("人口类别", "residence"),
    "groups": ("特殊人群", "groups"),
}
REQUIRED = ("grid", "address", "name")
SEPARATORS = ("、", "，", ",", ";", "；")


def _by_label(choices: Any) -> dict[str, str]:
    """Codes by their Chinese label, English label or code."""
    out: dict[str, str] = {}
    for value, label in choices.choices:
        out[value] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                out[str(label)] = value
    return out


def _text(row: list[Any], columns: Mapping[str, int], key: str) -> str:
    i = columns.get(key)
    if i is None or i >= len(row) or row[i] is None:
        return ""
    value = row[i]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _choice(text: str, labels: Mapping[str, str], default: str) -> str:
    if not text:
        return default
    if text not in labels:
        raise RegistryError(_("unknown value %(v)r") % {"v": text})
    return labels[text]


def households_import(*, actor: Any, content: bytes, file_name: str) -> ImportReport:
    """Register the households of the file; ImportRejected (nothing written) when
    any row is bad."""
    report = ImportReport()
    kinds, relations = _by_label(HouseKind), _by_label(Relation)
    residences, groups = _by_label(Residence), _by_label(SpecialGroup)
    households: dict[tuple[str, str], dict[str, Any]] = {}
    ids_seen: dict[str, int] = {}
    grids: dict[str, Grid | None] = {}
    prefixes = getattr(actor, "scope_prefixes", [])
    try:
        rows = iter(list(read_table(content, file_name)))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one report line
        reason = _("unreadable file (CSV in UTF-8 or .xlsx)")
        report.error(file_name, 0, f"{reason}: {exc}")
        raise ImportRejected(report) from None
    header = next(rows, None)
    columns = header_columns(header[1] if header else [], COLUMNS)
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in columns]
    if missing:
        report.error(
            file_name, 1, _("missing columns: %(c)s") % {"c": "、".join(missing)}
        )
        raise ImportRejected(report)
    for line, row in rows:
        if not any(v not in (None, "") for v in row):
            continue
        code, address = _text(row, columns, "grid"), _text(row, columns, "address")
        try:
            if code not in grids:
                grids[code] = Grid.objects.filter(code=code).first()
            grid = grids[code]
            if grid is None or not scope.covers(prefixes, grid.code):
                raise RegistryError(
                    _("grid %(code)r is not in your regions") % {"code": code}
                )
            if not address:
                raise RegistryError(_("the address is required"))
            entry = {
                "name": _text(row, columns, "name"),
                "id_number": _text(row, columns, "id_number"),
                "phone": _text(row, columns, "phone"),
                "relation": _choice(
                    _text(row, columns, "relation"), relations, Relation.OTHER
                ),
                "residence": _choice(
                    _text(row, columns, "residence"),
                    residences,
                    Residence.PERMANENT,
                ),
                "groups": [
                    _choice(g.strip(), groups, "")
                    for g in _split(_text(row, columns, "groups"))
                ],
            }
            number = _person_values(entry, line).get("id_number", "")
            if number:
                if number in ids_seen:
                    raise RegistryError(
                        _("ID number also on line %(n)d") % {"n": ids_seen[number]}
                    )
                ids_seen[number] = line
                if _id_taken(grid.city_code, number, None):
                    raise RegistryError(_("this ID number is already registered"))
            key = (grid.code, address[:200])
            if key not in households:
                if Household.objects.filter(grid=grid, address=key[1]).exists():
                    raise RegistryError(
                        _(
                            "a household at this address is already registered "
                            "(update it by an information collection)"
                        )
                    )
                households[key] = {
                    "grid": grid,
                    "kind": _choice(
                        _text(row, columns, "kind"), kinds, HouseKind.OWNED
                    ),
                    "persons": [],
                }
            households[key]["persons"].append(entry)
        except RegistryError as exc:
            report.error(file_name, line, str(exc).replace(f"persons[{line}]: ", ""))
    if not report.ok:
        raise ImportRejected(report)
    with transaction.atomic():
        for (_code, address), h in households.items():
            household_collect(
                actor=actor,
                grid=h["grid"],
                fields={"address": address, "kind": h["kind"]},
                persons=h["persons"],
                data_source=f"import:{file_name}"[:100],
            )
            report.created += 1
    persons = sum(len(h["persons"]) for h in households.values())
    report.notes.append(
        ngettext("%(n)d person", "%(n)d persons", persons) % {"n": persons}
    )
    return report


def _split(text: str) -> list[str]:
    for sep in SEPARATORS[1:]:
        text = text.replace(sep, SEPARATORS[0])
    return [t for t in text.split(SEPARATORS[0]) if t.strip()]

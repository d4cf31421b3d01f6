"""Households to Excel: the import's template, and an export of a list of households
in the same shape (one row per member living there), masked unless the exporter may
unmask and states why. Every export is audited (who, how many, which filters), an
unmasked one also as a personal-data export."""

from collections.abc import Iterator, Mapping
from io import BytesIO
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from civicgrid.core.audit import audit_record
from civicgrid.core.personal import PersonalKind, mask
from civicgrid.core.reveal import can_unmask, personal_export_audit
from civicgrid.registry.errors import RegistryError
from civicgrid.registry.imports import COLUMNS
from civicgrid.registry.models import (
    Household,
    HouseKind,
    Person,
    Relation,
    Residence,
    SpecialGroup,
)
from civicgrid.registry.selectors import groups_shown

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# One file is for one town or a few grids, not a whole city's population.
EXPORT_LIMIT = 20_000
IMPORT_COLUMNS = tuple(COLUMNS)
PERSONAL = (
    ("name", PersonalKind.NAME),
    ("id_number", PersonalKind.ID_NUMBER),
    ("phone", PersonalKind.PHONE),
)


def _heading(key: str) -> str:
    return COLUMNS[key][0]


def template_xlsx() -> bytes:
    """An empty sheet with the import's headings, and a sheet of the values each
    choice column accepts."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Households")
    sheet.append([_heading(k) for k in IMPORT_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in "ABCDEFGHI":
        sheet.column_dimensions[column].width = 18
    notes = book.create_sheet(_("Accepted values"))
    notes.append([_("One row per person; the rows of one address make one household.")])
    notes.append([_("Separate several special groups with 、")])
    for key, choices in (
        ("kind", HouseKind),
        ("relation", Relation),
        ("residence", Residence),
        ("groups", SpecialGroup),
    ):
        notes.append([_heading(key), *[str(label) for label in choices.labels]])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _rows(
    actor: Any, households: QuerySet[Household], unmask: bool
) -> Iterator[list[Any]]:
    members = Prefetch(
        "persons", queryset=Person.objects.filter(active=True).order_by("id")
    )
    show_restricted = can_unmask(actor)
    for home in households.prefetch_related(members).iterator(chunk_size=500):
        start = [home.grid.code, home.grid.name, home.address, home.get_kind_display()]
        end = [
            timezone.localtime(home.last_visit_at).replace(tzinfo=None)
            if home.last_visit_at
            else None
        ]
        people = list(home.persons.all())
        if not people:
            yield [*start, "", "", "", "", "", "", *end]
        for p in people:
            personal = [
                (getattr(p, f) or "") if unmask else mask(getattr(p, f), kind)
                for f, kind in PERSONAL
            ]
            groups = groups_shown(actor, p.group_list, unmask=show_restricted)
            yield [
                *start,
                *personal,
                p.get_relation_display(),
                p.get_residence_display(),
                "、".join(str(SpecialGroup(g).label) for g in groups),
                *end,
            ]


def households_export(
    *,
    actor: Any,
    households: QuerySet[Household],
    filters: Mapping[str, str],
    unmask: bool = False,
    reason: str = "",
) -> bytes:
    """The households as an .xlsx workbook in the import's shape (plus the grid's
    name and the last visit). Unmasked only for those who may unmask, with a reason
    (PermissionDenied / ValidationError otherwise, nothing exported)."""
    count = households.count()
    if count > EXPORT_LIMIT:
        raise RegistryError(
            _(
                "%(n)d households: more than %(limit)d in one file. "
                "Narrow the list (a grid, a group) and export it in parts."
            )
            % {"n": count, "limit": EXPORT_LIMIT}
        )
    persons = Person.objects.filter(household__in=households, active=True).count()
    with transaction.atomic():
        if unmask:
            personal_export_audit(
                actor,
                what="registry.household",
                count=persons,
                fields=[f for f, _kind in PERSONAL],
                reason=reason,
            )
        audit_record(
            actor=actor,
            action="registry.export",
            object_type="registry.household",
            changes={
                "households": count,
                "persons": persons,
                "unmasked": unmask,
                "filters": {k: v for k, v in filters.items() if v},
            },
        )
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Households"))
    sheet.append(
        [
            _heading("grid"),
            _("Grid name"),
            *[_heading(k) for k in IMPORT_COLUMNS[1:]],
            _("Last visit"),
        ]
    )
    for row in _rows(actor, households.select_related("grid"), unmask):
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()

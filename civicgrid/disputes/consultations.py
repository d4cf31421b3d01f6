"""Bi-weekly consultations of hard cases (泰安 双周会诊): a leader or center opens a
session in a town with the attending units ("17+N": the standing member units and
those added for the day), puts hard cases on the agenda, and records each case's
decision and the follow-up assigned to a unit with its due day."""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.disputes.errors import DisputeError
from civicgrid.disputes.models import Case, Consultation, ConsultationItem
from civicgrid.regions.models import Region

# The standing member units of the joint meeting ("17"); the "N" are added per
# session. 政法、信访、住建、交通 are the seed's; the others are the usual members of
# a county's joint meeting on dispute resolution. The form offers them, staff edit.
STANDING_UNITS = (
    "政法委",
    "信访局",
    "住建局",
    "交通运输局",
    "公安局",
    "法院",
    "检察院",
    "司法局",
    "人社局",
    "自然资源局",
    "卫健委",
    "市场监管局",
    "生态环境局",
    "民政局",
    "农业农村局",
    "总工会",
    "妇联",
)
MAX_UNITS = 60


def clean_units(attendees: Sequence[str]) -> list[str]:
    units = list(dict.fromkeys(u.strip()[:100] for u in attendees if u and u.strip()))
    if not units:
        raise DisputeError(_("Name the attending units."), field="attendees")
    if len(units) > MAX_UNITS:
        raise DisputeError(_("Too many attending units."), field="attendees")
    return units


def extra_units(c: Consultation) -> list[str]:
    """The "N": units attending besides the standing ones."""
    return [u for u in c.attendees if u not in STANDING_UNITS]


def consultation_open(
    *, actor: Any, region: Region, held_on: date, attendees: Sequence[str]
) -> Consultation:
    """Open a session in an area (its agenda is filled afterwards)."""
    units = clean_units(attendees)
    with transaction.atomic():
        c = Consultation.objects.create(
            region=region,
            region_code=region.region_code,
            held_on=held_on,
            chair=actor,
            attendees=units,
        )
        audit_record(
            actor=actor,
            action="disputes.consultation.open",
            obj=c,
            changes={"attendees": [None, len(units)]},
        )
    return c


def consultation_units_set(
    *, actor: Any, consultation: Consultation, attendees: Sequence[str]
) -> Consultation:
    units = clean_units(attendees)
    with transaction.atomic():
        before = len(consultation.attendees)
        consultation.attendees = units
        consultation.save(update_fields=["attendees"])
        audit_record(
            actor=actor,
            action="disputes.consultation.units",
            obj=consultation,
            changes={"attendees": [before, len(units)]},
        )
    return consultation


def _item_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    due = item.get("follow_up_due") or None
    if isinstance(due, str):
        due = date.fromisoformat(due)
    unit = str(item.get("follow_up_unit") or "").strip()[:100]
    if due is not None and not unit:
        raise DisputeError(
            _("Name the unit the follow-up is assigned to."), field="follow_up_unit"
        )
    return {
        "decision": str(item.get("decision") or "").strip()[:4000],
        "follow_up_unit": unit,
        "follow_up_due": due,
    }


def consultation_item_add(
    *,
    actor: Any,
    consultation: Consultation,
    case: Case,
    item: Mapping[str, Any] | None = None,
) -> ConsultationItem:
    """Put a hard case of the session's area on its agenda (once)."""
    if not case.region_code.startswith(consultation.region_code):
        raise DisputeError(
            _("The case lies outside the consultation's area."), field="case"
        )
    if consultation.items.filter(case=case).exists():
        raise DisputeError(_("The case is already on the agenda."), field="case")
    fields = _item_fields(item or {})
    with transaction.atomic():
        row = ConsultationItem.objects.create(
            consultation=consultation, case=case, **fields
        )
        audit_record(
            actor=actor,
            action="disputes.consultation.item",
            obj=consultation,
            changes={"case": [None, case.code]},
        )
    return row


def consultation_item_decide(
    *, actor: Any, item: ConsultationItem, data: Mapping[str, Any]
) -> ConsultationItem:
    """Record the decision on an agenda case and the follow-up assigned."""
    fields = _item_fields(data)
    if not fields["decision"]:
        raise DisputeError(_("Write the decision."), field="decision")
    with transaction.atomic():
        for k, v in fields.items():
            setattr(item, k, v)
        item.save()
        audit_record(
            actor=actor,
            action="disputes.consultation.decision",
            obj=item.consultation,
            changes={
                "case": item.case.code,
                "follow_up_unit": fields["follow_up_unit"],
            },
        )
    return item


def consultation_create(
    *,
    actor: Any,
    region: Region,
    held_on: date,
    attendees: Sequence[str],
    items: Sequence[Mapping[str, Any]],
    cases: Mapping[str, Case],
) -> Consultation:
    """Record a whole session at once (the API): the attending units, and for each
    hard case on the agenda its decision and assigned follow-up."""
    if not items:
        raise DisputeError(_("The agenda is empty."), field="items")
    with transaction.atomic():
        c = consultation_open(
            actor=actor, region=region, held_on=held_on, attendees=attendees
        )
        for item in items:
            case = cases.get(str(item.get("case", "")))
            if case is None:
                raise DisputeError(_("No such case in your scope."), field="items")
            consultation_item_add(actor=actor, consultation=c, case=case, item=item)
    return c

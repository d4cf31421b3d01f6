"""Bi-weekly consultations of hard cases (泰安 双周会诊): a leader or center opens a
session in a town with the attending units ("17+N": the standing member units and
those added for the day), puts hard cases on the agenda, and records each case's
decision and the follow-up assigned to a unit with its due day."""

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department
from civicgrid.core.audit import audit_record
from civicgrid.core.scope import covers
from civicgrid.disputes import selectors
from civicgrid.disputes.errors import DisputeError, NotPermitted
from civicgrid.disputes.models import Case, Consultation, ConsultationItem
from civicgrid.events.notify import notify
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


class StaleItem(Exception):
    """Someone changed the agenda item first (409); carries the current item. Not a
    StaleVersion: that one carries a case, which the case API answers with."""

    def __init__(self, item: ConsultationItem) -> None:
        self.item = item
        super().__init__(f"consultation item {item.pk} is at {item.version}")


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


def area_departments(region_code: str) -> QuerySet[Department]:
    """The departments of a consultation's area: of the area itself, of an area
    above it (the county's 住建局 serves its towns) or of one inside it."""
    above = [region_code[:n] for n in (2, 4, 6, 9, 12) if n < len(region_code)]
    return Department.objects.filter(
        Q(region_code__in=above) | Q(region_code__startswith=region_code)
    ).order_by("region_code", "name")


def _department(c: Consultation, value: Any) -> Department | None:
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, Department) else value
    try:
        found = area_departments(c.region_code).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise DisputeError(
            _("No such department in the consultation's area."),
            field="follow_up_department",
        )
    return found


def _item_fields(c: Consultation, item: Mapping[str, Any]) -> dict[str, Any]:
    """The decision and its follow-up. The unit is a department of the area (its
    name kept with it) or, for a unit outside the system, only a name; a name that
    is exactly an area department's is linked to it."""
    due = item.get("follow_up_due") or None
    if isinstance(due, str):
        due = date.fromisoformat(due)
    department = _department(c, item.get("follow_up_department"))
    unit = str(item.get("follow_up_unit") or "").strip()[:100]
    if department is None and unit:
        named = list(area_departments(c.region_code).filter(name=unit)[:2])
        department = named[0] if len(named) == 1 else None
    if department is not None:
        unit = department.name
    if due is not None and not unit:
        raise DisputeError(
            _("Name the unit the follow-up is assigned to."), field="follow_up_unit"
        )
    return {
        "decision": str(item.get("decision") or "").strip()[:4000],
        "follow_up_department": department,
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
    fields = _item_fields(consultation, item or {})
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
    """Record the decision on an agenda case and the follow-up assigned. A follow-up
    assigned anew (another unit or due day) is open again, even if the former one
    was recorded as done."""
    fields = _item_fields(item.consultation, data)
    if not fields["decision"]:
        raise DisputeError(_("Write the decision."), field="decision")
    with transaction.atomic():
        item = ConsultationItem.objects.select_for_update().get(pk=item.pk)
        department = fields["follow_up_department"]
        anew = (
            item.follow_up_department_id,
            item.follow_up_unit,
            item.follow_up_due,
        ) != (
            department.pk if department else None,
            fields["follow_up_unit"],
            fields["follow_up_due"],
        )
        for k, v in fields.items():
            setattr(item, k, v)
        if anew:
            item.follow_up_done_at, item.follow_up_done_by = None, None
            item.follow_up_note = ""
        item.version += 1
        item.save()
        audit_record(
            actor=actor,
            action="disputes.consultation.decision",
            obj=item.consultation,
            changes={
                "case": item.case.code,
                "follow_up_unit": fields["follow_up_unit"],
                "follow_up_department": item.follow_up_department_id,
            },
        )
    return item


def done_recorder(
    user: Any, consultation: Consultation
) -> Callable[[ConsultationItem], bool]:
    """Whether the user may record a follow-up of the session as done: the centers
    and leaders of the consultation's area, and the staff of the follow-up's
    department. The user's posts are read once, whatever the number of items."""
    if covers(selectors.center_prefixes(user), consultation.region_code):
        return lambda item: True
    if not getattr(user, "is_authenticated", False):
        return lambda item: False
    departments = set(
        user.posts.filter(active=True, department__isnull=False).values_list(
            "department_id", flat=True
        )
    )
    return lambda item: item.follow_up_department_id in departments


def may_record_done(user: Any, item: ConsultationItem) -> bool:
    """The staff of the follow-up's department, and the centers and leaders of the
    consultation's area, record the follow-up as done."""
    return done_recorder(user, item.consultation)(item)


def follow_up_done(
    *, actor: Any, item: ConsultationItem, note: str, version: int
) -> ConsultationItem:
    """Record that the unit acted on the follow-up assigned at the consultation;
    the overdue scan stops warning about it and the chair and the case's owning
    leader are told. ``version`` is the item's version the caller saw (a decision
    changed meanwhile: StaleItem, 409). Sending the same note again once it is
    recorded changes nothing (a retry)."""
    note = note.strip()[:2000]
    if not note:
        raise DisputeError(_("Say what the unit did."), field="note")
    with transaction.atomic():
        item = (
            ConsultationItem.objects.select_for_update(of=("self",))
            .select_related("consultation__chair", "case__leader", "case__event")
            .get(pk=item.pk)
        )
        if not may_record_done(actor, item):
            raise NotPermitted(
                _("Only the unit responsible or the centers of the area may.")
            )
        if item.follow_up_done_at is not None and item.follow_up_note == note:
            return item  # the same request again
        if item.version != version:
            raise StaleItem(item)
        if not item.follow_up_unit:
            raise DisputeError(_("No follow-up was assigned."), field="note")
        if item.follow_up_done_at is not None:
            raise DisputeError(
                _("The follow-up is already recorded as done."), field="note"
            )
        item.follow_up_done_at, item.follow_up_done_by = timezone.now(), actor
        item.follow_up_note = note
        item.version += 1
        item.save(
            update_fields=[
                "follow_up_done_at",
                "follow_up_done_by",
                "follow_up_note",
                "version",
            ]
        )
        audit_record(
            actor=actor,
            action="disputes.consultation.follow_up_done",
            obj=item.consultation,
            changes={"case": item.case.code, "version": [version, item.version]},
        )
        people = [item.consultation.chair]
        if item.case.leader is not None:
            people.append(item.case.leader)
        notify(
            [p for p in people if p.pk != getattr(actor, "pk", None)],
            _(
                "Consultation follow-up done: %(unit)s followed up dispute case "
                "%(code)s (consultation of %(held_on)s)."
            )
            % {
                "unit": item.follow_up_unit,
                "code": item.case.code,
                "held_on": item.consultation.held_on.isoformat(),
            },
            item.case.event,
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

"""Rectification (挂牌整治): listing an area, escalating it while it stays listed,
and tracking it to its closure (owner, measures, progress, closure)."""

from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.core.scope import covers
from civicgrid.events.notify import notify
from civicgrid.peace_index.inbox import NoticeDraft, escalation_target, notices_send
from civicgrid.peace_index.models import (
    Notice,
    NoticeKind,
    Rectification,
    RectificationProgress,
    RectificationStatus,
)


def _label(actor: Any) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor.get_username())
    return "system"


class OpenListing(NamedTuple):
    """What the publication needs of an open rectification (no model instance:
    a province's month escalates thousands)."""

    pk: int
    region_code: str
    city_code: str
    last_listed_month: str
    months_listed: int
    escalation_level: int


OPEN_LISTING_FIELDS = OpenListing._fields


def listing(
    kind: str, region_id: str, region_code: str, name: str, month: str
) -> tuple[Rectification, NoticeDraft]:
    """A new (unsaved) listing of an area and the notice for its center; the
    publication saves them in bulk and records them in its audit row."""
    rect = Rectification(
        kind=kind,
        region_id=region_id,
        region_code=region_code,
        city_code=region_code[:4],
        listed_month=month,
        last_listed_month=month,
    )
    notice = NoticeDraft(
        NoticeKind.RECTIFICATION,
        region_code,
        region_code[:4],
        month,
        _("%(area)s is listed for rectification") % {"area": name},
        _("Warned three months in a row and cases fell by less than 30 %."),
    )
    return rect, notice


def escalate(rect: OpenListing, name: str, month: str) -> NoticeDraft:
    """The area is warned again while listed: one more month listed and one level
    up (parent center, then grandparent, never above the city). The caller
    updates the rectification (in bulk) and audits."""
    months, level = rect.months_listed + 1, rect.escalation_level + 1
    return NoticeDraft(
        NoticeKind.ESCALATION,
        escalation_target(rect.region_code, level),
        rect.city_code,
        month,
        _("%(area)s stays listed for rectification (%(n)s months)")
        % {"area": name, "n": months},
        _("Escalated to level %(n)s.") % {"n": level},
    )


def _check_owner(owner: Any, rect: Rectification) -> None:
    if not getattr(owner, "is_active", False) or not covers(
        owner.scope_prefixes, rect.region_code
    ):
        raise ValidationError(
            _("The owner must be an active staff member whose scope holds the area.")
        )


def rectification_update(
    *,
    actor: Any,
    rectification: Rectification,
    owner: Any = None,
    measures: str | None = None,
    progress: str = "",
) -> Rectification:
    """Set the owner and measures, and log progress; the listing is then in progress."""
    with transaction.atomic():
        rect = Rectification.objects.select_for_update().get(pk=rectification.pk)
        if rect.status == RectificationStatus.CLOSED:
            raise ValidationError(_("This rectification is closed."))
        if owner is None and measures is None and not progress.strip():
            raise ValidationError(_("Nothing to change."))
        before = {"status": rect.status, "owner": rect.owner_id}
        if owner is not None and owner.pk != rect.owner_id:
            _check_owner(owner, rect)
            rect.owner = owner
            notify(
                [owner],
                _("You own the rectification of %(area)s (listed %(month)s).")
                % {"area": rect.region.name, "month": rect.listed_month},
            )
        if measures is not None:
            rect.measures = measures.strip()
        rect.status = RectificationStatus.IN_PROGRESS
        rect.save()
        if progress.strip():
            RectificationProgress.objects.create(
                rectification=rect,
                region_code=rect.region_code,
                city_code=rect.city_code,
                actor_label=_label(actor),
                note=progress.strip(),
            )
        audit_record(
            actor=actor,
            action="peace_index.rectification_update",
            obj=rect,
            region_code=rect.region_code,
            changes={
                "status": [before["status"], rect.status],
                "owner": [before["owner"], rect.owner_id],
                "measures": [None, measures],
                "progress": [None, progress.strip() or None],
            },
        )
    return rect


def rectification_close(
    *, actor: Any, rectification: Rectification, note: str
) -> Rectification:
    """Close a rectification (摘牌) with what was achieved; its center is told."""
    with transaction.atomic():
        rect = Rectification.objects.select_for_update().get(pk=rectification.pk)
        if rect.status == RectificationStatus.CLOSED:
            raise ValidationError(_("This rectification is closed."))
        if not note.strip():
            raise ValidationError(_("Closing needs a note on what was achieved."))
        before = rect.status
        rect.status = RectificationStatus.CLOSED
        rect.closure_note = note.strip()
        rect.closed_at = timezone.now()
        rect.save()
        notices_send(
            [
                Notice(
                    kind=NoticeKind.RECTIFICATION,
                    region_code=rect.region_code,
                    city_code=rect.city_code,
                    month=rect.last_listed_month,
                    title=_("The rectification of %(area)s is closed")
                    % {"area": rect.region.name},
                    body=rect.closure_note[:300],
                )
            ]
        )
        audit_record(
            actor=actor,
            action="peace_index.rectification_close",
            obj=rect,
            region_code=rect.region_code,
            changes={"status": [before, rect.status]},
        )
    return rect

"""Unmasking personal data: only with the permission, only with a stated reason, and
always in the audit log (the value itself never is)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from civicgrid.core import scope
from civicgrid.core.audit import audit_record
from civicgrid.core.personal import PersonalDataField

# Defined by the accounts app (Meta.permissions of User); checked by name here.
UNMASK_PERMISSION = "accounts.unmask_personal_data"
MIN_REASON_LENGTH = 4
MAX_REASON_LENGTH = 500


def can_unmask(actor: Any) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
        and actor.has_perm(UNMASK_PERMISSION)
    )


def _check(actor: Any, obj: models.Model | None, reason: str) -> str:
    if not can_unmask(actor):
        raise PermissionDenied(_("You may not see unmasked personal data."))
    region = getattr(obj, "region_code", "") if obj is not None else ""
    if region and not scope.covers(getattr(actor, "scope_prefixes", []), region):
        raise PermissionDenied(_("This record is outside your regions."))
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            _("State why you need the unmasked value (at least %(n)d characters).")
            % {"n": MIN_REASON_LENGTH}
        )
    return reason[:MAX_REASON_LENGTH]


def personal_reveal(actor: Any, obj: models.Model, field: str, reason: str) -> str:
    """The plaintext of ``obj.<field>`` (a PersonalDataField) for ``actor``, who must
    hold ``accounts.unmask_personal_data``, see the record's region and give a reason.
    Raises PermissionDenied or ValidationError (nothing is revealed then)."""
    model_field = obj._meta.get_field(field)
    if not isinstance(model_field, PersonalDataField):
        raise ValueError(f"{obj._meta.label}.{field} is not personal data")
    reason = _check(actor, obj, reason)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="personal_data.reveal",
            obj=obj,
            changes={"field": field, "kind": model_field.kind, "reason": reason},
        )
    return str(getattr(obj, field) or "")


def personal_export_audit(
    actor: Any, *, what: str, count: int, fields: list[str], reason: str
) -> None:
    """Call before handing out a file of unmasked personal data (e.g. an Excel export):
    the same permission and reason rules as a reveal, one audit row per export."""
    reason = _check(actor, None, reason)
    audit_record(
        actor=actor,
        action="personal_data.export",
        object_type=what[:80],
        changes={"count": count, "fields": sorted(fields), "reason": reason},
    )

"""Writing audit records from services, inside the caller's transaction."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from civicgrid.core import context
from civicgrid.core.models import AuditRecord


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, list[Any]]:
    """Changed fields as {field: [before, after]}."""
    before, after = before or {}, after or {}
    out: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        b, a = _jsonable(before.get(key)), _jsonable(after.get(key))
        if b != a:
            out[key] = [b, a]
    return out


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    region_code: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Write one audit row. Call it inside the service's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        region_code = region_code or getattr(obj, "region_code", "") or ""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditRecord.objects.create(
        actor=actor if is_user else None,
        actor_label=(actor.get_username() if is_user else "system")
        if actor is not None
        else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        region_code=region_code,
        source_address=context.source_address.get(),
        changes=dict(changes or {}),
    )

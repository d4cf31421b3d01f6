"""Personal-data key rotation: re-encrypt every PersonalDataField value with the
current key, in batches, each batch its own transaction (resumable: a rerun picks up
the rows still under an older key; idempotent: nothing to do once all are current)."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q

from civicgrid.core import crypto
from civicgrid.core.audit import audit_record
from civicgrid.core.personal import PersonalDataField


@dataclass
class RotationResult:
    key: str
    rewritten: dict[str, int] = field(default_factory=dict)
    finished: bool = True

    @property
    def total(self) -> int:
        return sum(self.rewritten.values())


def personal_fields() -> list[tuple[type[models.Model], list[str]]]:
    out = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, PersonalDataField)
        ]
        if names:
            out.append((model, names))
    return out


def _stale(fields: list[str], current: str) -> Q:
    """Rows with a value of one of ``fields`` under another key than ``current``."""
    prefix = f"{crypto.PREFIX}:{current}:"
    q = Q(pk__in=[])
    for name in fields:
        q |= Q(**{f"{name}__gt": ""}) & ~Q(**{f"{name}__startswith": prefix})
    return q


def stale_count() -> int:
    current = crypto.keyring().current
    return sum(
        m._base_manager.filter(_stale(f, current)).count() for m, f in personal_fields()
    )


def rotate(
    *,
    actor: object = None,
    batch_size: int = 500,
    max_batches: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> RotationResult:
    """Move every personal-data value under the current key."""
    current = crypto.keyring().current
    result = RotationResult(key=current)
    batches = 0
    for model, fields in personal_fields():
        stale = _stale(fields, current)
        manager = model._base_manager
        last = None
        while True:
            if max_batches is not None and batches >= max_batches:
                result.finished = False
                break
            with transaction.atomic():
                qs = manager.select_for_update().filter(stale).order_by("pk")
                if last is not None:
                    qs = qs.filter(pk__gt=last)
                batch = list(qs[:batch_size])
                if not batch:
                    break
                # Reading decrypted (old key); writing encrypts with the current one.
                manager.bulk_update(batch, fields)
            batches += 1
            last = batch[-1].pk
            label = model._meta.label_lower
            result.rewritten[label] = result.rewritten.get(label, 0) + len(batch)
            if progress:
                progress(label, result.rewritten[label])
        if not result.finished:
            break
    if result.total:
        audit_record(
            actor=actor,
            action="personal_data.rotate",
            changes={
                "key": current,
                "rewritten": result.rewritten,
                "finished": result.finished,
            },
        )
    return result

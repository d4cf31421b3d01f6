"""Writing audit records from services, inside the caller's transaction.

The log is append-only and hash-chained with SM3 (``civicgrid.core.chain``): every row
stores its predecessor's hash and its own. Writers are serialised on the chain head
(an advisory transaction lock on PostgreSQL, the IMMEDIATE write lock on SQLite) so
that concurrent transactions never fork the chain.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from civicgrid.core import context
from civicgrid.core.chain import GENESIS, row_hash
from civicgrid.core.inserts import insert
from civicgrid.core.models import AuditRecord

# pg_advisory_xact_lock key of the chain head ("CGAU" in ASCII).
CHAIN_LOCK_KEY = 0x43474155


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


def _clean(value: Any) -> Any:
    """NUL characters (which PostgreSQL text and jsonb refuse) become U+FFFD: a
    refused request with a crafted path must still leave its audit row."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def lock_chain() -> None:
    """Take the chain-head lock until the surrounding transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    # SQLite: transactions begin IMMEDIATE (settings), i.e. hold the write lock.


def chain_head() -> str:
    last = AuditRecord.objects.order_by("-id").values_list("hash", flat=True).first()
    return last or GENESIS


# Two statements in one round trip: the head is read by the second one, whose
# snapshot (READ COMMITTED) is taken after the first has been granted the lock, so it
# sees the row of the writer that held the lock before.
_LOCK_AND_HEAD = (
    "SELECT pg_advisory_xact_lock(1128743253); "  # CHAIN_LOCK_KEY
    "SELECT hash FROM core_auditrecord ORDER BY id DESC LIMIT 1"
)
assert str(CHAIN_LOCK_KEY) in _LOCK_AND_HEAD


def locked_chain_head() -> str:
    """Take the chain-head lock until the surrounding transaction ends and return
    the head's hash. On PostgreSQL both go in one round trip (the lock is held from
    here to the commit, so every round trip saved here shortens the queue of
    concurrent writers)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            raw = cur.cursor
            # Client-side binding (Django's default) sends a parameterless query as
            # a simple query, which may hold several statements.
            if isinstance(raw, psycopg.ClientCursor):
                cur.execute(_LOCK_AND_HEAD)
                raw.nextset()
                row = raw.fetchone()
                return str(row[0]) if row else GENESIS
    lock_chain()
    return chain_head()


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    region_code: str = "",
    changes: Mapping[str, Any] | None = None,
    actor_label: str = "",
) -> AuditRecord:
    """Write one audit row. Call it inside the service's transaction (it opens one
    when there is none). ``actor_label`` names an actor without an account, e.g. the
    username of a failed login. Never put personal data in ``changes``."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        region_code = region_code or getattr(obj, "region_code", "") or ""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    label = actor.get_username() if is_user else (actor_label or "system")
    # What the JSON column gives back is what the hash must cover.
    payload = _clean(json.loads(json.dumps(dict(changes or {}), cls=DjangoJSONEncoder)))
    label, object_type, object_id = _clean([label, object_type, object_id])
    record = AuditRecord(
        actor=actor if is_user else None,
        actor_label=label[:150],
        action=_clean(action),
        object_type=object_type[:80],
        object_id=object_id[:80],
        region_code=region_code,
        source_address=context.source_address.get(),
        changes=payload,
    )
    # No savepoint: the row belongs to the caller's transaction, and a failure here
    # fails that transaction anyway (a savepoint would cost two round trips, with
    # the chain lock held, for nothing).
    with transaction.atomic(savepoint=False):
        # From here to the commit, every other writer waits: as little as possible.
        record.prev_hash = locked_chain_head()
        record.at = timezone.now()  # chain order is time order
        record.hash = row_hash(record)
        insert(record)  # the statement built once per process, not under the lock
    return record

"""The audit log's SM3 hash chain: one canonical form of a row, hashed with its
predecessor's hash. Kept free of models so that migrations can use it too."""

import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes

GENESIS = "0" * 64


def _address(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def canonical(
    *,
    prev_hash: str,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    region_code: str,
    source_address: str | None,
    changes: Any,
) -> bytes:
    """The bytes a row's hash covers: every field but the id and the hash itself."""
    fields = [
        prev_hash,
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor_id,
        actor_label,
        action,
        object_type,
        object_id,
        region_code,
        _address(source_address),
        changes,
    ]
    return json.dumps(
        fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def row_hash(row: Any) -> str:
    """The SM3 hash of an AuditRecord (or anything with its attributes)."""
    return sm3_hex(
        canonical(
            prev_hash=row.prev_hash,
            at=row.at,
            actor_id=row.actor_id,
            actor_label=row.actor_label,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            region_code=row.region_code,
            source_address=row.source_address,
            changes=row.changes,
        )
    )

"""Safe retries: a request sent again with the same Idempotency-Key gets the first
result, and the same key with a different request is refused (422).

A request is recognised by its digest, a keyed fingerprint (HMAC-SHA256 with the
blind-index key): request bodies hold personal data, and a plain hash of a phone or
ID number can be reversed by trying them all. Every service that takes a key
(events, registry visits and collections, Open311, exchange pushes) uses these."""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Model

from civicgrid.core import crypto


class IdempotencyConflict(Exception):
    """The same Idempotency-Key was sent with a different request (422)."""


def request_digest(payload: Mapping[str, Any], files: Iterable[Any] = ()) -> str:
    """The keyed fingerprint of a request: its fields (any order) and the SHA-256 of
    each attached file (objects with a ``sha256`` attribute, in order)."""
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    mac = hmac.new(crypto.keyring().index_key, body.encode(), hashlib.sha256)
    for f in files:
        mac.update(str(f.sha256).encode())
    return mac.hexdigest()


def replay(model: type[Model], key: str | None, digest: str) -> Any:
    """The row an earlier request with this key made (the model has
    ``idempotency_key`` and ``request_digest`` columns), or None when the key is new
    or absent; IdempotencyConflict when the key came with another request."""
    if not key:
        return None
    first = model._default_manager.filter(idempotency_key=key).first()
    if first is not None and first.request_digest != digest:  # type: ignore[attr-defined]
        raise IdempotencyConflict(key)
    return first

"""HMAC-SM3 request signatures (GB/T 32905 hash in RFC 2104 HMAC), used both ways:
systems sign what they push to us, we sign the webhooks we send them.

Headers: ``X-CG-Key`` (the system's key id), ``X-CG-Timestamp`` (Unix seconds),
``X-CG-Nonce`` (8–64 characters, never reused), ``X-CG-Signature`` (hex). The signed
text is five lines: method, path (with the query string), timestamp, nonce and the
hex SM3 digest of the body.
"""

import hmac as std_hmac
import secrets
import time
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes, hmac

KEY_HEADER = "X-CG-Key"
TIMESTAMP_HEADER = "X-CG-Timestamp"
NONCE_HEADER = "X-CG-Nonce"
SIGNATURE_HEADER = "X-CG-Signature"
WINDOW_SECONDS = 300


def sm3_hex(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def hmac_sm3(secret: str, message: bytes) -> str:
    mac = hmac.HMAC(secret.encode(), hashes.SM3())
    mac.update(message)
    return mac.finalize().hex()


def string_to_sign(
    method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, sm3_hex(body)]).encode()


def sign(
    secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> str:
    return hmac_sm3(secret, string_to_sign(method, path, timestamp, nonce, body))


def signed_headers(
    *, key_id: str, secret: str, method: str, path: str, body: bytes
) -> dict[str, str]:
    """The four headers of a request signed now with a fresh nonce."""
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    return {
        KEY_HEADER: key_id,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(secret, method, path, timestamp, nonce, body),
    }


class BadSignature(Exception):
    """The request is not signed as required (401); the message says why."""


def check(
    *,
    secret: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> tuple[str, str]:
    """Check the timestamp window and the signature; returns (timestamp, nonce).
    The nonce's novelty is the caller's to record (it needs the database)."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    nonce = headers.get(NONCE_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not (timestamp and nonce and given):
        raise BadSignature("missing signature headers")
    if not timestamp.isdigit():
        raise BadSignature("the timestamp must be Unix seconds")
    if abs((now if now is not None else time.time()) - int(timestamp)) > WINDOW_SECONDS:
        raise BadSignature("the timestamp is outside the accepted window")
    if not 8 <= len(nonce) <= 64:
        raise BadSignature("the nonce must have 8 to 64 characters")
    expected = sign(secret, method, path, timestamp, nonce, body)
    if not std_hmac.compare_digest(expected, given.lower()):
        raise BadSignature("the signature does not match")
    return timestamp, nonce

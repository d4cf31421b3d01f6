"""SM4-GCM encryption and HMAC-SM3 blind indexes for personal data.

Keys live outside the database in a JSON key file ({"current": kid, "keys": {kid: hex}}):
ciphertexts carry their key id, so a new key can become current while old rows still
decrypt (the rotation path re-encrypts them with ``rotate_personal_data``).
"""

import base64
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "sm4gcm"


@dataclass(frozen=True)
class KeyRing:
    current: str
    keys: dict[str, bytes]
    index_key: bytes


def _load_keyring() -> KeyRing:
    path = settings.CIVICGRID_KEY_FILE
    if not path.exists():
        if not settings.CIVICGRID_CREATE_KEYS:
            raise ImproperlyConfigured(f"Personal-data key file missing: {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        kid = "k1"
        data = {
            "current": kid,
            "keys": {kid: secrets.token_hex(16)},
            "index_key": secrets.token_hex(32),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
    data = json.loads(path.read_text())
    return KeyRing(
        current=data["current"],
        keys={kid: bytes.fromhex(h) for kid, h in data["keys"].items()},
        index_key=bytes.fromhex(data["index_key"]),
    )


@lru_cache(maxsize=1)
def keyring() -> KeyRing:
    return _load_keyring()


def encrypt(plaintext: str) -> str:
    ring = keyring()
    iv = os.urandom(12)
    enc = Cipher(algorithms.SM4(ring.keys[ring.current]), modes.GCM(iv)).encryptor()
    ct = enc.update(plaintext.encode()) + enc.finalize()
    blob = base64.b64encode(iv + enc.tag + ct).decode()
    return f"{PREFIX}:{ring.current}:{blob}"


def decrypt(token: str) -> str:
    prefix, kid, blob = token.split(":", 2)
    if prefix != PREFIX:
        raise ValueError("not a personal-data ciphertext")
    raw = base64.b64decode(blob)
    iv, tag, ct = raw[:12], raw[12:28], raw[28:]
    dec = Cipher(algorithms.SM4(keyring().keys[kid]), modes.GCM(iv, tag)).decryptor()
    return (dec.update(ct) + dec.finalize()).decode()


def key_id(token: str) -> str:
    return token.split(":", 2)[1]


def blind_index(value: str) -> str:
    """HMAC-SM3 of a normalised value: exact lookup without storing the plaintext."""
    mac = hmac.HMAC(keyring().index_key, hashes.SM3())
    mac.update(value.strip().upper().encode())
    return mac.finalize().hex()

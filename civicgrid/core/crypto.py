"""SM4-GCM encryption and HMAC-SM3 blind indexes for personal data.

Keys live outside the database in a JSON key file ({"current": kid, "keys": {kid: hex}}):
ciphertexts carry their key id, so a new key can become current while old rows still
decrypt (the rotation path re-encrypts them with ``rotate_personal_data``). The key file
is re-read when it changes, so running processes follow a rotation without a restart.
"""

import base64
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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


_cache: dict[str, tuple[tuple[int, int], KeyRing]] = {}
_cache_lock = threading.Lock()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def keyring() -> KeyRing:
    """The key ring of the configured key file, re-read whenever the file changes."""
    path = Path(settings.CIVICGRID_KEY_FILE)
    stamp = _stamp(path)
    cached = _cache.get(str(path))
    if cached is not None and stamp is not None and cached[0] == stamp:
        return cached[1]
    with _cache_lock:
        ring = _load_keyring()
        new_stamp = _stamp(path)
        if new_stamp is not None:
            _cache[str(path)] = (new_stamp, ring)
        return ring


@contextmanager
def _key_file_lock() -> Iterator[dict[str, object]]:
    """The key file's contents under an exclusive lock; written back atomically
    (temporary file, fsync, rename) when the block ends without error."""
    path = Path(settings.CIVICGRID_KEY_FILE)
    keyring()  # creates the file in demo/test mode
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = json.loads(path.read_text())
        yield data
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(tfd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def key_add() -> str:
    """A new key version becomes current; the old ones stay to decrypt old rows."""
    with _key_file_lock() as data:
        keys = data["keys"]
        assert isinstance(keys, dict)
        numbers = [int(k[1:]) for k in keys if k[:1] == "k" and k[1:].isdigit()]
        kid = f"k{max(numbers, default=0) + 1}"
        keys[kid] = secrets.token_hex(16)
        data["current"] = kid
    return kid


def key_retire(keep: set[str]) -> list[str]:
    """Drop every key but the current one and ``keep``; returns the dropped ids."""
    with _key_file_lock() as data:
        keys = data["keys"]
        assert isinstance(keys, dict)
        gone = sorted(k for k in keys if k != data["current"] and k not in keep)
        for kid in gone:
            del keys[kid]
    return gone


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

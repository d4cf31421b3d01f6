"""Uploaded files are recognised by their first bytes (magic numbers), never by their
name or declared type. One table for every app: each caller names the types it takes.

The allow-lists are short (images, PDF), and each format's signature is fixed by its
specification, so a dictionary lookup is all it takes; a general file-type library
would recognise hundreds of formats only to be narrowed to these again."""

from collections.abc import Collection
from dataclasses import dataclass

JPEG, PNG, WEBP, PDF = "image/jpeg", "image/png", "image/webp", "application/pdf"
IMAGES = frozenset({JPEG, PNG, WEBP})


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str


# (prefix, offset of a second marker, that marker, the type)
_SIGNATURES: tuple[tuple[bytes, int, bytes, FileType], ...] = (
    (b"\xff\xd8\xff", 0, b"", FileType(JPEG, "jpg")),
    (b"\x89PNG\r\n\x1a\n", 0, b"", FileType(PNG, "png")),
    (b"RIFF", 8, b"WEBP", FileType(WEBP, "webp")),  # RIFF, size, then WEBP
    (b"%PDF-", 0, b"", FileType(PDF, "pdf")),
)


def sniff(content: bytes, allowed: Collection[str]) -> FileType | None:
    """The type of ``content`` if its bytes show one of the ``allowed`` content
    types, else None."""
    for prefix, offset, marker, kind in _SIGNATURES:
        if kind.content_type not in allowed or not content.startswith(prefix):
            continue
        if marker and content[offset : offset + len(marker)] != marker:
            continue
        return kind
    return None

"""Photo uploads: checked by their bytes (not their name or declared type) and size."""

import hashlib
from dataclasses import dataclass

from civicgrid.core.uploads import IMAGES, sniff
from civicgrid.events.errors import EventError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 9


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str
    extension: str
    sha256: str


def check_photo(content: bytes, name: str = "photo") -> Photo:
    if len(content) > MAX_PHOTO_BYTES:
        raise EventError(
            f"{name}: larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB", field="photos"
        )
    if not content:
        raise EventError(f"{name}: empty file", field="photos")
    kind = sniff(content, IMAGES)
    if kind is None:
        raise EventError(f"{name}: not a JPEG, PNG or WebP image", field="photos")
    return Photo(
        content,
        kind.content_type,
        kind.extension,
        hashlib.sha256(content).hexdigest(),
    )


def check_photos(files: list[tuple[str, bytes]]) -> list[Photo]:
    if len(files) > MAX_PHOTOS:
        raise EventError(f"at most {MAX_PHOTOS} photos", field="photos")
    return [check_photo(content, name) for name, content in files]

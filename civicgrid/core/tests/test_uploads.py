"""One magic-byte check for every upload (events' photos, disputes' attachments)."""

import pytest

from civicgrid.core.uploads import IMAGES, JPEG, PDF, PNG, WEBP, sniff
from civicgrid.disputes.attachments import ATTACHMENT_TYPES

SAMPLES = {
    JPEG: b"\xff\xd8\xff\xe0\x00\x10JFIF",
    PNG: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    WEBP: b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    PDF: b"%PDF-1.7\n%\xe2\xe3",
}


@pytest.mark.parametrize("content_type", sorted(SAMPLES))
def test_each_type_is_known_by_its_bytes(content_type: str) -> None:
    found = sniff(SAMPLES[content_type], {content_type})
    assert found is not None and found.content_type == content_type


def test_only_the_allowed_types_pass() -> None:
    assert sniff(SAMPLES[PDF], IMAGES) is None  # a PDF is no photo
    assert sniff(SAMPLES[WEBP], ATTACHMENT_TYPES) is None  # nor a WebP an attachment
    assert sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ", IMAGES) is None  # RIFF, not WebP
    assert sniff(b"<html>%PDF-", {PDF}) is None  # the signature must come first
    assert sniff(b"", IMAGES | {PDF}) is None


def test_events_and_disputes_share_it() -> None:
    from civicgrid.events.errors import EventError
    from civicgrid.events.uploads import check_photo

    assert check_photo(SAMPLES[WEBP]).extension == "webp"
    with pytest.raises(EventError):
        check_photo(SAMPLES[PDF])

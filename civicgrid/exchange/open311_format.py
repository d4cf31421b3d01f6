"""GeoReport v2 output: one structure written as XML (the required format) or JSON
(chosen by the resource's extension), and the spec's ``errors`` shape."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

XML = "xml"
JSON = "json"
FORMATS = {XML: "text/xml; charset=utf-8", JSON: "application/json; charset=utf-8"}

# The element of each item of a list, by the list's element (as in the spec's samples).
ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "service_requests_updates": "request_update",
    "service_request_updates": "request_update",
}


class Open311Error(Exception):
    """An answer in the spec's error shape: [{code, description}] with an HTTP status."""

    def __init__(
        self, status: int, description: str, *, retry_after: int | None = None
    ) -> None:
        self.status = status
        self.description = description
        self.retry_after = retry_after  # seconds, for a 429
        super().__init__(description)


def w3c(value: datetime | None) -> str | None:
    """W3C date-time with the zone offset: 2026-11-30T14:05:09+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, sub in value.items():
            _fill(ET.SubElement(element, key), sub)
    elif isinstance(value, list | tuple):
        item = ITEM.get(element.tag, "item")
        for sub in value:
            _fill(ET.SubElement(element, item), sub)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """``root`` holding ``value``: a list becomes repeated item elements (services →
    service), a mapping child elements, None an empty element."""
    element = ET.Element(root)
    _fill(element, value)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def respond(fmt: str, root: str, value: Any, *, status: int = 200) -> HttpResponse:
    if fmt == JSON:
        body = json.dumps(value, ensure_ascii=False).encode()
    else:
        body = to_xml(root, value)
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def error_response(fmt: str, errors: Sequence[Open311Error]) -> HttpResponse:
    status = errors[0].status if errors else 400
    answer = respond(
        fmt,
        "errors",
        [{"code": e.status, "description": e.description} for e in errors],
        status=status,
    )
    wait = max((e.retry_after or 0 for e in errors), default=0)
    if wait:
        answer["Retry-After"] = str(wait)
    return answer

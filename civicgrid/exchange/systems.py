"""Connected systems (110 police, 12345 hotline, urban management, petitions, a
higher-level instance): registration, signed-request authentication with replay
protection, and the inbound pushes of events and monthly incident counts."""

import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from civicgrid.core.audit import audit_record
from civicgrid.core.scope import covers
from civicgrid.events import services as event_services
from civicgrid.events.errors import EventError, IdempotencyConflict
from civicgrid.events.models import Matter, Severity, Source
from civicgrid.exchange import signing
from civicgrid.exchange.models import (
    ConnectedSystem,
    InboundRecord,
    Permission,
    SeenNonce,
    SystemKind,
    Topic,
)
from civicgrid.regions.crs import CRS, to_wgs84, valid_lon_lat
from civicgrid.regions.locate import locator

SOURCE_BY_KIND = {
    SystemKind.HOTLINE: Source.HOTLINE,
    SystemKind.HIGHER: Source.HIGHER_LEVEL,
}


class NotAllowed(PermissionError):
    """The system may not do this (403)."""


class Conflict(Exception):
    """The same id was pushed before with different content (409)."""


class BadPush(ValueError):
    """The pushed content is wrong (400); ``details`` may list every bad row."""

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None):
        self.details = details or []
        super().__init__(message)


def _check_permissions(permissions: Sequence[str], topics: Sequence[str] = ()) -> None:
    unknown = sorted(set(permissions) - set(Permission.values))
    if unknown:
        raise ValueError(f"unknown permissions: {', '.join(unknown)}")
    unknown = sorted(set(topics) - set(Topic.values))
    if unknown:
        raise ValueError(f"unknown webhook topics: {', '.join(unknown)}")


def system_register(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    permissions: list[str],
    region_prefixes: list[str],
    webhook_url: str = "",
    webhook_topics: list[str] | None = None,
) -> tuple[ConnectedSystem, str]:
    """A new system with its key id and signing secret (the secret is returned once
    and stored encrypted)."""
    _check_permissions(permissions, webhook_topics or [])
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        system = ConnectedSystem.objects.create(
            code=code,
            name=name,
            kind=kind,
            key_id=secrets.token_hex(8),
            secret=secret,
            permissions=permissions,
            region_prefixes=region_prefixes,
            webhook_url=webhook_url,
            webhook_topics=webhook_topics or [],
        )
        audit_record(
            actor=actor,
            action="exchange.system_register",
            obj=system,
            changes={"code": [None, code], "permissions": [None, permissions]},
        )
    return system, secret


def system_update(*, actor: Any, system: ConnectedSystem) -> ConnectedSystem:
    _check_permissions(
        list(system.permissions or []), list(system.webhook_topics or [])
    )
    with transaction.atomic():
        before = ConnectedSystem.objects.get(pk=system.pk)
        system.save()
        audit_record(
            actor=actor,
            action="exchange.system_update",
            obj=system,
            changes={
                f: [getattr(before, f), getattr(system, f)]
                for f in (
                    "permissions",
                    "region_prefixes",
                    "webhook_url",
                    "webhook_topics",
                    "active",
                )
                if getattr(before, f) != getattr(system, f)
            },
        )
    return system


def authenticate(
    *, method: str, path: str, headers: Mapping[str, str], body: bytes
) -> ConnectedSystem:
    """The signing system, after checking its signature, the timestamp window and
    that the nonce is new (recorded, so a replay inside the window is refused)."""
    key_id = headers.get(signing.KEY_HEADER, "")
    system = ConnectedSystem.objects.filter(key_id=key_id, active=True).first()
    if system is None:
        raise signing.BadSignature("unknown key id")
    _, nonce = signing.check(
        secret=system.secret, method=method, path=path, headers=headers, body=body
    )
    cutoff = timezone.now() - timedelta(seconds=2 * signing.WINDOW_SECONDS)
    SeenNonce.objects.filter(at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            SeenNonce.objects.create(system=system, nonce=nonce)
    except IntegrityError:
        raise signing.BadSignature("the nonce was already used") from None
    return system


def _replay(system: ConnectedSystem, kind: str, external_id: str, digest: str) -> Any:
    first = InboundRecord.objects.filter(
        system=system, kind=kind, external_id=external_id
    ).first()
    if first is None:
        return None
    if first.digest != digest:
        raise Conflict(f"{kind} {external_id} was pushed before with other content")
    return first.result


def _float(data: Mapping[str, Any], key: str) -> float:
    try:
        return float(data[key])
    except (KeyError, TypeError, ValueError):
        raise BadPush(f"{key} must be a number") from None


def push_event(
    *, system: ConnectedSystem, data: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """An event from another system, by the sender's own id (a retry answers with
    the first result). The place must lie in the system's regions."""
    if not system.may(Permission.EVENTS_WRITE):
        raise NotAllowed("this system may not push events")
    external_id = str(data.get("external_id") or "").strip()
    title = str(data.get("title") or "").strip()
    description = str(data.get("description") or "").strip()
    if not external_id or len(external_id) > 100:
        raise BadPush("external_id is required (at most 100 characters)")
    if not title or len(title) > 200:
        raise BadPush("title is required (at most 200 characters)")
    if not description or len(description) > 4000:
        raise BadPush("description is required (at most 4000 characters)")
    digest = event_services.request_digest(dict(data), [])
    first = _replay(system, "event", external_id, digest)
    if first is not None:
        return first, False
    lon, lat = _float(data, "lon"), _float(data, "lat")
    crs = str(data.get("crs") or CRS.WGS84)
    if crs not in {c.value for c in CRS}:
        raise BadPush(f"unknown crs {crs!r}")
    if not valid_lon_lat(lon, lat):
        raise BadPush("longitude must be within ±180 and latitude within ±90")
    wlon, wlat = to_wgs84(lon, lat, crs)
    locator.refresh()
    grid = locator.locate(wlon, wlat)
    if grid is None or not covers(system.region_prefixes or [], grid):
        raise NotAllowed("the place is outside this system's regions")
    matter = None
    if data.get("matter"):
        matter = Matter.objects.filter(code=data["matter"], active=True).first()
        if matter is None:
            raise BadPush(f"unknown matter {data['matter']!r}")
    severity = str(data.get("severity") or Severity.NORMAL)
    try:
        with transaction.atomic():
            event, _ = event_services.event_report(
                actor=None,
                source=SOURCE_BY_KIND.get(SystemKind(system.kind), Source.DEPARTMENT),
                title=title,
                description=description,
                lon=lon,
                lat=lat,
                crs=crs,
                matter=matter,
                severity=severity,
                address=str(data.get("address") or "")[:200],
                reporter_name=str(data.get("reporter_name") or "")[:50],
                reporter_phone=str(data.get("reporter_phone") or "")[:30],
                idempotency_key=f"x:{system.pk}:{external_id}"[:100],
                digest=digest,
            )
            result = {"code": event.code, "state": event.state}
            InboundRecord.objects.create(
                system=system,
                kind="event",
                external_id=external_id,
                digest=digest,
                result=result,
            )
            audit_record(
                actor=None,
                action="exchange.push_event",
                obj=event,
                changes={"system": [None, system.code], "id": [None, external_id]},
            )
    except IdempotencyConflict:
        raise Conflict(
            f"event {external_id} was pushed before with other content"
        ) from None
    except IntegrityError:  # a concurrent retry recorded it first
        again = _replay(system, "event", external_id, digest)
        if again is None:
            raise
        return again, False
    except EventError as exc:
        raise BadPush(str(exc)) from None
    return result, True


def _rows(report: Any) -> list[dict[str, Any]]:
    return [{"line": e.line, "reason": e.reason} for e in report.errors]


def push_incidents(
    *, system: ConnectedSystem, data: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Monthly incident counts (area code, month, item code, count) for the peace or
    stability index, checked row by row like a file import: nothing partial."""
    from civicgrid.core.reports import ImportRejected
    from civicgrid.peace_index.imports import counts_replace, validate_rows
    from civicgrid.peace_index.models import IndexKind

    if not system.may(Permission.INCIDENTS_WRITE):
        raise NotAllowed("this system may not push incident counts")
    batch = str(data.get("batch_id") or "").strip()
    kind = str(data.get("index") or IndexKind.PEACE)
    rows = data.get("rows")
    if not batch or len(batch) > 100:
        raise BadPush("batch_id is required (at most 100 characters)")
    if kind not in IndexKind.values:
        raise BadPush(f"unknown index {kind!r}")
    if not isinstance(rows, list) or not rows:
        raise BadPush("rows must be a non-empty list")
    digest = event_services.request_digest(dict(data), [])
    first = _replay(system, "incidents", batch, digest)
    if first is not None:
        return first, False
    table: list[tuple[int, list[Any]]] = [
        (1, ["area_code", "month", "item_code", "count"])
    ]
    for i, row in enumerate(rows, start=1):
        r = row if isinstance(row, Mapping) else {}
        table.append(
            (
                i + 1,
                [
                    r.get("area_code"),
                    r.get("month"),
                    r.get("item_code"),
                    r.get("count"),
                ],
            )
        )
    name = f"{system.code}:{batch}"
    checked, report = validate_rows(
        kind=kind, table=table, file_name=name, scope=list(system.region_prefixes)
    )
    if not report.ok:
        raise BadPush("bad rows; nothing written", _rows(report))
    try:
        with transaction.atomic():
            done = counts_replace(
                actor=None,
                kind=kind,
                rows=checked,
                file_name=name,
                source=f"system:{system.code}"[:40],
                scope=list(system.region_prefixes),
            )
            result = {"created": done.created, "replaced": done.updated}
            InboundRecord.objects.create(
                system=system,
                kind="incidents",
                external_id=batch,
                digest=digest,
                result=result,
            )
    except ImportRejected as exc:
        raise BadPush("rejected; nothing written", _rows(exc.report)) from None
    return result, True

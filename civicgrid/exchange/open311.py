"""Open311 GeoReport v2 over the matter catalogue and the event loop: services and
their attributes, request intake through ``event_report``, and the public view of
requests and their updates (never the reporter's contact)."""

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record, diff, snapshot
from civicgrid.events import engine, services
from civicgrid.events.errors import EventError, IdempotencyConflict
from civicgrid.events.models import Event, Matter, WorkflowDefinition
from civicgrid.exchange.models import (
    Datatype,
    Open311Client,
    Open311Request,
    ServiceAttribute,
)
from civicgrid.exchange.open311_format import Open311Error, w3c
from civicgrid.exchange.signing import sm3_hex
from civicgrid.regions.models import Grid, Region

MAX_DESCRIPTION = 4000
MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-30T00:00:00+08:00"


def public_sources() -> list[str]:
    return list(
        getattr(settings, "OPEN311_PUBLIC_SOURCES", ["citizen_web", "citizen_mobile"])
    )


def jurisdiction_id() -> str:
    return str(getattr(settings, "OPEN311_JURISDICTION_ID", "shandong.civicgrid"))


def jurisdiction_city(value: str | None) -> str:
    """'' for the whole instance; a city code (3703) for one city; else 404."""
    if not value or value == jurisdiction_id():
        return ""
    if Region.objects.filter(region_code=value, level="city").exists():
        return value
    raise Open311Error(404, _("jurisdiction_id not found"))


# --- API keys -------------------------------------------------------------------


def key_digest(key: str) -> str:
    return sm3_hex(key.encode())


def client_issue(
    *, actor: Any, name: str, contact: str = ""
) -> tuple[Open311Client, str]:
    """A new client and its key (returned once; only its SM3 digest is stored)."""
    key = secrets.token_urlsafe(24)
    with transaction.atomic():
        client = Open311Client.objects.create(
            name=name, contact=contact, key_prefix=key[:8], key_digest=key_digest(key)
        )
        audit_record(
            actor=actor,
            action="open311.client_issue",
            obj=client,
            changes={"name": [None, name]},
        )
    return client, key


def client_rekey(*, actor: Any, client: Open311Client) -> str:
    """A new key for a client; the old one stops working at once."""
    key = secrets.token_urlsafe(24)
    with transaction.atomic():
        client.key_prefix, client.key_digest = key[:8], key_digest(key)
        client.save(update_fields=["key_prefix", "key_digest"])
        audit_record(actor=actor, action="open311.client_rekey", obj=client)
    return key


CLIENT_FIELDS = ("name", "contact", "source", "active", "post_rate", "read_rate")


def client_update(*, actor: Any, client: Open311Client) -> Open311Client:
    """Save a client edited in the back office (rates, source, active), audited."""
    with transaction.atomic():
        before = snapshot(Open311Client.objects.get(pk=client.pk), CLIENT_FIELDS)
        client.save(update_fields=list(CLIENT_FIELDS))
        audit_record(
            actor=actor,
            action="open311.client_update",
            obj=client,
            changes=diff(before, snapshot(client, CLIENT_FIELDS)),
        )
    return client


DEFAULT_ATTRIBUTES = (
    Path(__file__).resolve().parent / "data" / "default_attributes.json"
)


def attributes_load_default() -> int:
    """The shipped questions of some default matters, by (matter, code); matters
    that are not stored are skipped. Returns how many attributes were written."""
    doc = json.loads(DEFAULT_ATTRIBUTES.read_text(encoding="utf-8"))
    written = 0
    with transaction.atomic():
        for code, attributes in doc.items():
            matter = Matter.objects.filter(code=code).first()
            if code.startswith("_") or matter is None:
                continue
            for a in attributes:
                ServiceAttribute.objects.update_or_create(
                    matter=matter,
                    code=a["code"],
                    defaults={k: v for k, v in a.items() if k != "code"},
                )
                written += 1
    return written


def demo_key(name: str = "演示客户端") -> str:
    """The demo's client (issued on the first load, given a fresh key afterwards)
    and the shipped service attributes."""
    attributes_load_default()
    client = Open311Client.objects.filter(name=name).first()
    if client is None:
        return client_issue(actor=None, name=name)[1]
    return client_rekey(actor=None, client=client)


def client_for_key(key: str | None) -> Open311Client:
    client = (
        Open311Client.objects.filter(key_digest=key_digest(key), active=True).first()
        if key
        else None
    )
    if client is None:
        raise Open311Error(403, _("Invalid api_key received -- can't proceed."))
    Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


# --- services -------------------------------------------------------------------


def _matters() -> QuerySet[Matter]:
    return Matter.objects.filter(active=True).select_related("category")


def services_list() -> list[dict[str, Any]]:
    with_attributes = set(
        ServiceAttribute.objects.values_list("matter_id", flat=True).distinct()
    )
    return [
        {
            "service_code": m.code,
            "service_name": m.name,
            "description": m.description,
            "metadata": m.pk in with_attributes,
            "type": "realtime",
            "keywords": m.keywords,
            "group": m.category.name,
        }
        for m in _matters()
    ]


def matter_for(code: str) -> Matter:
    matter = _matters().filter(code=code).first()
    if matter is None:
        raise Open311Error(404, _("service_code %(code)s not found") % {"code": code})
    return matter


def service_definition(code: str) -> dict[str, Any]:
    matter = matter_for(code)
    return {
        "service_code": matter.code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description or None,
                "order": a.order,
                "description": a.description,
                "values": [
                    {"key": v["key"], "name": v["name"]} for v in a.values or []
                ],
            }
            for a in matter.open311_attributes.all()
        ],
    }


# --- POST requests --------------------------------------------------------------


def _answer(a: ServiceAttribute, raw: list[str]) -> Any:
    keys = {str(v["key"]): v["name"] for v in a.values or []}
    if a.datatype == Datatype.MULTI:
        bad = [r for r in raw if r not in keys]
        if bad:
            raise ValueError(_("not one of the listed values: %(v)s") % {"v": bad[0]})
        return raw
    value = raw[-1].strip()
    if a.datatype == Datatype.SINGLE and value not in keys:
        raise ValueError(_("not one of the listed values: %(v)s") % {"v": value})
    if a.datatype == Datatype.NUMBER:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(_("not a number: %(v)s") % {"v": value}) from None
        return int(number) if number.is_integer() else number
    if a.datatype == Datatype.DATETIME:
        parsed = parse_datetime(value)
        if parsed is None or parsed.tzinfo is None:
            raise ValueError(_("not a W3C date-time with a zone: %(v)s") % {"v": value})
        return parsed.isoformat()
    limit = 300 if a.datatype == Datatype.STRING else MAX_DESCRIPTION
    if len(value) > limit:
        raise ValueError(_("longer than %(n)s characters") % {"n": limit})
    return value


def parse_attributes(
    matter: Matter, given: Mapping[str, list[str]]
) -> tuple[dict[str, Any], list[Open311Error]]:
    """``given``: attribute code → its submitted values (attribute[c] or attribute[c][])."""
    wanted = {a.code: a for a in matter.open311_attributes.all() if a.variable}
    out: dict[str, Any] = {}
    errors = [
        Open311Error(400, _("unknown attribute %(code)s") % {"code": code})
        for code in given
        if code not in wanted
    ]
    for code, a in wanted.items():
        raw = [v for v in given.get(code, []) if v.strip()]
        if not raw:
            if a.required:
                errors.append(
                    Open311Error(
                        400, _("attribute %(code)s is required") % {"code": code}
                    )
                )
            continue
        try:
            out[code] = _answer(a, raw)
        except ValueError as exc:
            errors.append(Open311Error(400, f"attribute {code}: {exc}"))
    return out, errors


def _describe(matter: Matter, description: str, answers: Mapping[str, Any]) -> str:
    """The event's text: the reporter's words, then each answer by its question."""
    lines = [description.strip()] if description.strip() else []
    for a in matter.open311_attributes.filter(code__in=list(answers)):
        value = answers[a.code]
        names = {str(v["key"]): v["name"] for v in a.values or []}
        shown = (
            "、".join(str(names.get(v, v)) for v in value)
            if isinstance(value, list)
            else names.get(str(value), str(value))
        )
        lines.append(f"{a.description}：{shown}")
    return "\n".join(lines) or matter.name


def _point(address_id: str) -> tuple[float, float]:
    """A grid code or a region code to a point inside it."""
    geometry = None
    grid = Grid.objects.filter(code=address_id).first()
    if grid is not None:
        geometry = grid.geometry
    else:
        region = Region.objects.filter(code=address_id).first()
        geometry = region.boundary if region is not None else None
    if geometry is None:
        raise Open311Error(400, _("address_id %(id)s is unknown") % {"id": address_id})
    p = geometry.representative_point()
    return float(p.y), float(p.x)


@dataclass
class Submission:
    matter: Matter
    description: str = ""
    attributes: dict[str, Any] | None = None
    lat: float | None = None
    long: float | None = None
    address_string: str = ""
    address_id: str = ""
    media_url: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    jurisdiction: str = ""
    idempotency_key: str = ""
    city: str = ""  # the city named by jurisdiction_id: the place must be in it


def request_create(*, client: Open311Client, sub: Submission) -> Open311Request:
    """Open an event now when the place is known (lat/long or address_id); with only
    an address_string, hold the request for staff to place (the client gets a token)."""
    if len(sub.description) > MAX_DESCRIPTION:
        raise Open311Error(400, _("description is longer than 4000 characters"))
    if sub.lat is None and sub.address_id:
        sub.lat, sub.long = _point(sub.address_id)
    if sub.lat is None and not sub.address_string:
        raise Open311Error(
            400, _("a location is required: lat and long, address_string or address_id")
        )
    with transaction.atomic():
        req = Open311Request.objects.create(
            token=secrets.token_urlsafe(16),
            client=client,
            matter=sub.matter,
            jurisdiction_id=sub.jurisdiction,
            description=sub.description,
            attributes=sub.attributes or {},
            lat=sub.lat,
            long=sub.long,
            address_string=sub.address_string,
            address_id=sub.address_id,
            media_url=sub.media_url,
            email=sub.email,
            device_id=sub.device_id,
            account_id=sub.account_id,
            first_name=sub.first_name,
            last_name=sub.last_name,
            phone=sub.phone,
        )
        audit_record(
            actor=None,
            action="open311.request",
            obj=req,
            changes={"client": [None, client.name], "matter": [None, sub.matter.code]},
        )
        if sub.lat is not None and sub.long is not None:
            event = _open_event(req, idempotency_key=sub.idempotency_key)
            if sub.city and event.city_code != sub.city:
                raise Open311Error(
                    400, _("the place is outside jurisdiction %(j)s") % {"j": sub.city}
                )
    return req


def _open_event(req: Open311Request, *, idempotency_key: str = "") -> Event:
    key = f"open311:{req.client_id}:{idempotency_key}" if idempotency_key else None
    payload = {
        "matter": req.matter.code,
        "description": req.description,
        "attributes": req.attributes,
        "lat": req.lat,
        "long": req.long,
        "address": req.address_string,
    }
    assert req.lat is not None and req.long is not None
    try:
        event, created = services.event_report(
            actor=None,
            source=req.client.source,
            title=f"{req.matter.name}：{req.description[:60]}".rstrip("："),
            description=_describe(req.matter, req.description, req.attributes),
            lon=req.long,
            lat=req.lat,
            matter=req.matter,
            address=req.address_string[:200],
            reporter_name=f"{req.last_name}{req.first_name}",
            reporter_phone=req.phone,
            idempotency_key=key,
            digest=services.request_digest(payload, []) if key else "",
        )
    except IdempotencyConflict:
        raise Open311Error(
            400, _("this Idempotency-Key was used for a different request")
        ) from None
    except EventError as exc:
        raise Open311Error(400, str(exc)) from None
    if not created:  # a retry: answer with the first request
        first = Open311Request.objects.filter(event=event).first()
        if first is not None:
            req.delete()
            raise _Retry(first)
    req.event = event
    req.status = Open311Request.Status.CREATED
    req.save(update_fields=["event", "status", "updated_at"])
    return event


class _Retry(Exception):
    def __init__(self, first: Open311Request) -> None:
        self.first = first


def request_create_once(*, client: Open311Client, sub: Submission) -> Open311Request:
    try:
        return request_create(client=client, sub=sub)
    except _Retry as retry:
        return retry.first


def request_place(*, actor: Any, req: Open311Request, lat: float, long: float) -> Event:
    """Staff place a held request on the map: its event opens, its token resolves."""
    if req.status != Open311Request.Status.PENDING:
        raise EventError("this request is not waiting to be placed")
    with transaction.atomic():
        req.lat, req.long = lat, long
        req.save(update_fields=["lat", "long", "updated_at"])
        event = _open_event(req)
        audit_record(
            actor=actor,
            action="open311.place",
            obj=req,
            changes={"event": [None, event.code]},
        )
    return event


# --- GET requests ---------------------------------------------------------------


@lru_cache(maxsize=64)
def _finals(workflow_id: int) -> tuple[str, ...]:
    states = WorkflowDefinition.objects.get(pk=workflow_id).definition["states"]
    return tuple(s for s, v in states.items() if v.get("final"))


def _closed_q() -> Q:
    q = Q(pk__in=[])
    for wf_id in WorkflowDefinition.objects.values_list("pk", flat=True):
        q |= Q(workflow_id=wf_id, state__in=_finals(wf_id))
    return q


def private_matter_prefixes() -> list[str]:
    """Matters never shown publicly: public-security clues (ZA…) and disputes
    between people (JF…), by matter-code prefix."""
    return list(getattr(settings, "OPEN311_PRIVATE_MATTERS", ["ZA", "JF"]))


def visible_events(city: str = "") -> QuerySet[Event]:
    """Events the public may see through Open311: citizen reports and Open311 ones,
    once classified, in a matter that is not private."""
    qs = Event.objects.filter(
        Q(source__in=public_sources()) | Q(open311__isnull=False),
        matter__isnull=False,
    ).select_related("matter", "lead_department", "open311", "grid")
    for prefix in private_matter_prefixes():
        qs = qs.exclude(matter__code__startswith=prefix)
    return qs.filter(city_code=city) if city else qs


def parse_when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value.replace(" ", "+"))
    if parsed is None:
        raise Open311Error(400, _("%(name)s is not a W3C date-time") % {"name": name})
    return parsed if parsed.tzinfo else timezone.make_aware(parsed)


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def date_window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The requested span (default: the last 90 days), at most 90 days long."""
    s, e = parse_when(start, "start_date"), parse_when(end, "end_date")
    if e is None:
        e = s + MAX_SPAN if s else timezone.now()
    if s is None:
        s = e - MAX_SPAN
    if s > e:
        raise Open311Error(400, _("start_date is after end_date"))
    if e - s > MAX_SPAN:
        raise Open311Error(400, _("the date range may not span more than 90 days"))
    return s, e


def requests_search(params: Mapping[str, str], city: str = "") -> list[Event]:
    qs = visible_events(city)
    ids = _csv(params.get("service_request_id"))
    if ids:  # overrides every other parameter (the spec)
        return list(qs.filter(code__in=ids[:MAX_RESULTS]))
    codes = _csv(params.get("service_code"))
    if codes:
        qs = qs.filter(matter__code__in=codes)
    start, end = date_window(params.get("start_date"), params.get("end_date"))
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    statuses = {s.lower() for s in _csv(params.get("status"))}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open or closed"))
    if statuses == {"closed"}:
        qs = qs.filter(_closed_q())
    elif statuses == {"open"}:
        qs = qs.exclude(_closed_q())
    return list(qs.order_by("-created_at", "-id")[:MAX_RESULTS])


def event_for(code: str, city: str = "") -> Event:
    event = visible_events(city).filter(code=code).first()
    if event is None:
        raise Open311Error(404, _("service_request_id %(id)s not found") % {"id": code})
    return event


def open311_of(event: Event) -> Open311Request | None:
    try:
        return event.open311
    except Open311Request.DoesNotExist:
        return None


def service_notice(matter: Matter | None, severity: str = "normal") -> str:
    hours = matter.limit_hours(severity, "handle") if matter else None
    if not hours:
        return ""
    return _("Handled within %(h)s hours of dispatch.") % {"h": f"{hours:g}"}


def request_out(event: Event) -> dict[str, Any]:
    """Every field of GET requests; the reporter's name, phone and email never."""
    definition = engine.definition_of(event)
    closed = definition.is_final(event.state)
    notes = definition.label(event.state)
    if event.duplicate_of_id and event.duplicate_of:
        notes = f"{notes}（{event.duplicate_of.code}）"
    o311 = open311_of(event)
    return {
        "service_request_id": event.code,
        "status": "closed" if closed else "open",
        "status_notes": notes,
        "service_name": event.matter.name if event.matter else None,
        "service_code": event.matter.code if event.matter else None,
        "description": event.description,
        "agency_responsible": event.lead_department.name
        if event.lead_department
        else None,
        "service_notice": service_notice(event.matter, event.severity) or None,
        "requested_datetime": w3c(event.created_at),
        "updated_datetime": w3c(event.updated_at),
        "expected_datetime": None if closed else w3c(event.deadline_at),
        "address": event.address or None,
        "address_id": event.grid.code if event.grid else None,
        "zipcode": None,
        "lat": event.lat,
        "long": event.lon,
        "media_url": (o311.media_url or None) if o311 else None,
    }


def tokens_out(token: str) -> list[dict[str, Any]]:
    req = Open311Request.objects.filter(token=token).select_related("event").first()
    if req is None:
        raise Open311Error(404, _("token %(t)s not found") % {"t": token})
    return [
        {
            "service_request_id": req.event.code if req.event else None,
            "token": req.token,
        }
    ]


def attribute_values(
    items: Iterable[tuple[str, Sequence[str]]],
) -> dict[str, list[str]]:
    """attribute[code]=v and attribute[code][]=v1&attribute[code][]=v2 by code."""
    out: dict[str, list[str]] = {}
    for name, values in items:
        if not name.startswith("attribute[") or "]" not in name:
            continue
        code = name[len("attribute[") : name.index("]")]
        out.setdefault(code, []).extend(values)
    return out

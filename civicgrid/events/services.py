"""Writes of the events domain: workflow definitions and intake. The loop's steps
are in ``engine.py``."""

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from civicgrid.core.audit import audit_record
from civicgrid.core.counters import daily_number
from civicgrid.core.idempotency import replay
from civicgrid.core.idempotency import request_digest as request_digest
from civicgrid.core.inserts import insert
from civicgrid.core.workflow import install_version
from civicgrid.events import config, workflow
from civicgrid.events.errors import EventError, OutsideGrids
from civicgrid.events.models import (
    Attachment,
    Event,
    EventAction,
    EventCounter,
    Level,
    Matter,
    Severity,
    Source,
    WorkflowDefinition,
)
from civicgrid.events.uploads import Photo
from civicgrid.regions.crs import CRS, to_wgs84, valid_lon_lat
from civicgrid.regions.locate import locator

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
# Shipped definitions: the full loop for every city, 烟台's variant for 烟台市 (3706).
SHIPPED = [("", "full_loop.json"), ("3706", "yantai.json")]


@lru_cache(maxsize=256)
def definition_by_id(workflow_id: int) -> workflow.Definition:
    """A stored definition, parsed once per process (a stored version never changes:
    a change is a new version)."""
    return workflow.parse(WorkflowDefinition.objects.get(pk=workflow_id).definition)


def workflow_install(
    *, actor: Any, city_code: str, data: dict[str, Any]
) -> WorkflowDefinition:
    """Store a new version of a city's definition (validated); it becomes the active
    one for new events, while running events keep the version they started with."""
    parsed = workflow.parse(data)
    # An id whose insert was rolled back can be given again (SQLite): forget them.
    definition_by_id.cache_clear()
    return install_version(
        WorkflowDefinition,
        actor=actor,
        city_code=city_code,
        name=parsed.name,
        data=data,
        action="workflow.install",
    )


def workflow_install_shipped(*, actor: Any = None) -> list[WorkflowDefinition]:
    return [
        workflow_install(
            actor=actor,
            city_code=city,
            data=json.loads((DEFINITIONS_DIR / name).read_text(encoding="utf-8")),
        )
        for city, name in SHIPPED
    ]


def workflow_for_city(
    city_code: str, cfg: config.Config | None = None
) -> WorkflowDefinition:
    """The city's active definition, else the default one (from the process's copy
    of the configuration, ``civicgrid.events.config``)."""
    wf = (cfg or config.current()).workflow_for_city(city_code)
    if wf is None:
        raise EventError("no workflow definition is installed")
    return wf


def next_event_code(city_code: str) -> str:
    """``3703-20261129-0042``: the city, the local day, the day's sequence number.

    Called outside the report's transaction, in a short one of its own: the
    counter's row lock is held for two statements, not for the whole report (it
    would make every report of a city wait for the one before). A report that then
    fails leaves a gap in the day's numbers; codes are unique, not gap-free."""
    day, n = daily_number(EventCounter, city_code)
    return f"{city_code}-{day:%Y%m%d}-{n:04d}"


def route_text(
    text: str, matters: Sequence[Matter] | None = None, cfg: config.Config | None = None
) -> list[tuple[Matter, float]]:
    """Matters proposed for a report's text, best first, with a confidence in [0, 1]:
    the share of the best-scoring matter's keyword hits (staff confirm or change it).
    Without ``matters``, the active catalogue (the process's copy) is scored."""
    pick: Callable[[int], Matter]
    if matters is not None:
        rows = [(m.pk, m.code, m.name, config.keywords_of(m)) for m in matters]
        pick = {m.pk: m for m in matters}.__getitem__
    else:
        cfg = cfg or config.current()
        rows = list(cfg.routing)
        pick = cfg.matter
    scored = []
    for pk, code, name, words in rows:
        hits = sum(len(w) for w in words if w in text)
        if name in text:
            hits += len(name) * 2
        if hits:
            scored.append((pk, code, hits))
    if not scored:
        return []
    total = sum(h for _, _, h in scored)
    scored.sort(key=lambda s: (-s[2], s[1]))
    return [(pick(pk), round(h / total, 3)) for pk, _, h in scored[:5]]


def _deadline(
    matter: Matter | None, severity: str, kind: str | None, defaults: dict[str, float]
) -> Any:
    if not kind:
        return None
    hours = matter.limit_hours(severity, kind) if matter else None
    if hours is None:
        hours = defaults.get(kind)
    return timezone.now() + timedelta(hours=hours) if hours else None


def event_report(
    *,
    actor: Any,
    source: str,
    title: str,
    description: str,
    lon: float,
    lat: float,
    crs: str = CRS.WGS84,
    matter: Matter | None = None,
    severity: str = Severity.NORMAL,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    photos: Sequence[Photo] = (),
    idempotency_key: str | None = None,
    digest: str = "",
) -> tuple[Event, bool]:
    """Take a report from any source: locate it, route it, open it in its city's
    workflow. Returns (event, created); a retry with the same Idempotency-Key returns
    the first event, and the same key with a different request is refused."""
    if source not in Source.values:
        raise EventError(f"unknown source {source!r}", field="source")
    if severity not in Severity.values:
        raise EventError(f"unknown severity {severity!r}", field="severity")
    first = replay(Event, idempotency_key, digest)
    if first is not None:
        return first, False
    if not valid_lon_lat(lon, lat):
        raise EventError(
            "longitude must be within ±180 and latitude within ±90", field="lon"
        )
    wlon, wlat = to_wgs84(lon, lat, crs)
    # One query for the grid index versions and the configuration tokens; the grid,
    # the catalogue and the workflows then come from this process's copies.
    versions = config.read_versions()
    locator.refresh(versions.grids)
    grid = locator.locate_grid(wlon, wlat)
    if grid is None:
        raise OutsideGrids("the point is not inside any grid", field="lon")
    cfg = config.current(versions)
    if matter is None:
        proposals = route_text(f"{title} {description}", cfg=cfg)
        matter = proposals[0][0] if proposals and proposals[0][1] >= 0.5 else None
    wf = workflow_for_city(grid.city_code, cfg)
    definition = definition_by_id(wf.pk)
    code = next_event_code(grid.city_code)
    try:
        with transaction.atomic():
            event = Event(
                code=code,
                city_code=grid.city_code,
                region_code=grid.code,
                grid=grid,
                source=source,
                matter=matter,
                severity=severity,
                title=title,
                description=description,
                lon=wlon,
                lat=wlat,
                address=address,
                reporter=actor
                if actor is not None and actor.is_authenticated
                else None,
                reporter_name=reporter_name,
                reporter_phone=reporter_phone,
                workflow=wf,
                state=definition.initial,
                level=Level.TOWN,
                deadline_at=_deadline(
                    matter,
                    severity,
                    definition.initial_limit,
                    definition.default_limits,
                ),
                deadline_kind=definition.initial_limit or "",
                idempotency_key=idempotency_key or None,
                request_digest=digest,
                tracking_token=secrets.token_urlsafe(12),
            )
            insert(event)  # Event.objects.create, with the statement built once
            action = EventAction(
                event=event,
                transition="report",
                from_state="",
                to_state=event.state,
                actor=event.reporter,
                actor_label=_label(actor, source),
                data={"source": source, "matter": matter.code if matter else None},
                deadline_at=event.deadline_at,
            )
            insert(action)
            _attach(event, action, photos)
            audit_record(
                actor=actor,
                action="event.report",
                obj=event,
                changes={"state": [None, event.state], "source": [None, source]},
            )
    except IntegrityError:
        # A concurrent retry won the race: answer with its event.
        first = replay(Event, idempotency_key, digest)
        if first is not None:
            return first, False
        raise
    return event, True


def _label(actor: Any, fallback: str) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor.get_username())
    return fallback


def _attach(event: Event, action: EventAction, photos: Sequence[Photo]) -> None:
    for p in photos:
        a = Attachment(
            event=event,
            action=action,
            content_type=p.content_type,
            size=len(p.content),
            sha256=p.sha256,
        )
        a.file.save(
            f"{event.code}-{p.sha256[:12]}.{p.extension}",
            ContentFile(p.content),
            save=False,
        )
        a.save()

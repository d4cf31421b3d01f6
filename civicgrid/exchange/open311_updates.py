"""FixMyStreet's servicerequestupdates extension of GeoReport v2: the public
timeline of requests (GET) and updates posted by the client that sent a request."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.events import engine
from civicgrid.events.models import EventAction
from civicgrid.exchange.models import Open311Client, Open311Update
from civicgrid.exchange.open311 import (
    MAX_DESCRIPTION,
    MAX_RESULTS,
    date_window,
    event_for,
    open311_of,
    parse_when,
    visible_events,
)
from civicgrid.exchange.open311_format import Open311Error, w3c
from civicgrid.exchange.open311_media import media_url_clean

# FixMyStreet's additional states, for the updates extension.
FMS_STATES = {
    "merged": "DUPLICATE",
    "rejected": "NO_FURTHER_ACTION",
    "closed": "FIXED",
    "reported": "OPEN",
}


def _fms_status(definition: Any, state: str) -> str:
    if state in FMS_STATES:
        return FMS_STATES[state]
    return "CLOSED" if definition.is_final(state) else "IN_PROGRESS"


def updates_search(params: Mapping[str, str], city: str = "") -> list[dict[str, Any]]:
    start, end = date_window(params.get("start_date"), params.get("end_date"))
    events = visible_events(city)
    actions = (
        EventAction.objects.filter(event__in=events, at__gte=start, at__lte=end)
        .select_related("event")
        .order_by("at", "id")[:MAX_RESULTS]
    )
    out: list[tuple[datetime, dict[str, Any]]] = []
    for a in actions:
        definition = engine.definition_of(a.event)
        t = definition.transitions.get(a.transition)
        step = t.label if t else a.transition
        out.append(
            (
                a.at,
                {
                    "update_id": f"A{a.pk}",
                    "service_request_id": a.event.code,
                    "status": _fms_status(definition, a.to_state),
                    "external_status_code": a.to_state,
                    "updated_datetime": w3c(a.at),
                    "description": f"{step}：{definition.label(a.to_state)}",
                    "media_url": None,
                },
            )
        )
    for u in Open311Update.objects.filter(
        event__in=events, created_at__gte=start, created_at__lte=end
    ).select_related("event")[:MAX_RESULTS]:
        out.append(
            (
                u.created_at,
                {
                    "update_id": f"C{u.pk}",
                    "service_request_id": u.event.code,
                    "status": u.status,
                    "external_status_code": None,
                    "updated_datetime": w3c(u.updated_datetime),
                    "description": u.description,
                    "media_url": u.media_url or None,
                },
            )
        )
    out.sort(key=lambda pair: pair[0])
    return [item for _, item in out[:MAX_RESULTS]]


def update_post(
    *, client: Open311Client, params: Mapping[str, str], city: str = ""
) -> Open311Update:
    """A client's update on a request it sent (a retry with the same update_id
    returns the first one)."""
    missing = [
        f
        for f in ("service_request_id", "update_id", "status", "updated_datetime")
        if not params.get(f)
    ]
    if missing:
        raise Open311Error(400, _("missing %(f)s") % {"f": ", ".join(missing)})
    event = event_for(params["service_request_id"], city)
    o311 = open311_of(event)
    if o311 is None or o311.client_id != client.pk:
        raise Open311Error(403, _("this client did not send that request"))
    when = parse_when(params["updated_datetime"], "updated_datetime")
    status = params["status"].upper()
    if len(params.get("description", "")) > MAX_DESCRIPTION:
        raise Open311Error(400, _("description is longer than 4000 characters"))
    media_url = media_url_clean(params.get("media_url"))
    first = Open311Update.objects.filter(
        client=client, update_id=params["update_id"]
    ).first()
    if first is not None:
        return first
    with transaction.atomic():
        update = Open311Update.objects.create(
            client=client,
            event=event,
            update_id=params["update_id"][:100],
            status=status[:10],
            description=params.get("description", ""),
            media_url=media_url,
            email=params.get("email", ""),
            first_name=params.get("first_name", ""),
            last_name=params.get("last_name", ""),
            updated_datetime=when or timezone.now(),
        )
        audit_record(
            actor=None,
            action="open311.update",
            obj=event,
            changes={"update": [None, update.update_id], "status": [None, status]},
        )
    return update

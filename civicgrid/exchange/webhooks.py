"""Outbound webhooks: every step of an event's timeline (topics event.created,
event.status_changed, event.closed, event.step) and of a dispute case's (dispute.*) is
owed, once committed, to each system allowed to read events (or disputes) in that region
and subscribed to the topic; deliveries are signed with the
system's secret (HMAC-SM3, see ``signing``), retried with exponential back-off and
logged attempt by attempt. ``manage.py deliver_webhooks`` sends what is due."""

import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from civicgrid.core.scope import covers
from civicgrid.events import config, engine
from civicgrid.events.models import EventAction
from civicgrid.exchange import signing
from civicgrid.exchange.models import (
    ConnectedSystem,
    Permission,
    WebhookAttempt,
    WebhookDelivery,
)

MAX_ATTEMPTS = 8
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
LEASE = timedelta(minutes=5)  # a claimed delivery is not claimed again meanwhile
TIMEOUT_SECONDS = 10
DELIVERY_HEADER = "X-CG-Delivery"
SYSTEMS_TABLE = "exchange_connectedsystem"  # has a configuration token (migration 0006)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 30 s, 1 min, 2 min…"""
    return min(FIRST_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def topic_of(
    kind: str, transition: str, from_state: str, to_state: str, final: bool
) -> str:
    """``kind`` is "event" or "dispute": created (the first step); closed (a final
    state, or the state named "closed" — a dispute case is closed, then verified,
    which is told as a status change); status_changed (another state); step (the
    state stays, e.g. a mediation session recorded)."""
    if not from_state or transition in ("report", "register"):
        return f"{kind}.created"
    if from_state == to_state:
        return f"{kind}.step"
    if to_state == "closed" or (final and from_state != "closed"):
        return f"{kind}.closed"
    return f"{kind}.status_changed"


def _step(action: Any, definition: Any) -> dict[str, Any]:
    t = definition.transitions.get(action.transition)
    return {
        "id": action.pk,
        "transition": action.transition,
        "label": t.label if t else action.transition,
        "from_state": action.from_state,
        "to_state": action.to_state,
        "at": action.at.isoformat(),
    }


def _event_payload(action: EventAction) -> dict[str, Any]:
    """What a subscriber learns: the event's state and the step, no personal data."""
    event = action.event
    definition = engine.definition_of(event)
    final = definition.is_final(action.to_state)
    return {
        "topic": topic_of(
            "event", action.transition, action.from_state, action.to_state, final
        ),
        "event": {
            "code": event.code,
            "city_code": event.city_code,
            "region_code": event.region_code,
            "matter": event.matter.code if event.matter else None,
            "severity": event.severity,
            "level": event.level,
            "state": event.state,
            "state_label": definition.label(event.state),
            "final": definition.is_final(event.state),
            "version": event.version,
        },
        "action": _step(action, definition),
    }


def _case_payload(action: Any) -> dict[str, Any]:
    """A dispute case's state and the step; no party, narrative or amount."""
    from civicgrid.disputes.workflow import definition_of

    case = action.case
    definition = definition_of(case.workflow_id)
    final = definition.is_final(action.to_state)
    return {
        "topic": topic_of(
            "dispute", action.transition, action.from_state, action.to_state, final
        ),
        "case": {
            "code": case.code,
            "city_code": case.city_code,
            "region_code": case.region_code,
            "level": case.level,
            "dispute_type": case.dispute_type,
            "channel": case.channel,
            "risk_grade": case.risk_grade,
            "state": case.state,
            "state_label": definition.label(case.state),
            "final": definition.is_final(case.state),
            "version": case.version,
        },
        "action": _step(action, definition),
    }


# This process's copy of the systems with a webhook, and the token it was read at.
_kept: tuple[str, tuple[ConnectedSystem, ...]] | None = None


def _webhook_systems() -> tuple[ConnectedSystem, ...]:
    """The active systems with a webhook. Every step asks, and mostly none listens:
    the process keeps a copy while the table's token, renewed by a database trigger
    on any write to it (migration 0006), is unchanged: one small read a step. The
    signing secret is not read here (deliveries read it when they send)."""
    global _kept
    token = config.token_of(SYSTEMS_TABLE)
    kept = _kept
    if token is not None and kept is not None and kept[0] == token:
        return kept[1]
    systems = tuple(
        ConnectedSystem.objects.filter(active=True)
        .exclude(webhook_url="")
        .defer("secret")
    )
    if token is not None:
        _kept = (token, systems)
    return systems


def _listeners(permission: str) -> list[ConnectedSystem]:
    return [s for s in _webhook_systems() if s.may(permission)]


def _owe(
    systems: list[ConnectedSystem], payload: dict[str, Any], code: str, region: str
) -> list[WebhookDelivery]:
    return [
        WebhookDelivery.objects.create(
            system=system,
            topic=payload["topic"],
            event_code=code,
            payload=payload,
            next_attempt_at=timezone.now(),
        )
        for system in systems
        if covers(system.region_prefixes or [], region)
        and system.wants(payload["topic"])
    ]


def enqueue(action_id: int) -> list[WebhookDelivery]:
    """The deliveries owed for one event step."""
    # Systems first: on most steps no system listens, and the step is not read at all.
    systems = _listeners(Permission.EVENTS_READ)
    if not systems:
        return []
    action = (
        EventAction.objects.select_related("event__matter", "event__workflow")
        .filter(pk=action_id)
        .first()
    )
    if action is None:
        return []
    return _owe(
        systems, _event_payload(action), action.event.code, action.event.region_code
    )


def enqueue_case(action_id: int) -> list[WebhookDelivery]:
    """The deliveries owed for one dispute case step."""
    from civicgrid.disputes.models import CaseAction

    systems = _listeners(Permission.DISPUTES_READ)
    if not systems:
        return []
    action = CaseAction.objects.select_related("case").filter(pk=action_id).first()
    if action is None:
        return []
    return _owe(
        systems, _case_payload(action), action.case.code, action.case.region_code
    )


def _on_action(sender: Any, instance: EventAction, created: bool, **kw: Any) -> None:
    if created and not kw.get("raw"):
        pk = instance.pk
        transaction.on_commit(lambda: enqueue(pk))


def _on_case_action(sender: Any, instance: Any, created: bool, **kw: Any) -> None:
    if created and not kw.get("raw"):
        pk = instance.pk
        transaction.on_commit(lambda: enqueue_case(pk))


def connect() -> None:
    """Listen to the steps of events and of dispute cases (Django's post_save of
    their timeline rows: neither app needs to know about the exchange)."""
    from django.apps import apps

    post_save.connect(_on_action, sender=EventAction, dispatch_uid="exchange-webhooks")
    if apps.is_installed("civicgrid.disputes"):
        from civicgrid.disputes.models import CaseAction

        post_save.connect(
            _on_case_action, sender=CaseAction, dispatch_uid="exchange-webhooks-cases"
        )


def _claim(now: datetime, limit: int) -> list[WebhookDelivery]:
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("system")
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in due]).update(
            next_attempt_at=now + LEASE
        )
    return due


def _send(delivery: WebhookDelivery) -> tuple[int | None, str]:
    system = delivery.system
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
    url = urlsplit(system.webhook_url)
    path = url.path + (f"?{url.query}" if url.query else "")
    headers = signing.signed_headers(
        key_id=system.key_id, secret=system.secret, method="POST", path=path, body=body
    )
    headers |= {
        "Content-Type": "application/json; charset=utf-8",
        DELIVERY_HEADER: str(delivery.pk),
    }
    if url.scheme not in ("http", "https"):
        return None, "the webhook URL must be http or https"
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        system.webhook_url, data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return int(answer.status), ""
    except urllib.error.HTTPError as exc:
        return int(exc.code), f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:300]


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send every due delivery once; returns how many were delivered, rescheduled
    and given up."""
    now = now or timezone.now()
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    for delivery in _claim(now, limit):
        started = time.monotonic()
        status, error = _send(delivery)
        ms = int((time.monotonic() - started) * 1000)
        WebhookAttempt.objects.create(
            delivery=delivery, status_code=status, error=error, duration_ms=ms
        )
        delivery.attempts += 1
        if status is not None and 200 <= status < 300:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
            delivery.last_error = ""
            counts["delivered"] += 1
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = error
            counts["failed"] += 1
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            delivery.last_error = error
            counts["retry"] += 1
        delivery.save(
            update_fields=[
                "attempts",
                "status",
                "delivered_at",
                "next_attempt_at",
                "last_error",
            ]
        )
    return counts

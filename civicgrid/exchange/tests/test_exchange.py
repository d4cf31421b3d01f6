"""The signed exchange API and the webhooks: wrong signatures, replayed nonces and
expired timestamps are refused; pushes are idempotent and scoped; webhook deliveries
reach a real local HTTP server, signed, with retries, back-off and a log."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.events import engine
from civicgrid.events.models import Event, Source
from civicgrid.exchange import signing, webhooks
from civicgrid.exchange.models import (
    ConnectedSystem,
    InboundRecord,
    Permission,
    WebhookDelivery,
)
from civicgrid.exchange.systems import system_register
from civicgrid.exchange.tests.conftest import O311, citizen_event
from civicgrid.peace_index import catalogue
from civicgrid.peace_index.models import IndexKind, MonthlyCount

pytestmark = pytest.mark.django_db


def register(**kw: Any) -> tuple[ConnectedSystem, str]:
    args: dict[str, Any] = {
        "actor": None,
        "code": "police-zb",
        "name": "淄博市公安局警情系统",
        "kind": "police",
        "permissions": [Permission.EVENTS_WRITE, Permission.INCIDENTS_WRITE],
        "region_prefixes": ["370303"],
    }
    args.update(kw)
    return system_register(**args)


def send(
    client: Client,
    system: ConnectedSystem,
    secret: str,
    path: str,
    data: Any = None,
    *,
    headers: dict[str, str] | None = None,
) -> Any:
    body = json.dumps(data, ensure_ascii=False).encode() if data is not None else b""
    method = "POST" if data is not None else "GET"
    h = headers or signing.signed_headers(
        key_id=system.key_id, secret=secret, method=method, path=path, body=body
    )
    if method == "GET":
        return client.get(path, headers=h)
    return client.post(path, body, content_type="application/json", headers=h)


def event_body(
    o: O311, external_id: str = "110-2026-0001", **kw: Any
) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "title": "商铺门前聚集争吵",
        "description": "110 转来：两家商户因占道经营发生口角",
        "lon": o.lon,
        "lat": o.lat,
        "matter": o.matter.code,
    }
    body.update(kw)
    return body


def test_a_signed_request_is_accepted_and_answers_who_signed(client: Client) -> None:
    system, secret = register()
    answer = send(client, system, secret, "/exchange/v1/whoami")
    assert answer.status_code == 200, answer.content
    assert answer.json()["code"] == "police-zb"
    assert system.secret == secret  # decrypted on read
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT secret FROM exchange_connectedsystem WHERE id = %s", [system.pk]
        )
        assert cur.fetchone()[0].startswith("sm4gcm:")  # encrypted at rest


def test_wrong_signature_replayed_nonce_and_expired_timestamp_are_refused(
    o311: O311, client: Client
) -> None:
    system, secret = register()
    path, data = "/exchange/v1/events", event_body(o311)
    body = json.dumps(data, ensure_ascii=False).encode()
    good = signing.signed_headers(
        key_id=system.key_id, secret=secret, method="POST", path=path, body=body
    )
    wrong = dict(good, **{signing.SIGNATURE_HEADER: "0" * 64})
    answer = send(client, system, secret, path, data, headers=wrong)
    assert answer.status_code == 401
    assert answer.json()["error"] == "the signature does not match"

    other_secret = signing.signed_headers(
        key_id=system.key_id,
        secret="not-the-secret",
        method="POST",
        path=path,
        body=body,
    )
    assert (
        send(client, system, secret, path, data, headers=other_secret).status_code
        == 401
    )

    tampered = dict(data, title="改过的标题")
    assert send(client, system, secret, path, tampered, headers=good).status_code == 401

    assert send(client, system, secret, path, data, headers=good).status_code == 201
    replay = send(client, system, secret, path, data, headers=good)
    assert replay.status_code == 401
    assert replay.json()["error"] == "the nonce was already used"

    old = str(int(time.time()) - signing.WINDOW_SECONDS - 5)
    expired = {
        signing.KEY_HEADER: system.key_id,
        signing.TIMESTAMP_HEADER: old,
        signing.NONCE_HEADER: "n-expired-1",
        signing.SIGNATURE_HEADER: signing.sign(
            secret, "POST", path, old, "n-expired-1", body
        ),
    }
    answer = send(client, system, secret, path, data, headers=expired)
    assert answer.status_code == 401
    assert "window" in answer.json()["error"]

    unknown = dict(good, **{signing.KEY_HEADER: "nobody"})
    assert send(client, system, secret, path, data, headers=unknown).status_code == 401
    assert Event.objects.filter(source=Source.DEPARTMENT).count() == 1


def test_pushed_events_are_idempotent_scoped_and_permitted(
    o311: O311, client: Client
) -> None:
    system, secret = register()
    first = send(client, system, secret, "/exchange/v1/events", event_body(o311))
    again = send(client, system, secret, "/exchange/v1/events", event_body(o311))
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    event = Event.objects.get(code=first.json()["code"])
    assert event.source == Source.DEPARTMENT and event.matter == o311.matter
    changed = send(
        client, system, secret, "/exchange/v1/events", event_body(o311, title="别的")
    )
    assert changed.status_code == 409
    bad = send(
        client,
        system,
        secret,
        "/exchange/v1/events",
        event_body(o311, "x2", lon="east"),
    )
    assert bad.status_code == 400 and bad.json()["error"] == "lon must be a number"

    elsewhere, secret2 = register(
        code="hotline-jn", kind="hotline", region_prefixes=["3701"]
    )
    outside = send(client, elsewhere, secret2, "/exchange/v1/events", event_body(o311))
    assert outside.status_code == 403

    reader, secret3 = register(
        code="petitions", kind="petitions", permissions=[Permission.EVENTS_READ]
    )
    refused = send(client, reader, secret3, "/exchange/v1/events", event_body(o311))
    assert refused.status_code == 403
    assert InboundRecord.objects.count() == 1


def test_incident_counts_are_checked_row_by_row_and_written_whole(
    client: Client,
) -> None:
    catalogue.catalogue_install_default(actor=None, kind=IndexKind.PEACE)
    system, secret = register()
    rows = [
        {
            "area_code": "370303001000",
            "month": "2026-10",
            "item_code": "C01",
            "count": 4,
        },
        {
            "area_code": "370303002000",
            "month": "2026-10",
            "item_code": "C01",
            "count": 2,
        },
    ]
    bad = send(
        client,
        system,
        secret,
        "/exchange/v1/incidents",
        {
            "batch_id": "b1",
            "rows": [
                *rows,
                {
                    "area_code": "370102001000",
                    "month": "2026-10",
                    "item_code": "ZZ",
                    "count": -1,
                },
            ],
        },
    )
    assert bad.status_code == 400
    assert bad.json()["rows"][0]["line"] == 4
    assert not MonthlyCount.objects.exists()
    ok = send(
        client,
        system,
        secret,
        "/exchange/v1/incidents",
        {"batch_id": "b2", "rows": rows},
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["created"] == 2
    assert MonthlyCount.objects.filter(source="system:police-zb").count() == 2


# --- webhooks against a real HTTP server -----------------------------------------


class Receiver:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.seen: list[tuple[str, Any, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                # HTTP headers are case-insensitive (urllib sends "X-cg-key")
                receiver.seen.append((self.path, self.headers, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?city=3703"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([500, 503])
    yield r
    r.close()


def test_webhooks_are_signed_retried_with_back_off_and_logged(
    o311: O311, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    system, secret = register(
        code="urban",
        kind="urban_management",
        permissions=[Permission.EVENTS_READ],
        region_prefixes=["3703"],
        webhook_url=receiver.url,
    )
    register(
        code="jinan",
        permissions=[Permission.EVENTS_READ],
        region_prefixes=["3701"],
        webhook_url=receiver.url,
    )
    with django_capture_on_commit_callbacks(execute=True):
        event = citizen_event(o311)
    with django_capture_on_commit_callbacks(execute=True):
        engine.event_act(
            actor=o311.center, event_id=event.pk, transition="accept", version=1
        )
    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [(d.system, d.topic) for d in deliveries] == [
        (system, "event.created"),
        (system, "event.status_changed"),
    ]  # 济南's system is not told about 淄博's event
    first = deliveries[0]

    t0 = timezone.now()
    assert webhooks.deliver_due(now=t0) == {"delivered": 0, "retry": 2, "failed": 0}
    first.refresh_from_db()
    assert first.next_attempt_at == t0 + timedelta(seconds=30)
    assert webhooks.deliver_due(now=t0 + timedelta(seconds=10))["retry"] == 0
    t1 = t0 + timedelta(seconds=31)
    assert webhooks.deliver_due(now=t1) == {"delivered": 2, "retry": 0, "failed": 0}

    first.refresh_from_db()
    assert first.status == WebhookDelivery.Status.DELIVERED and first.attempts == 2
    assert [a.status_code for a in first.log.all()] == [500, 200]
    path, headers, body = receiver.seen[-2]
    assert path == "/hook?city=3703"
    signing.check(secret=secret, method="POST", path=path, headers=headers, body=body)
    payload = json.loads(body)
    assert (
        payload["event"]["code"] == event.code and payload["topic"] == "event.created"
    )
    assert "13800000001" not in body.decode()  # no personal data in webhooks


def test_an_unreachable_system_is_given_up_after_the_last_attempt(
    o311: O311, django_capture_on_commit_callbacks: Any
) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    register(
        code="down",
        permissions=[Permission.EVENTS_READ],
        region_prefixes=["3703"],
        webhook_url=f"http://127.0.0.1:{port}/hook",
    )
    with django_capture_on_commit_callbacks(execute=True):
        citizen_event(o311)
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    delays = []
    for _ in range(webhooks.MAX_ATTEMPTS):
        webhooks.deliver_due(now=now)
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            delays.append((delivery.next_attempt_at - now).total_seconds())
            now = delivery.next_attempt_at
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == webhooks.MAX_ATTEMPTS == delivery.log.count()
    assert delays == [30, 60, 120, 240, 480, 960, 1920]
    assert all(a.status_code is None and a.error for a in delivery.log.all())


def test_the_scheduled_task_delivers(
    o311: O311, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    from django.conf import settings

    from civicgrid.exchange.tasks import deliver_webhooks

    assert any(
        job["task"] == "civicgrid.exchange.tasks.deliver_webhooks"
        for job in settings.CIVICGRID_SCHEDULE
    )
    receiver.statuses = []
    register(
        code="urban",
        permissions=[Permission.EVENTS_READ],
        region_prefixes=["3703"],
        webhook_url=receiver.url,
    )
    with django_capture_on_commit_callbacks(execute=True):
        citizen_event(o311)
    assert deliver_webhooks.call() == {"delivered": 1, "retry": 0, "failed": 0}
    assert len(receiver.seen) == 1

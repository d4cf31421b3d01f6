"""Webhook topics end to end against a real local HTTP receiver: an event created,
its status changed, closed; a dispute case registered, diverted, closed (from the
disputes app's timeline rows, through Django's post_save: the disputes app is not
edited); a system subscribed to some topics only; a system of another city told
nothing; no personal data in any payload."""

import json
from typing import Any

import pytest

from civicgrid.disputes import engine as disputes_engine
from civicgrid.disputes import services as disputes
from civicgrid.disputes.tests.factories import parties
from civicgrid.events import engine
from civicgrid.exchange import signing, webhooks
from civicgrid.exchange.models import Permission, Topic, WebhookDelivery
from civicgrid.exchange.systems import system_register
from civicgrid.exchange.tests.conftest import O311, citizen_event
from civicgrid.exchange.tests.test_exchange import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook() -> Any:
    r = Receiver([])
    yield r
    r.close()


def test_topics_of_events_and_dispute_cases(
    o311: O311, hook: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    everything, secret = system_register(
        actor=None,
        code="city-hub",
        name="市数据共享平台",
        kind="other",
        permissions=[Permission.EVENTS_READ, Permission.DISPUTES_READ],
        region_prefixes=["3703"],
        webhook_url=hook.url,
    )
    closings, _ = system_register(
        actor=None,
        code="hotline",
        name="12345 热线",
        kind="hotline",
        permissions=[Permission.EVENTS_READ, Permission.DISPUTES_READ],
        region_prefixes=["3703"],
        webhook_url=hook.url,
        webhook_topics=[Topic.EVENT_CLOSED, Topic.DISPUTE_CLOSED],
    )
    system_register(
        actor=None,
        code="jinan",
        name="济南",
        kind="other",
        permissions=[Permission.EVENTS_READ, Permission.DISPUTES_READ],
        region_prefixes=["3701"],
        webhook_url=hook.url,
    )
    with pytest.raises(ValueError, match="topics"):
        system_register(
            actor=None,
            code="bad",
            name="x",
            kind="other",
            permissions=[],
            region_prefixes=[],
            webhook_topics=["event.exploded"],
        )

    with django_capture_on_commit_callbacks(execute=True):
        accepted = citizen_event(o311, "路灯不亮")
    with django_capture_on_commit_callbacks(execute=True):
        engine.event_act(
            actor=o311.center, event_id=accepted.pk, transition="accept", version=1
        )
    with django_capture_on_commit_callbacks(execute=True):
        rejected = citizen_event(o311, "井盖缺失")
    with django_capture_on_commit_callbacks(execute=True):
        engine.event_act(
            actor=o311.center,
            event_id=rejected.pk,
            transition="reject",
            version=1,
            data={"reason": "重复"},
        )
    with django_capture_on_commit_callbacks(execute=True):
        case = disputes.case_intake(
            actor=o311.center,
            source="walk_in",
            region_code="370303001",
            level="town",
            dispute_type="neighbours",
            title="相邻通行纠纷",
            narrative="两户因院墙通道发生争执",
            parties=parties(),
        )
    for transition, data in (
        ("divert", {"channel": "peoples_mediation"}),
        ("close", {"outcome": "withdrawn", "reason": "申请人撤回"}),
    ):
        case.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            disputes_engine.case_act(
                actor=o311.center,
                case_id=case.pk,
                transition=transition,
                version=case.version,
                data=data,
            )

    told = [
        (d.system.code, d.topic, d.event_code)
        for d in WebhookDelivery.objects.select_related("system").order_by("id")
    ]
    assert told == [
        ("city-hub", "event.created", accepted.code),
        ("city-hub", "event.status_changed", accepted.code),
        ("city-hub", "event.created", rejected.code),
        ("city-hub", "event.closed", rejected.code),
        ("hotline", "event.closed", rejected.code),
        ("city-hub", "dispute.created", case.code),
        ("city-hub", "dispute.status_changed", case.code),
        ("city-hub", "dispute.closed", case.code),
        ("hotline", "dispute.closed", case.code),
    ]  # 济南's system hears nothing of 淄博

    assert webhooks.deliver_due()["delivered"] == len(told)
    assert len(hook.seen) == len(told)
    bodies = [json.loads(body) for _, _, body in hook.seen]
    assert sorted(b["topic"] for b in bodies) == sorted(t for _, t, _ in told)
    for path, headers, body in hook.seen:
        if headers[signing.KEY_HEADER] == everything.key_id:
            signing.check(
                secret=secret, method="POST", path=path, headers=headers, body=body
            )
        text = body.decode()
        for personal in ("张三", "李四", "13812345678", "13800000001", "院墙"):
            assert personal not in text
    closed_case = next(b for b in bodies if b["topic"] == "dispute.closed")
    assert closed_case["case"]["code"] == case.code
    assert closed_case["case"]["state"] == "closed"
    assert closed_case["action"]["transition"] == "close"
    assert closings.key_id in {h[signing.KEY_HEADER] for _, h, _ in hook.seen}


def test_each_process_keeps_the_listening_systems_until_the_table_changes(
    o311: O311,
) -> None:
    """No system is read again while none changed (one token read a step); any write
    to the table, even raw SQL, is seen by the next step."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def system_reads() -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as q:
            codes = [s.code for s in webhooks._listeners(Permission.EVENTS_READ)]
        table = '"exchange_connectedsystem"'
        reads = [x for x in q.captured_queries if f"FROM {table}" in x["sql"]]
        return len(reads), codes

    system_register(
        actor=None,
        code="city-hub",
        name="市数据共享平台",
        kind="other",
        permissions=[Permission.EVENTS_READ],
        region_prefixes=["3703"],
        webhook_url="https://hub.example.org/hook",
    )
    assert system_reads() == (1, ["city-hub"])
    assert system_reads() == (0, ["city-hub"])  # the process's copy
    with connection.cursor() as cur:
        cur.execute("UPDATE exchange_connectedsystem SET active = %s", [False])
    assert system_reads() == (1, [])
    assert system_reads() == (0, [])

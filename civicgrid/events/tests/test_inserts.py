"""core.inserts.insert writes what Model.save(force_insert=True) writes: every column
alike (auto_now_add, defaults, encrypted personal data, a foreign key), the save
signals sent, and models it does not cover left to the ORM."""

from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext

from civicgrid.core import inserts
from civicgrid.core.inserts import insert
from civicgrid.events.models import Event, EventAction, WorkflowDefinition
from civicgrid.events.tests.conftest import Cast

pytestmark = pytest.mark.django_db


def new_event(cast: Cast, code: str) -> Event:
    p = cast.grid.geometry.representative_point()
    return Event(
        code=code,
        city_code=cast.grid.city_code,
        region_code=cast.grid.code,
        grid=cast.grid,
        source="citizen_web",
        matter=cast.small,
        title="路灯不亮",
        description="小区门口路灯坏了",
        lon=p.x,
        lat=p.y,
        reporter_phone="13912345678",
        workflow=WorkflowDefinition.objects.filter(active=True).first(),
        state="reported",
        tracking_token=f"t-{code}",
    )


def columns(pk: int) -> dict[str, Any]:
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM events_event WHERE id = %s", [pk])
        names = [c[0] for c in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


def test_the_row_is_the_one_the_orm_writes(cast: Cast) -> None:
    by_orm, fast = (
        new_event(cast, "3703-20261130-9001"),
        new_event(cast, "3703-20261130-9002"),
    )
    by_orm.save(force_insert=True)
    with CaptureQueriesContext(connection) as q:
        insert(fast)
    assert len(q.captured_queries) == 1
    assert fast.pk and fast.pk != by_orm.pk and not fast._state.adding
    a, b = columns(by_orm.pk), columns(fast.pk)
    differ = {k for k in a if a[k] != b[k]}
    # Only the key, the code, the token, the times and the ciphertext (a fresh nonce)
    # differ; the phone reads back the same, and its blind index is equal.
    assert differ <= {
        "id",
        "code",
        "tracking_token",
        "created_at",
        "updated_at",
        "reporter_phone",
    }
    assert b["created_at"] is not None and b["updated_at"] is not None
    assert Event.objects.get(pk=fast.pk).reporter_phone == "13912345678"
    assert a["reporter_phone"] != b["reporter_phone"]


def test_signals_are_sent_and_a_late_saved_foreign_key_is_taken(cast: Cast) -> None:
    seen: list[tuple[str, bool]] = []

    def before(sender: Any, instance: Any, **kw: Any) -> None:
        seen.append(("pre", instance.pk is None))

    def after(sender: Any, instance: Any, created: bool, **kw: Any) -> None:
        seen.append(("post", created))

    event = new_event(cast, "3703-20261130-9003")
    action = EventAction(event=event, transition="report", to_state="reported")
    insert(event)  # saved after it was given to the action
    pre_save.connect(before, sender=EventAction)
    post_save.connect(after, sender=EventAction)
    try:
        insert(action)
    finally:
        pre_save.disconnect(before, sender=EventAction)
        post_save.disconnect(after, sender=EventAction)
    assert seen == [("pre", True), ("post", True)]
    assert EventAction.objects.get(pk=action.pk).event_id == event.pk


def test_a_model_with_its_own_save_is_left_to_the_orm(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    orm_save = Event.save

    def save(self: Event, *args: Any, **kwargs: Any) -> None:
        calls.append(kwargs.get("force_insert", False))
        orm_save(self, *args, **kwargs)

    monkeypatch.setattr(Event, "save", save)
    inserts._plan.cache_clear()
    try:
        event = new_event(cast, "3703-20261130-9004")
        insert(event)
    finally:
        inserts._plan.cache_clear()
    assert calls == [True] and Event.objects.filter(pk=event.pk).exists()

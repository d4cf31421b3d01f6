"""Supervision: deadline warnings, supervision orders, the whistle, duplicates, inbox."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from civicgrid.events import supervision
from civicgrid.events.engine import event_act
from civicgrid.events.errors import EventError, NotPermitted
from civicgrid.events.models import DeadlineWarning, Event, Notification, WhistleCall
from civicgrid.events.tests.conftest import Cast

pytestmark = pytest.mark.django_db


def act(event: Event, actor: Any, transition: str, **data: Any) -> Event:
    event.refresh_from_db()
    return event_act(
        actor=actor,
        event_id=event.pk,
        transition=transition,
        version=event.version,
        data=data,
    )


def test_yellow_then_red_warnings_once_each(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """With a 2 h limit: at 1 h nothing, at 1 h 40 min (over 75 %) yellow, past 2 h red;
    scanning again records nothing new; the town center is notified."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        e = report()  # the initial "accept" limit: the definition's 2 h
        assert e.deadline_at == timezone.now() + timedelta(hours=2)
        clock.shift(timedelta(hours=1))
        assert supervision.deadline_scan()["yellow"] == 0
        clock.shift(timedelta(minutes=40))
        assert supervision.deadline_scan()["yellow"] == 1
        assert supervision.deadline_scan()["yellow"] == 0
        clock.shift(timedelta(minutes=21))
        assert supervision.deadline_scan()["red"] == 1
        assert supervision.deadline_scan()["red"] == 0
    kinds = list(DeadlineWarning.objects.filter(event=e).values_list("kind", flat=True))
    assert sorted(kinds) == ["red", "yellow"]
    assert Notification.objects.filter(user=cast.town, event=e).count() == 2


def test_supervision_order_must_be_answered_by_the_handler(
    cast: Cast, report: Callable[..., Event]
) -> None:
    e = report(matter=cast.big)
    act(e, cast.town, "accept")
    e = act(e, cast.town, "dispatch", lead_department=cast.urban_dept.pk)
    with pytest.raises(NotPermitted):
        supervision.supervision_order_issue(
            actor=cast.urban, event=e, text="x", hours=4
        )
    order = supervision.supervision_order_issue(
        actor=cast.county, event=e, text="请今日处置完毕", hours=4
    )
    assert Notification.objects.filter(user=cast.urban, event=e).exists()
    with pytest.raises(NotPermitted):
        supervision.supervision_order_answer(actor=cast.market, order=order, answer="x")
    supervision.supervision_order_answer(
        actor=cast.urban, order=order, answer="已安排人员"
    )
    with pytest.raises(EventError):
        supervision.supervision_order_answer(
            actor=cast.urban, order=order, answer="again"
        )
    assert Notification.objects.filter(user=cast.county, event=e).exists()
    counts = supervision.supervision_counts()
    assert counts[str(cast.urban_dept.pk)]["supervision_orders"] == 1


def test_whistle_check_ins_on_time_late_and_missing(
    cast: Cast, report: Callable[..., Event], make_staff: Callable[..., Any]
) -> None:
    """吹哨报到: one department checks in on time, one late, one never (missing)."""
    from civicgrid.accounts import services as accounts
    from civicgrid.accounts.models import Department
    from civicgrid.regions.models import Region

    police = accounts.department_create(
        actor=None,
        name="张店区公安分局",
        kind=Department.Kind.POLICE,
        region=Region.objects.get(region_code="370303"),
    )
    e = report(matter=cast.big)
    with pytest.raises(NotPermitted):
        supervision.whistle_blow(
            actor=cast.urban, event=e, departments=[police], reason="x", minutes=30
        )
    with time_machine.travel(timezone.now(), tick=False) as clock:
        w = supervision.whistle_blow(
            actor=cast.grid_worker,
            event=e,
            departments=[cast.urban_dept, cast.market_dept, police],
            reason="燃气泄漏需多部门到场",
            minutes=30,
        )
        calls = {c.department_id: c for c in w.calls.all()}
        clock.shift(timedelta(minutes=10))
        assert (
            supervision.whistle_check_in(
                actor=cast.urban, call=calls[cast.urban_dept.pk]
            ).status
            == "on_time"
        )
        with pytest.raises(NotPermitted):
            supervision.whistle_check_in(
                actor=cast.urban, call=calls[cast.market_dept.pk]
            )
        clock.shift(timedelta(minutes=25))
        assert (
            supervision.whistle_check_in(
                actor=cast.market, call=calls[cast.market_dept.pk]
            ).status
            == "late"
        )
        supervision.deadline_scan()
    statuses = dict(
        WhistleCall.objects.filter(whistle=w).values_list("department_id", "status")
    )
    assert statuses == {
        cast.urban_dept.pk: "on_time",
        cast.market_dept.pk: "late",
        police.pk: "missing",
    }
    with pytest.raises(EventError):
        supervision.whistle_blow(
            actor=cast.town, event=e, departments=[police], reason="x", minutes=1
        )


def test_duplicates_are_proposed_and_every_reporter_hears_the_outcome(
    cast: Cast, report: Callable[..., Event], make_staff: Callable[..., Any]
) -> None:
    """A second report of the same problem nearby is proposed; once merged, closing the
    first tells both reporters."""
    from civicgrid.accounts import services as accounts

    other_citizen = accounts.user_create(
        actor=None, username="e_citizen2", password=None
    )
    first = report(title="人行道占道经营", description="小区门口人行道被水果摊占满")
    second = report(
        actor=other_citizen,
        title="门口占道经营",
        description="小区门口人行道被水果摊占了",
    )
    unrelated = report(title="路灯不亮", description="夜里漆黑一片")
    found = [c.code for c, _, _ in supervision.duplicate_candidates(second)]
    assert first.code in found and unrelated.code not in found
    act(second, cast.town, "merge", duplicate_of=first.code)
    act(first, cast.town, "accept")
    act(first, cast.grid_worker, "handle_in_grid", result="已劝离")
    act(first, cast.grid_worker, "verify")
    act(first, cast.citizen, "return_visit", rating="satisfied")
    act(first, cast.town, "close")
    assert Notification.objects.filter(
        user=cast.citizen, event=first, text__contains="已销号"
    ).exists()
    assert Notification.objects.filter(user=other_citizen, event=first).exists()

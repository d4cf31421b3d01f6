"""Every path of both shipped loops, driven to the end, with the whole timeline
asserted row by row; each test then checks that its events used every transition
of the definition (a transition added to a shipped definition fails here until a
path takes it). Also the figures later issues read: on-time rate, resolution level,
satisfaction."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from civicgrid.accounts import services as accounts
from civicgrid.events import selectors, supervision
from civicgrid.events.engine import definition_of, event_act
from civicgrid.events.models import Event, EventAction, Notification, WhistleCall
from civicgrid.events.services import (
    DEFINITIONS_DIR,
    workflow_for_city,
    workflow_install,
)
from civicgrid.events.tests.conftest import Cast

pytestmark = pytest.mark.django_db

Row = tuple[str, str, str]


def act(event: Event, actor: Any, transition: str, **data: Any) -> Event:
    event.refresh_from_db()
    return event_act(
        actor=actor,
        event_id=event.pk,
        transition=transition,
        version=event.version,
        data=data,
    )


def timeline(event: Event) -> list[Row]:
    return list(
        EventAction.objects.filter(event=event)
        .order_by("at", "id")
        .values_list("transition", "from_state", "to_state")
    )


def used(*events: Event) -> set[str]:
    return set(
        EventAction.objects.filter(event__in=events)
        .exclude(transition__in=["report", "whistle", "check_in", "supervise"])
        .exclude(transition__in=["supervision_answer", "check_in_missing"])
        .values_list("transition", flat=True)
    )


def whistle_and_check_in(e: Event, cast: Cast) -> None:
    """The grid worker summons both departments; one checks in, one never does."""
    w = supervision.whistle_blow(
        actor=cast.grid_worker,
        event=e,
        departments=[cast.urban_dept, cast.market_dept],
        reason="多部门联合处置",
        minutes=30,
    )
    supervision.whistle_check_in(
        actor=cast.urban, call=w.calls.get(department=cast.urban_dept)
    )
    supervision.whistle_close_overdue(timezone.now() + timedelta(minutes=31))
    assert dict(w.calls.values_list("department_id", "status")) == {
        cast.urban_dept.pk: WhistleCall.Status.ON_TIME,
        cast.market_dept.pk: WhistleCall.Status.MISSING,
    }


def supervise_and_answer(e: Event, cast: Cast) -> None:
    order = supervision.supervision_order_issue(
        actor=cast.county, event=e, text="请加快办理", hours=8
    )
    supervision.supervision_order_answer(
        actor=cast.urban, order=order, answer="已增派人员"
    )


def test_every_path_of_the_full_loop(cast: Cast, report: Callable[..., Event]) -> None:
    second_citizen = accounts.user_create(actor=None, username="e_c2", password=None)

    # 1. Rejected with a reason: final, closed, the reporter is told.
    rejected = report()
    rejected = act(rejected, cast.town, "reject", reason="不属于受理范围")
    assert (rejected.state, rejected.deadline_at) == ("rejected", None)
    assert rejected.closed_at is not None
    assert timeline(rejected) == [
        ("report", "", "reported"),
        ("reject", "reported", "rejected"),
    ]
    assert Notification.objects.filter(user=cast.citizen, event=rejected).exists()

    # 2. A duplicate merged into the first report; the first one is small, handled
    #    in the grid, and both reporters hear that it is closed.
    first = report()
    dup = report(actor=second_citizen, title="又有人占道经营")
    dup = act(dup, cast.town, "merge", duplicate_of=first.code)
    assert (dup.state, dup.duplicate_of_id) == ("merged", first.pk)
    assert timeline(dup) == [
        ("report", "", "reported"),
        ("merge", "reported", "merged"),
    ]
    act(first, cast.town, "accept")
    act(first, cast.grid_worker, "handle_in_grid", result="已劝离")
    act(first, cast.grid_worker, "verify")
    act(first, cast.citizen, "return_visit", rating="basically_satisfied")
    first = act(first, cast.town, "close")
    assert timeline(first) == [
        ("report", "", "reported"),
        ("accept", "reported", "accepted"),
        ("handle_in_grid", "accepted", "handled"),
        ("verify", "handled", "verified"),
        ("return_visit", "verified", "visited"),
        ("close", "visited", "closed"),
    ]
    for who in (cast.citizen, second_citizen):
        assert Notification.objects.filter(user=who, event=first).exists()

    # 3. The big one: escalated to the county, dispatched to a lead and a
    #    co-handler, whistle, extension refused then approved, supervision order,
    #    both report (会签), verification fails, re-dispatch, an unsatisfied rating
    #    reopens it, re-dispatch, and at last it is closed.
    big = report(matter=cast.big)
    act(big, cast.town, "accept")
    big = act(big, cast.town, "escalate", reason="涉及多个部门")
    assert big.level == "county"
    act(
        big,
        cast.county,
        "dispatch",
        lead_department=cast.urban_dept.pk,
        co_departments=[cast.market_dept.pk],
    )
    act(big, cast.urban, "sign_for")
    act(big, cast.market, "co_sign_for")
    whistle_and_check_in(big, cast)
    act(big, cast.urban, "request_extension", reason="等待配件", hours=12)
    act(big, cast.county, "refuse_extension", reason="不予延期")
    before = Event.objects.get(pk=big.pk).deadline_at
    assert before is not None
    act(big, cast.urban, "request_extension", reason="需协调", hours=24)
    big = act(big, cast.county, "approve_extension")
    assert big.deadline_at == before + timedelta(hours=24)
    supervise_and_answer(big, cast)
    act(big, cast.urban, "report_done", result="主体完成")
    act(big, cast.market, "report_done", result="商户已整改")
    big = act(big, cast.grid_worker, "verify_fail", reason="现场仍有隐患")
    assert big.state == "accepted"
    act(big, cast.county, "dispatch", lead_department=cast.urban_dept.pk)
    act(big, cast.urban, "sign_for")
    act(big, cast.urban, "report_done", result="隐患已排除")
    act(big, cast.grid_worker, "verify")
    big = act(big, cast.citizen, "return_visit", rating="unsatisfied")
    assert (big.state, big.rating) == ("accepted", "unsatisfied")
    act(big, cast.county, "dispatch", lead_department=cast.urban_dept.pk)
    act(big, cast.urban, "sign_for")
    act(big, cast.urban, "report_done", result="再次整改完成")
    act(big, cast.grid_worker, "verify")
    act(big, cast.citizen, "return_visit", rating="satisfied")
    big = act(big, cast.county, "close")
    assert (big.state, big.rating, big.level) == ("closed", "satisfied", "county")
    assert timeline(big) == [
        ("report", "", "reported"),
        ("accept", "reported", "accepted"),
        ("escalate", "accepted", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("sign_for", "dispatched", "handling"),
        ("co_sign_for", "handling", "handling"),
        ("whistle", "handling", "handling"),
        ("check_in", "handling", "handling"),
        ("check_in_missing", "handling", "handling"),
        ("request_extension", "handling", "extension_requested"),
        ("refuse_extension", "extension_requested", "handling"),
        ("request_extension", "handling", "extension_requested"),
        ("approve_extension", "extension_requested", "handling"),
        ("supervise", "handling", "handling"),
        ("supervision_answer", "handling", "handling"),
        ("report_done", "handling", "handling"),  # the co-handler has not reported
        ("report_done", "handling", "handled"),
        ("verify_fail", "handled", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("sign_for", "dispatched", "handling"),
        ("report_done", "handling", "handled"),
        ("verify", "handled", "verified"),
        ("return_visit", "verified", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("sign_for", "dispatched", "handling"),
        ("report_done", "handling", "handled"),
        ("verify", "handled", "verified"),
        ("return_visit", "verified", "visited"),
        ("close", "visited", "closed"),
    ]
    rows = list(big.actions.order_by("at", "id"))
    by_name = {a.transition: a for a in rows}
    assert by_name["co_sign_for"].department == cast.market_dept
    assert by_name["check_in"].department == cast.urban_dept
    assert by_name["check_in_missing"].department == cast.market_dept
    assert by_name["whistle"].note == "多部门联合处置"
    assert by_name["escalate"].data == {"reason": "涉及多个部门"}
    assert (
        by_name["close"].actor == cast.county and by_name["close"].deadline_at is None
    )
    # Records do not move the event: the version counts loop steps only.
    steps = [a for a in rows if a.transition in definition_of(big).transitions]
    assert big.version == 1 + len(steps)

    # 4. Sent back by the department, re-dispatched from "returned".
    back = report(matter=cast.big)
    act(back, cast.town, "accept")
    act(back, cast.town, "dispatch", lead_department=cast.market_dept.pk)
    act(back, cast.market, "send_back", reason="非本部门职责")
    back = act(back, cast.town, "dispatch", lead_department=cast.urban_dept.pk)
    assert back.lead_department == cast.urban_dept
    assert timeline(back) == [
        ("report", "", "reported"),
        ("accept", "reported", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("send_back", "dispatched", "returned"),
        ("dispatch", "returned", "dispatched"),
    ]

    everything = used(rejected, first, dup, big, back)
    assert everything == set(definition_of(big).transitions)

    # The figures: where the closed ones were resolved, and how citizens rated them.
    mine = Event.objects.filter(pk__in=[rejected.pk, first.pk, dup.pk, big.pk])
    assert selectors.resolution_levels(mine) == {
        "grid": 1,
        "village": 0,
        "town": 0,
        "county": 1,
        "city": 0,
    }
    assert selectors.satisfaction(mine) == {
        "basically_satisfied": 1,
        "satisfied": 1,
    }


def test_every_path_of_the_yantai_loop(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """烟台: 汇总 → 研判 → 交办 → 督导落实 → 检查评价, with co-handlers, whistle,
    supervision, send back, rejection, merge, and an unsatisfied evaluation."""
    assert workflow_for_city("3706").name == "yantai"  # shipped for 烟台市
    # The demo grids are 淄博's: 淄博 switches to 烟台's loop for this test.
    workflow_install(
        actor=None,
        city_code="3703",
        data=json.loads((DEFINITIONS_DIR / "yantai.json").read_text()),
    )
    main = report(matter=cast.big)
    d = definition_of(main)
    assert (d.name, main.state, d.label(main.state)) == (
        "yantai",
        "collected",
        "已汇总待研判",
    )
    labels = [d.label(main.state)]
    steps: list[tuple[Any, str, dict[str, Any]]] = [
        (cast.town, "analyse", {"conclusion": "涉及两个部门，限期整改"}),
        (
            cast.town,
            "assign",
            {
                "lead_department": cast.urban_dept.pk,
                "co_departments": [cast.market_dept.pk],
            },
        ),
        (cast.urban, "sign_for", {}),
    ]
    for actor, step, data in steps:
        main = act(main, actor, step, **data)
        labels.append(d.label(main.state))
    assert labels == ["已汇总待研判", "已研判待交办", "已交办待签收", "督导落实中"]
    act(main, cast.market, "co_sign_for")
    whistle_and_check_in(main, cast)
    supervise_and_answer(main, cast)
    act(main, cast.urban, "report_done", result="已整改")
    main = act(main, cast.market, "report_done", result="已检查")
    assert (main.state, d.label(main.state)) == ("inspecting", "检查评价中")
    main = act(main, cast.town, "evaluate", rating="unsatisfied")
    assert main.state == "supervised"  # back to 督导落实: both report again
    act(main, cast.urban, "report_done", result="二次整改")
    act(main, cast.market, "report_done", result="二次检查")
    main = act(main, cast.town, "evaluate", rating="satisfied")
    assert (main.state, main.closed_at is not None) == ("closed", True)
    assert timeline(main) == [
        ("report", "", "collected"),
        ("analyse", "collected", "analysed"),
        ("assign", "analysed", "assigned"),
        ("sign_for", "assigned", "supervised"),
        ("co_sign_for", "supervised", "supervised"),
        ("whistle", "supervised", "supervised"),
        ("check_in", "supervised", "supervised"),
        ("check_in_missing", "supervised", "supervised"),
        ("supervise", "supervised", "supervised"),
        ("supervision_answer", "supervised", "supervised"),
        ("report_done", "supervised", "supervised"),
        ("report_done", "supervised", "inspecting"),
        ("evaluate", "inspecting", "supervised"),
        ("report_done", "supervised", "supervised"),
        ("report_done", "supervised", "inspecting"),
        ("evaluate", "inspecting", "closed"),
    ]
    assert Notification.objects.filter(user=cast.citizen, event=main).exists()

    back = report(matter=cast.big)
    act(back, cast.town, "analyse", conclusion="交市场监管")
    act(back, cast.town, "assign", lead_department=cast.market_dept.pk)
    act(back, cast.market, "send_back", reason="非本部门职责")
    back = act(back, cast.town, "assign", lead_department=cast.urban_dept.pk)
    assert timeline(back) == [
        ("report", "", "collected"),
        ("analyse", "collected", "analysed"),
        ("assign", "analysed", "assigned"),
        ("send_back", "assigned", "analysed"),
        ("assign", "analysed", "assigned"),
    ]
    rejected = act(report(), cast.town, "reject", reason="重复信访")
    assert timeline(rejected) == [
        ("report", "", "collected"),
        ("reject", "collected", "rejected"),
    ]
    merged = act(report(), cast.town, "merge", duplicate_of=back.code)
    assert timeline(merged) == [
        ("report", "", "collected"),
        ("merge", "collected", "merged"),
    ]
    assert used(main, back, rejected, merged) == set(d.transitions)


def test_on_time_rate_counts_each_step_against_its_running_deadline(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """The matter gives 2 h to sign for (after accept) and 24 h to handle; the
    definition 2 h to accept. Steps: accept in time, sign for late, report done in
    time: 2 of 3 on time. Supervision records are not steps."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        e = report(matter=cast.big)
        clock.shift(timedelta(hours=1))
        act(e, cast.town, "accept")  # within the 2 h to accept
        act(e, cast.town, "dispatch", lead_department=cast.urban_dept.pk)
        clock.shift(timedelta(hours=3))
        act(e, cast.urban, "sign_for")  # 3 h after dispatch: late
        supervise_and_answer(e, cast)
        clock.shift(timedelta(hours=1))
        act(e, cast.urban, "report_done", result="已处置")
    # accept ✓ (1 h ≤ 2 h), dispatch ✓ (at once), sign_for ✗, report_done ✓
    assert selectors.on_time_rate(Event.objects.filter(pk=e.pk)) == 0.75
    assert selectors.on_time_rate(Event.objects.none()) is None


def test_a_reporter_without_an_account_rates_with_the_tracking_token(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """The return visit by the citizen who reported anonymously: the report's
    tracking token proves who they are; a wrong token, or a staff step, is refused."""
    from civicgrid.events.errors import NotPermitted

    e = report(actor=None)
    act(e, cast.town, "accept")
    act(e, cast.grid_worker, "handle_in_grid", result="已处理")
    e = act(e, cast.grid_worker, "verify")

    def as_citizen(token: str, transition: str = "return_visit") -> Event:
        return event_act(
            actor=None,
            event_id=e.pk,
            transition=transition,
            version=e.version,
            data={"rating": "satisfied"},
            tracking_token=token,
        )

    for bad in ("", "x" * 16, e.tracking_token[:-1]):
        with pytest.raises(NotPermitted):
            as_citizen(bad)
    e = as_citizen(e.tracking_token)
    assert (e.state, e.rating) == ("visited", "satisfied")
    last = e.actions.order_by("-id").first()
    assert last is not None and (last.actor, last.actor_label) == (None, "reporter")
    with pytest.raises(NotPermitted):
        as_citizen(e.tracking_token, "close")

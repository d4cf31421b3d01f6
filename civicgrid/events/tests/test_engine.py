"""The loop: every path of the shipped workflows, and every refusal."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from civicgrid.events import selectors
from civicgrid.events.engine import event_act
from civicgrid.events.errors import EventError, NotPermitted, StaleVersion
from civicgrid.events.models import Assignment, Event
from civicgrid.events.services import workflow_install
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


def timeline(event: Event) -> list[tuple[str, str, str]]:
    return list(event.actions.values_list("transition", "from_state", "to_state"))


def test_small_matter_is_handled_in_the_grid(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """小事一格解决: accept → handled in the grid → verified → rated → closed."""
    e = report()
    act(e, cast.town, "accept")
    act(e, cast.grid_worker, "handle_in_grid", result="已劝离摊贩")
    act(e, cast.grid_worker, "verify")
    act(e, cast.citizen, "return_visit", rating="satisfied")
    e = act(e, cast.town, "close")
    assert e.state == "closed" and e.closed_at is not None and e.deadline_at is None
    assert timeline(e) == [
        ("report", "", "reported"),
        ("accept", "reported", "accepted"),
        ("handle_in_grid", "accepted", "handled"),
        ("verify", "handled", "verified"),
        ("return_visit", "verified", "visited"),
        ("close", "visited", "closed"),
    ]
    assert selectors.resolution_levels(Event.objects.filter(pk=e.pk))["grid"] == 1


def test_co_handled_dispatch_completes_when_all_report_and_unsatisfied_reopens(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """会签: the step completes only when the lead and the co-handler have reported;
    an unsatisfied rating reopens the event for the center."""
    e = report(matter=cast.big)
    act(e, cast.town, "accept")
    act(
        e,
        cast.town,
        "dispatch",
        lead_department=cast.urban_dept.pk,
        co_departments=[cast.market_dept.pk],
    )
    act(e, cast.urban, "sign_for")
    act(e, cast.market, "co_sign_for")
    e = act(e, cast.urban, "report_done", result="已处置")
    assert e.state == "handling"  # the co-handler has not reported yet
    e = act(e, cast.market, "report_done", result="已检查商户")
    assert e.state == "handled"
    act(e, cast.grid_worker, "verify")
    e = act(e, cast.town, "return_visit", rating="unsatisfied")
    assert e.state == "accepted" and e.rating == "unsatisfied"
    e = act(e, cast.town, "dispatch", lead_department=cast.urban_dept.pk)
    assert e.assignments.filter(active=True).count() == 1
    assert [t for t, _, _ in timeline(e)] == [
        "report",
        "accept",
        "dispatch",
        "sign_for",
        "co_sign_for",
        "report_done",
        "report_done",
        "verify",
        "return_visit",
        "dispatch",
    ]


def test_send_back_and_redispatch(cast: Cast, report: Callable[..., Event]) -> None:
    """A department sends the event back with a reason; the center re-dispatches."""
    e = report(matter=cast.big)
    act(e, cast.town, "accept")
    act(e, cast.town, "dispatch", lead_department=cast.market_dept.pk)
    with pytest.raises(EventError, match="reason"):
        act(e, cast.market, "send_back")
    e = act(e, cast.market, "send_back", reason="不属于本部门职责")
    assert e.state == "returned" and e.lead_department is None
    assert (
        e.assignments.get(department=cast.market_dept).status
        == Assignment.Status.RETURNED
    )
    e = act(e, cast.town, "dispatch", lead_department=cast.urban_dept.pk)
    e = act(e, cast.urban, "sign_for")
    assert e.state == "handling"
    with pytest.raises(NotPermitted):  # the market office holds no assignment any more
        act(e, cast.market, "report_done", result="x")


def test_escalation_moves_the_event_up_the_levels(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """大事不出镇: town → county → city; each time only that level's center acts."""
    e = report(matter=cast.big)
    act(e, cast.town, "accept")
    e = act(e, cast.town, "escalate", reason="涉及多个镇街")
    assert e.level == "county" and e.state == "accepted"
    with pytest.raises(NotPermitted):
        act(e, cast.town, "dispatch", lead_department=cast.urban_dept.pk)
    e = act(e, cast.county, "escalate", reason="需市级协调")
    assert e.level == "city"
    with pytest.raises(EventError, match="city level"):
        act(e, cast.city, "escalate", reason="再上报")
    e = act(e, cast.city, "dispatch", lead_department=cast.urban_dept.pk)
    assert e.state == "dispatched"


def test_extension_moves_the_deadline_only_when_approved(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """An extension request is approved (deadline + its hours) or refused (unchanged)."""
    e = report(matter=cast.big)
    act(e, cast.town, "accept")
    act(e, cast.town, "dispatch", lead_department=cast.urban_dept.pk)
    e = act(e, cast.urban, "sign_for")
    before = e.deadline_at
    assert before is not None
    act(e, cast.urban, "request_extension", reason="需协调供气公司", hours=24)
    e = act(e, cast.town, "refuse_extension", reason="情况紧急")
    assert e.deadline_at == before and e.state == "handling"
    act(e, cast.urban, "request_extension", reason="需更换管道", hours=48)
    e = act(e, cast.town, "approve_extension")
    assert e.deadline_at == before + timedelta(hours=48)
    with pytest.raises(EventError, match="hours"):
        act(e, cast.urban, "request_extension", reason="x", hours=5000)


def test_duplicate_is_merged_into_the_first_report(
    cast: Cast, report: Callable[..., Event]
) -> None:
    first, second = report(), report(title="又有人占道")
    e = act(second, cast.town, "merge", duplicate_of=first.code)
    assert e.state == "merged" and e.duplicate_of == first
    with pytest.raises(EventError, match="duplicate_of"):
        act(report(), cast.town, "merge", duplicate_of="3703-19990101-0001")


@pytest.mark.parametrize(
    ("who", "transition", "data", "error"),
    [
        ("town", "fly_away", {}, EventError),  # no such step
        ("town", "close", {}, EventError),  # not from this state
        ("citizen", "accept", {}, NotPermitted),  # wrong role
        ("urban", "accept", {}, NotPermitted),  # department staff do not accept
        ("town", "reject", {}, EventError),  # missing reason
        ("grid_worker", "accept", {}, NotPermitted),
    ],
)
def test_refused_steps_write_nothing(
    cast: Cast,
    report: Callable[..., Event],
    who: str,
    transition: str,
    data: dict,
    error: type,
) -> None:
    """A refused step raises with the reason and leaves state, version and timeline as they were."""
    e = report()
    with pytest.raises(error):
        act(e, getattr(cast, who), transition, **data)
    e.refresh_from_db()
    assert (e.state, e.version, e.actions.count()) == ("reported", 1, 1)


def test_other_towns_center_cannot_act(
    cast: Cast, report: Callable[..., Event], make_staff: Callable[..., Any]
) -> None:
    other = make_staff("e_other_town", "center_staff", region="370303002")
    with pytest.raises(NotPermitted):
        act(report(), other, "accept")


def test_big_matter_cannot_be_handled_in_the_grid(
    cast: Cast, report: Callable[..., Event]
) -> None:
    e = report(matter=cast.big)
    act(e, cast.town, "accept")
    with pytest.raises(EventError, match="small matters"):
        act(e, cast.grid_worker, "handle_in_grid", result="x")


def test_stale_version_is_a_conflict(cast: Cast, report: Callable[..., Event]) -> None:
    """Two officers act on the same version: the second is refused with the current event."""
    e = report()
    event_act(actor=cast.town, event_id=e.pk, transition="accept", version=1)
    with pytest.raises(StaleVersion) as exc:
        event_act(
            actor=cast.town,
            event_id=e.pk,
            transition="reject",
            version=1,
            data={"reason": "x"},
        )
    assert exc.value.event.state == "accepted"


def test_event_keeps_the_definition_version_it_started_with(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """A city switching to 烟台's loop: running events finish on the old one, new ones
    start on the new one and follow 汇总→研判→交办→督导落实→检查评价."""
    import json

    from civicgrid.events.services import DEFINITIONS_DIR

    old = report(matter=cast.big)
    workflow_install(
        actor=None,
        city_code="3703",
        data=json.loads((DEFINITIONS_DIR / "yantai.json").read_text()),
    )
    new = report(matter=cast.big)
    assert old.workflow.name == "full-loop" and new.workflow.name == "yantai"
    assert act(old, cast.town, "accept").state == "accepted"
    act(new, cast.town, "analyse", conclusion="一般事项，周内交办")
    act(new, cast.town, "assign", lead_department=cast.urban_dept.pk)
    act(new, cast.urban, "sign_for")
    act(new, cast.urban, "report_done", result="已整改")
    e = act(new, cast.town, "evaluate", rating="unsatisfied")
    assert e.state == "supervised"
    act(e, cast.urban, "report_done", result="再次整改")
    e = act(e, cast.town, "evaluate", rating="satisfied")
    assert e.state == "closed"
    assert [t for t, _, _ in timeline(e)] == [
        "report",
        "analyse",
        "assign",
        "sign_for",
        "report_done",
        "evaluate",
        "report_done",
        "evaluate",
    ]


def test_overdue_with_a_controlled_clock(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """The matter gives 2 h to accept... past its deadline the event is overdue."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        e = report()
        assert e.deadline_at is not None
        overdue = selectors.events_filtered(Event.objects.all(), {"overdue": "1"})
        assert e not in overdue
        clock.shift(e.deadline_at - timezone.now() + timedelta(seconds=1))
        assert e in selectors.events_filtered(Event.objects.all(), {"overdue": "1"})
        act(e, cast.town, "accept")
        assert e not in selectors.events_filtered(Event.objects.all(), {"overdue": "1"})

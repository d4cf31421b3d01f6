"""Overdue warnings on dispute cases under a controlled clock: the entry gate's
diversion limit (72 hours) and a handling limit; yellow to the handlers, red
escalated to the county center and the owning leader; each once; the job on the
scheduler, run by the database worker."""

import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from civicgrid.core.scheduler import scheduler_tick
from civicgrid.disputes.models import CaseWarning
from civicgrid.disputes.overdue import follow_up_scan, overdue_scan
from civicgrid.disputes.tests.conftest import act
from civicgrid.events.models import Notification

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
JOB = "civicgrid.disputes.tasks.scan_overdue_cases"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc,arg-type]


def inbox(user: Any) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("text", flat=True))


def test_entry_gate_yellow_then_red_escalated(cast: Any, register: Any) -> None:
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False) as clock:
        case = register()
        assert case.deadline_kind == "divert"
        assert case.deadline_at == at(2026, 3, 5, 9, 0)  # 72 hours to divert
        case.leader = cast.leader
        case.save(update_fields=["leader"])

        clock.move_to(at(2026, 3, 4, 8, 0))  # 47 of 72 hours: nothing yet
        assert overdue_scan() == {"yellow": 0, "red": 0}
        clock.move_to(at(2026, 3, 4, 16, 0))  # 55 of 72 (> 75 %): yellow
        assert overdue_scan() == {"yellow": 1, "red": 0}
        assert overdue_scan() == {"yellow": 0, "red": 0}  # once
        [town_note] = inbox(cast.town)
        assert case.code in town_note and "黄色预警" in town_note
        assert "分流" in town_note and inbox(cast.county) == []

        clock.move_to(at(2026, 3, 5, 9, 1))  # past the limit: red, escalated
        assert overdue_scan() == {"yellow": 0, "red": 1}
        assert overdue_scan() == {"yellow": 0, "red": 0}
        assert any("红色预警" in t for t in inbox(cast.town))
        assert any(case.code in t for t in inbox(cast.county))  # the center above
        assert any(case.code in t for t in inbox(cast.leader))  # the owning leader
        assert inbox(cast.town_b) == []  # not another town's center
        from civicgrid.disputes.tests.test_pages import signed_in

        page = signed_in(cast.town).get(f"/disputes/{case.code}/").content.decode()
        assert "超期预警" in page and "红色：已超期并提级" in page
        red = CaseWarning.objects.get(case=case, kind="red")
        assert red.deadline_kind == "divert" and red.state == "registered"
        assert red.notified == 3

        # Diverted late: the next limit (assign, 24 h) starts its own warnings.
        act(case, cast.town, "divert", channel="peoples_mediation")
        case.refresh_from_db()
        assert case.deadline_kind == "assign"
        clock.move_to(case.deadline_at + timedelta(minutes=1))  # type: ignore[operator]
        assert overdue_scan() == {"yellow": 0, "red": 1}
        assert CaseWarning.objects.filter(case=case, kind="red").count() == 2


def test_the_mediator_is_warned_on_mediation_and_a_verified_case_never(
    cast: Any, register: Any
) -> None:
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False) as clock:
        case = register()
        act(case, cast.town, "divert", channel="peoples_mediation")
        act(case, cast.town, "assign", mediator=cast.mediator.pk)
        case.refresh_from_db()
        assert case.deadline_kind == "mediate"
        clock.move_to(case.deadline_at - timedelta(hours=1))  # type: ignore[operator]
        assert overdue_scan() == {"yellow": 1, "red": 0}
        assert any("调解" in t and case.code in t for t in inbox(cast.mediator_user))
        act(case, cast.town, "close", outcome="withdrawn", reason="撤回")
        act(case, cast.leader, "verify")
        clock.move_to(at(2027, 1, 1, 0, 0))
        assert overdue_scan() == {"yellow": 0, "red": 0}


@pytest.fixture
def keep_signals(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """db_worker installs its own signal handlers and closes the connection between
    jobs (which would end the test's transaction on PostgreSQL): both are undone."""
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_the_scheduler_runs_the_scan(
    cast: Any, register: Any, keep_signals: None, settings: Any
) -> None:
    shipped = [e for e in settings.CIVICGRID_SCHEDULE if e["task"] == JOB]
    assert shipped and shipped[0]["every_minutes"] <= 60
    settings.CIVICGRID_SCHEDULE = shipped
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False) as clock:
        case = register()
        clock.move_to(case.deadline_at + timedelta(minutes=5))  # type: ignore[operator]
        assert [name for name, _ in scheduler_tick()] == [JOB]
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "-v0")
    [result] = DBTaskResult.objects.all()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"yellow": 0, "red": 1, "follow_up": 0}
    assert CaseWarning.objects.filter(case=case, kind="red").exists()


def test_the_shipped_schedule_holds_the_job() -> None:
    assert any(e["task"] == JOB for e in settings.CIVICGRID_SCHEDULE)


def test_consultation_follow_up_past_due_warned_once(
    cast: Any, register: Any, make_staff: Any
) -> None:
    """A follow-up assigned at a consultation: nothing on its due day; the morning
    after, the staff of the unit's department, the town center that chaired
    and the owning leader are warned, once; a new due day is watched afresh."""
    from civicgrid.accounts import services as accounts
    from civicgrid.accounts.models import Department, Role
    from civicgrid.disputes.consultations import (
        consultation_item_add,
        consultation_item_decide,
        consultation_open,
    )
    from civicgrid.regions.models import Region

    housing = accounts.department_create(
        actor=None,
        name="张店区住建局",
        kind=Department.Kind.OTHER,
        region=Region.objects.get(region_code="370303"),
    )
    clerk = make_staff("d_housing", Role.DEPARTMENT_STAFF, department=housing)
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False) as clock:
        case = register()
        case.leader = cast.leader
        case.save(update_fields=["leader"])
        c = consultation_open(
            actor=cast.town,
            region=Region.objects.get(region_code="370303001"),
            held_on=at(2026, 3, 2, 9, 0).date(),
            attendees=["政法委", "住建局"],
        )
        item = consultation_item_add(
            actor=cast.town,
            consultation=c,
            case=case,
            item={
                "decision": "住建部门牵头勘查",
                "follow_up_department": housing.pk,
                "follow_up_due": "2026-03-10",
            },
        )
        notes = Notification.objects.count()

        clock.move_to(at(2026, 3, 10, 23, 0))  # the due day itself: not yet
        assert follow_up_scan() == 0
        clock.move_to(at(2026, 3, 11, 0, 30))  # the day after
        assert follow_up_scan() == 1
        assert follow_up_scan() == 0  # once per due day
        for user in (clerk, cast.town, cast.leader):
            [text] = [t for t in inbox(user) if "会诊" in t]
            assert case.code in text and "张店区住建局" in text and "2026-03-10" in text
        assert not any("会诊" in t for t in inbox(cast.town_b))
        assert not any("会诊" in t for t in inbox(cast.police))
        warned = Notification.objects.count() - notes

        # a new due day: watched again, warned once more after it
        consultation_item_decide(
            actor=cast.town,
            item=item,
            data={
                "decision": "延期勘查",
                "follow_up_department": housing.pk,
                "follow_up_due": "2026-03-15",
            },
        )
        clock.move_to(at(2026, 3, 14, 9, 0))
        assert follow_up_scan() == 0
        clock.move_to(at(2026, 3, 16, 9, 0))
        assert follow_up_scan() == 1 and follow_up_scan() == 0
        assert Notification.objects.count() - notes == 2 * warned


def test_a_verified_case_follow_up_is_not_warned(cast: Any, register: Any) -> None:
    from civicgrid.disputes.consultations import (
        consultation_item_add,
        consultation_open,
    )
    from civicgrid.regions.models import Region

    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False) as clock:
        case = register()
        c = consultation_open(
            actor=cast.town,
            region=Region.objects.get(region_code="370303001"),
            held_on=at(2026, 3, 2, 9, 0).date(),
            attendees=["政法委"],
        )
        consultation_item_add(
            actor=cast.town,
            consultation=c,
            case=case,
            item={"follow_up_unit": "信访局", "follow_up_due": "2026-03-05"},
        )
        type(case).objects.filter(pk=case.pk).update(state="verified")
        clock.move_to(at(2026, 3, 9, 9, 0))
        assert follow_up_scan() == 0

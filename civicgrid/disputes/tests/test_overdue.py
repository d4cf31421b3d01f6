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
from civicgrid.disputes.overdue import overdue_scan
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
    assert result.return_value == {"yellow": 0, "red": 1}
    assert CaseWarning.objects.filter(case=case, kind="red").exists()


def test_the_shipped_schedule_holds_the_job() -> None:
    assert any(e["task"] == JOB for e in settings.CIVICGRID_SCHEDULE)

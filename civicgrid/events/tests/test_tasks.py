"""Background work: the periodic-job scheduler under a controlled clock, and the
deadline scan enqueued on the database backend and run by its worker."""

import signal
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django_tasks import TaskResultStatus, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from civicgrid.core.scheduler import check_schedule, parse_schedule, scheduler_tick
from civicgrid.events.models import DeadlineWarning, Event, ScheduledJob
from civicgrid.events.tasks import scan_deadlines

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCAN = "civicgrid.events.tasks.scan_deadlines"
SCHEDULE = [
    {"task": SCAN, "every_minutes": 5},
    {"name": "monthly-scan", "task": SCAN, "monthly_day": 1, "at": "02:00"},
]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc,arg-type]


@pytest.fixture
def schedule(settings: Any) -> list[dict[str, Any]]:
    settings.CIVICGRID_SCHEDULE = SCHEDULE
    return SCHEDULE


@pytest.fixture
def keep_signals(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """db_worker installs its own SIGINT/SIGTERM handlers: give pytest its own back.
    It also closes the connection between jobs, which would end the test's own
    transaction on PostgreSQL: here the connection is kept."""
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def enqueued() -> list[str]:
    return list(
        DBTaskResult.objects.order_by("enqueued_at").values_list("task_path", flat=True)
    )


def test_the_configured_backend_is_the_database() -> None:
    assert isinstance(task_backends["default"], DatabaseBackend)
    assert parse_schedule(
        django_settings.CIVICGRID_SCHEDULE
    )  # the shipped schedule parses


def test_scheduler_enqueues_each_slot_once_across_restarts(schedule: Any) -> None:
    with time_machine.travel(at(2026, 3, 15, 10, 2), tick=False) as clock:
        # First start: the 5-minute job, and the monthly job whose slot (1 March
        # 02:00) passed while no scheduler ran: caught up once.
        assert [n for n, _ in scheduler_tick()] == [SCAN, "monthly-scan"]
        assert scheduler_tick() == []  # same slots: nothing
        clock.move_to(at(2026, 3, 15, 10, 4, 59))
        assert scheduler_tick() == []
        clock.move_to(at(2026, 3, 15, 10, 5))
        assert [n for n, _ in scheduler_tick()] == [SCAN]
        # A restarted scheduler (a new process: nothing in memory) enqueues nothing.
        out = StringIO()
        call_command("run_scheduler", "--once", stdout=out)
        assert out.getvalue() == ""
        # Down for an hour: the missed slots give one enqueue, not twelve.
        clock.move_to(at(2026, 3, 15, 11, 7))
        call_command("run_scheduler", "--once", stdout=out)
        assert out.getvalue().count("enqueued") == 1
        # The month turns: the monthly job is due at 02:00 local time on the 1st.
        clock.move_to(at(2026, 4, 1, 1, 59))
        assert [n for n, _ in scheduler_tick()] == [SCAN]
        clock.move_to(at(2026, 4, 1, 2, 0))
        assert [n for n, _ in scheduler_tick()] == [SCAN, "monthly-scan"]
        assert scheduler_tick() == []
    assert enqueued() == [SCAN] * 7
    row = ScheduledJob.objects.get(name="monthly-scan")
    assert row.last_slot == at(2026, 4, 1, 2, 0)
    assert DBTaskResult.objects.filter(id=row.last_result_id).exists()


def test_a_monthly_slot_in_january_looks_back_to_december(schedule: Any) -> None:
    with time_machine.travel(at(2027, 1, 1, 1, 0), tick=False):
        scheduler_tick()
    row = ScheduledJob.objects.get(name="monthly-scan")
    assert row.last_slot == at(2026, 12, 1, 2, 0)


def test_a_job_whose_task_is_missing_is_skipped_and_the_others_run(
    settings: Any,
) -> None:
    settings.CIVICGRID_SCHEDULE = [
        {"task": "civicgrid.events.tasks.no_such_task", "every_minutes": 5},
        {"task": "civicgrid.events.services.event_report", "every_minutes": 5},
        {"task": SCAN, "every_minutes": 5},
    ]
    assert [n for n, _ in scheduler_tick()] == [SCAN]
    assert [w.id for w in check_schedule()] == ["civicgrid.W001"] * 2


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"task": SCAN}, "exactly one"),
        ({"task": SCAN, "every_minutes": 5, "monthly_day": 1}, "exactly one"),
        ({"task": SCAN, "every_minutes": 0}, "every_minutes"),
        ({"task": SCAN, "monthly_day": 31}, "monthly_day"),
        ({"task": SCAN, "monthly_day": 1, "at": "25:00"}, "HH:MM"),
        ({"task": SCAN, "every_minutes": 5, "at": "02:00"}, "monthly"),
        ({"task": SCAN, "every_minutes": 5, "cron": "* * *"}, "unknown keys"),
        ({"task": "scan", "every_minutes": 5}, "dotted path"),
    ],
)
def test_a_bad_schedule_is_refused_with_its_reason(
    settings: Any, entry: dict[str, Any], reason: str
) -> None:
    settings.CIVICGRID_SCHEDULE = [entry]
    with pytest.raises(ImproperlyConfigured, match=reason):
        scheduler_tick()
    with pytest.raises(ImproperlyConfigured, match=reason):
        call_command("run_scheduler", "--once")
    assert [e.id for e in check_schedule()] == ["civicgrid.E001"]


def test_two_jobs_with_one_name_are_refused(settings: Any) -> None:
    settings.CIVICGRID_SCHEDULE = [
        {"task": SCAN, "every_minutes": 5},
        {"task": SCAN, "monthly_day": 1},
    ]
    with pytest.raises(ImproperlyConfigured, match="second job"):
        scheduler_tick()


def test_the_worker_runs_the_enqueued_deadline_scan(
    schedule: Any, report: Callable[..., Event], keep_signals: None
) -> None:
    """Enqueued by the scheduler on the database backend, run by `db_worker`: the
    warnings of an overdue event are recorded once, however many scans run."""
    with time_machine.travel(at(2026, 3, 15, 10, 2), tick=False) as clock:
        event = report()
        assert event.deadline_at is not None
        clock.move_to(event.deadline_at + timedelta(minutes=1))
        scheduler_tick()
        assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 2
        call_command(
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "--verbosity=0",
        )
    results = DBTaskResult.objects.all()
    assert {r.status for r in results} == {TaskResultStatus.SUCCESSFUL}
    assert sorted((r.return_value or {})["red"] for r in results) == [0, 1]
    assert DeadlineWarning.objects.filter(event=event, kind="red").count() == 1


def test_the_task_can_be_enqueued_directly_and_fetched_by_id(
    keep_signals: None,
) -> None:
    result = scan_deadlines.enqueue()
    assert result.status == TaskResultStatus.READY
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "-v0")
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert set(result.return_value or {}) == {"yellow", "red", "whistle_missing"}

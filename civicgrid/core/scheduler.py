"""The scheduler of periodic jobs: enqueues the django-tasks tasks of
``settings.CIVICGRID_SCHEDULE`` when they are due; the database worker
(``manage.py db_worker``) runs them. Every app registers its periodic tasks there
(``manage.py run_scheduler`` runs the loop; the slots enqueued are rows of
``events.ScheduledJob``).

A job is either every N minutes (slots aligned on the clock: every 5 minutes means
:00, :05, :10…) or monthly on a day at a local time. Each enqueue records the job's
slot in ``ScheduledJob`` in the same transaction as the task row, under a row lock:
a restarted scheduler, or a second one started by mistake, never enqueues a slot
twice. A scheduler that was down over several slots enqueues the job once when it
comes back (the jobs are idempotent and look at the present, not at the slot).
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import Task

if TYPE_CHECKING:
    from civicgrid.events.models import ScheduledJob

logger = logging.getLogger("civicgrid.scheduler")

KEYS = {"name", "task", "every_minutes", "monthly_day", "at"}


@dataclass(frozen=True)
class Job:
    name: str
    task_path: str
    every_minutes: int | None = None
    monthly_day: int | None = None
    at: time = time(1, 0)

    def slot(self, now: datetime) -> datetime:
        """The latest time at or before ``now`` at which the job was due."""
        if self.every_minutes:
            step = self.every_minutes * 60
            return datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=UTC)
        assert self.monthly_day is not None
        local = timezone.localtime(now)
        year, month = local.year, local.month
        due = self._monthly(year, month)
        if due > now:
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
            due = self._monthly(year, month)
        return due

    def _monthly(self, year: int, month: int) -> datetime:
        assert self.monthly_day is not None
        naive = datetime(year, month, self.monthly_day, self.at.hour, self.at.minute)
        return timezone.make_aware(naive)


def parse_schedule(entries: Sequence[Mapping[str, Any]]) -> list[Job]:
    """Check the schedule; ImproperlyConfigured names the first bad entry and why."""
    jobs: list[Job] = []
    for i, entry in enumerate(entries):
        where = f"CIVICGRID_SCHEDULE[{i}]"
        unknown = set(entry) - KEYS
        if unknown:
            raise ImproperlyConfigured(f"{where}: unknown keys {sorted(unknown)}")
        path = entry.get("task")
        if not isinstance(path, str) or "." not in path:
            raise ImproperlyConfigured(f"{where}: 'task' must be a dotted path")
        every, day = entry.get("every_minutes"), entry.get("monthly_day")
        if (every is None) == (day is None):
            raise ImproperlyConfigured(
                f"{where}: give exactly one of 'every_minutes' and 'monthly_day'"
            )
        if every is not None and not (isinstance(every, int) and 1 <= every <= 1440):
            raise ImproperlyConfigured(f"{where}: 'every_minutes' must be 1–1440")
        if day is not None and not (isinstance(day, int) and 1 <= day <= 28):
            raise ImproperlyConfigured(f"{where}: 'monthly_day' must be 1–28")
        at = time(1, 0)
        if "at" in entry:
            if every is not None:
                raise ImproperlyConfigured(f"{where}: 'at' is for monthly jobs")
            try:
                at = time.fromisoformat(str(entry["at"]))
            except ValueError:
                raise ImproperlyConfigured(f"{where}: 'at' must be HH:MM") from None
        job = Job(
            name=str(entry.get("name") or path),
            task_path=path,
            every_minutes=every,
            monthly_day=day,
            at=at,
        )
        if any(j.name == job.name for j in jobs):
            raise ImproperlyConfigured(f"{where}: a second job named {job.name!r}")
        jobs.append(job)
    return jobs


def resolve_task(path: str) -> Task[Any, Any]:
    """The task at ``path``; ImproperlyConfigured when it is missing or no task."""
    try:
        obj = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"cannot import {path}: {exc}") from None
    if not isinstance(obj, Task):
        raise ImproperlyConfigured(f"{path} is not a django-tasks task")
    return obj


def _jobs() -> "type[ScheduledJob]":
    """The table of enqueued slots (kept in the events app, where it was created)."""
    from django.apps import apps

    model: type[ScheduledJob] = apps.get_model("events", "ScheduledJob")
    return model


def scheduler_tick(now: datetime | None = None) -> list[tuple[str, str]]:
    """Enqueue every job whose latest slot has not been enqueued yet; return the
    (job, task result id) pairs enqueued. A job whose task cannot be resolved is
    logged and skipped: the others still run."""
    now = now or timezone.now()
    enqueued: list[tuple[str, str]] = []
    for job in parse_schedule(getattr(settings, "CIVICGRID_SCHEDULE", [])):
        slot = job.slot(now)
        try:
            task = resolve_task(job.task_path)
        except ImproperlyConfigured as exc:
            logger.error("scheduler: job %s skipped: %s", job.name, exc)
            continue
        jobs = _jobs()
        with transaction.atomic():
            jobs.objects.get_or_create(
                name=job.name, defaults={"task_path": job.task_path}
            )
            row = jobs.objects.select_for_update().get(name=job.name)
            if row.last_slot is not None and row.last_slot >= slot:
                continue
            result = task.enqueue()
            row.task_path, row.last_slot = job.task_path, slot
            row.last_enqueued_at, row.last_result_id = now, str(result.id)
            row.save()
        logger.info("scheduler: enqueued %s for %s as %s", job.name, slot, result.id)
        enqueued.append((job.name, str(result.id)))
    return enqueued


def check_schedule(**kwargs: Any) -> list[Any]:
    """System check: the schedule is well formed (error) and its tasks resolve
    (warning: the scheduler skips such a job and logs it)."""
    from django.core import checks

    try:
        jobs = parse_schedule(getattr(settings, "CIVICGRID_SCHEDULE", []))
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="civicgrid.E001")]
    out: list[Any] = []
    for job in jobs:
        try:
            resolve_task(job.task_path)
        except ImproperlyConfigured as exc:
            out.append(checks.Warning(str(exc), id="civicgrid.W001"))
    return out

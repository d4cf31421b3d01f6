"""Moved to :mod:`civicgrid.core.scheduler` (the scheduler serves every app); kept
so that older imports keep working."""

from civicgrid.core.scheduler import (
    Job,
    check_schedule,
    parse_schedule,
    resolve_task,
    scheduler_tick,
)

__all__ = ["Job", "check_schedule", "parse_schedule", "resolve_task", "scheduler_tick"]

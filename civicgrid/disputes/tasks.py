"""Background jobs of the disputes domain (django-tasks): thin and idempotent."""

from django_tasks import task

from civicgrid.disputes.overdue import follow_up_scan, overdue_scan


@task()
def scan_overdue_cases() -> dict[str, int]:
    """Record the yellow and red overdue warnings of dispute cases and notify (red
    ones escalated), and warn about consultation follow-ups past their due day.
    Idempotent: each warning once per deadline."""
    return {**overdue_scan(), "follow_up": follow_up_scan()}

"""Background jobs of the events domain (django-tasks): thin and idempotent."""

from django_tasks import task

from civicgrid.events.supervision import deadline_scan


@task()
def scan_deadlines() -> dict[str, int]:
    """Record yellow/red deadline warnings and missing whistle check-ins, and notify.
    Idempotent: each warning is recorded once per deadline, however often it runs."""
    return deadline_scan()

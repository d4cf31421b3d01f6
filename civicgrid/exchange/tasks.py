"""Background jobs of the exchange (django-tasks): send the webhooks that are due;
send the monthly upward report once the month's peace index is published."""

from django_tasks import task

from civicgrid.exchange.upward import upward_send_due
from civicgrid.exchange.webhooks import deliver_due


@task()
def deliver_webhooks() -> dict[str, int]:
    """Send due deliveries once; failures are rescheduled with back-off. Safe to run
    often and in parallel (deliveries are claimed with a lease)."""
    return deliver_due()


@task()
def send_upward_reports() -> dict[str, list[str]]:
    """Send each higher-level instance the previous month (or an earlier one left
    unsent) once the city's peace index month is published; scheduled hourly, it
    sends each month once and retries a failed send on its next run."""
    return upward_send_due()

"""Background job of the exchange (django-tasks): send the webhooks that are due."""

from django_tasks import task

from civicgrid.exchange.webhooks import deliver_due


@task()
def deliver_webhooks() -> dict[str, int]:
    """Send due deliveries once; failures are rescheduled with back-off. Safe to run
    often and in parallel (deliveries are claimed with a lease)."""
    return deliver_due()

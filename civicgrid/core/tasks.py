"""Background jobs of the kernel (django-tasks)."""

from django_tasks import task

from civicgrid.core.audit_ops import audit_purge
from civicgrid.core.ratelimit import purge_expired


@task()
def purge_audit() -> int:
    """Remove audit rows past CIVICGRID_AUDIT_RETENTION_DAYS (idempotent)."""
    return audit_purge()


@task()
def purge_rate_counts() -> int:
    """Remove the request counts no rate reads any more (idempotent)."""
    return purge_expired()

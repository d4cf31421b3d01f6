"""Checking and purging the audit log without breaking its hash chain."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from civicgrid.core.audit import audit_record, lock_chain
from civicgrid.core.chain import GENESIS, row_hash
from civicgrid.core.models import AuditRecord

PURGE_ACTION = "audit.purge"
# The Cybersecurity Law (art. 21) asks for network logs kept at least six months.
MIN_RETENTION_DAYS = 184


@dataclass(frozen=True)
class Problem:
    record_id: int
    reason: str


@dataclass(frozen=True)
class Verification:
    checked: int
    head: str
    problems: list[Problem]


def _start_hash() -> tuple[str, int]:
    """Where the chain may start: the genesis hash, or the hash of the last row
    removed by the latest purge (its anchor row), with that row's id."""
    anchor = AuditRecord.objects.filter(action=PURGE_ACTION).order_by("-id").first()
    if anchor is None:
        return GENESIS, 0
    return str(anchor.changes["last_hash"]), int(anchor.changes["purged_through_id"])


def verify_chain(chunk_size: int = 2000) -> Verification:
    """Recompute every row's SM3 hash and its link to the row before it."""
    problems: list[Problem] = []
    start_hash, purged_through = _start_hash()
    prev: str | None = None
    checked = 0
    for rec in AuditRecord.objects.order_by("id").iterator(chunk_size=chunk_size):
        checked += 1
        if prev is None:
            if rec.prev_hash != GENESIS and (
                rec.prev_hash != start_hash or rec.pk <= purged_through
            ):
                problems.append(Problem(rec.pk, "the beginning of the log is missing"))
        elif rec.prev_hash != prev:
            problems.append(
                Problem(rec.pk, "chain broken: a row before it was removed or altered")
            )
        if row_hash(rec) != rec.hash:
            problems.append(Problem(rec.pk, "hash mismatch: the row was altered"))
        prev = rec.hash
    return Verification(checked=checked, head=prev or GENESIS, problems=problems)


def retention_days() -> int:
    return int(getattr(settings, "CIVICGRID_AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS))


def audit_purge(*, now: datetime | None = None, days: int | None = None) -> int:
    """Delete the rows older than the retention period, as a prefix of the chain,
    and append an anchor row naming the hash of the last row removed so that the
    rest still verifies. Returns the number of rows removed."""
    days = retention_days() if days is None else days
    if days < MIN_RETENTION_DAYS:
        raise ValueError(
            f"audit retention of {days} days is below the legal minimum of "
            f"{MIN_RETENTION_DAYS}"
        )
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        lock_chain()
        # The prefix ends before the first row still within the retention period
        # (a row is never removed early, even if a clock once went backwards).
        first_kept = AuditRecord.objects.filter(at__gte=cutoff).order_by("id").first()
        old = AuditRecord.objects.filter(at__lt=cutoff)
        if first_kept is not None:
            old = old.filter(id__lt=first_kept.pk)
        last = old.order_by("-id").first()
        if last is None:
            return 0
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                # The append-only trigger lets this transaction (only) delete.
                cur.execute("SET LOCAL civicgrid.audit_purge = 'on'")
            count, _ = AuditRecord.objects.filter(id__lte=last.pk).delete()
            if connection.vendor == "postgresql":
                cur.execute("SET LOCAL civicgrid.audit_purge = 'off'")
        audit_record(
            actor=None,
            action=PURGE_ACTION,
            object_type="core.auditrecord",
            changes={
                "purged_through_id": last.pk,
                "last_hash": last.hash,
                "count": count,
                "cutoff": cutoff.isoformat(),
                "retention_days": days,
            },
        )
    return count

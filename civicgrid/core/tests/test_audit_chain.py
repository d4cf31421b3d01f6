"""The audit log is append-only and SM3 hash-chained: the trigger refuses edits,
verify_audit finds a tampered or missing row, concurrent writers keep one chain, and
the retention purge leaves a chain that still verifies."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from civicgrid.core.audit import audit_record
from civicgrid.core.audit_ops import MIN_RETENTION_DAYS, audit_purge, verify_chain
from civicgrid.core.chain import GENESIS, row_hash
from civicgrid.core.models import AuditRecord

pytestmark = pytest.mark.django_db
TABLE = "core_auditrecord"


def write(n: int, tag: str = "t") -> list[AuditRecord]:
    return [
        audit_record(actor=None, action=f"test.{tag}", changes={"i": i, "名": "值"})
        for i in range(n)
    ]


class trigger_off:
    """Raw-SQL tampering needs the append-only trigger out of the way first."""

    def __enter__(self) -> None:
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                # Deferred foreign-key checks of this transaction would block ALTER.
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cur.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
            else:
                cur.execute("DROP TRIGGER core_auditrecord_no_update")

    def __exit__(self, *exc: object) -> None:
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
                cur.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                cur.execute(
                    "CREATE TRIGGER core_auditrecord_no_update BEFORE UPDATE ON "
                    f"{TABLE} BEGIN SELECT RAISE(ABORT, 'append-only'); END"
                )


def test_each_row_links_to_the_one_before() -> None:
    a, b, c = write(3)
    assert b.prev_hash == a.hash and c.prev_hash == b.hash
    assert a.hash == row_hash(AuditRecord.objects.get(pk=a.pk)) != GENESIS
    assert len(a.hash) == 64
    result = verify_chain()
    assert result.problems == [] and result.head == c.hash


def test_update_is_refused_by_the_database() -> None:
    (rec,) = write(1)
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(f"UPDATE {TABLE} SET action = 'x' WHERE id = %s", [rec.pk])
    assert AuditRecord.objects.get(pk=rec.pk).action == "test.t"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite keeps no DELETE trigger (Django's flush deletes); the chain shows it",
)
def test_delete_is_refused_on_postgresql() -> None:
    (rec,) = write(1)
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(f"DELETE FROM {TABLE} WHERE id = %s", [rec.pk])
    assert AuditRecord.objects.filter(pk=rec.pk).exists()


def test_verify_audit_names_an_altered_row() -> None:
    a, b, c = write(3)
    call_command("verify_audit", stdout=StringIO())
    with trigger_off(), connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET actor_label = 'someone' WHERE id = %s", [b.pk])
    err = StringIO()
    with pytest.raises(CommandError, match="FAILED"):
        call_command("verify_audit", stdout=StringIO(), stderr=err)
    assert f"audit record {b.pk}: hash mismatch" in err.getvalue()
    assert str(a.pk) not in err.getvalue().split(":")[0]


def test_verify_audit_notices_a_removed_row() -> None:
    a, b, c = write(3)
    with trigger_off(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE id = %s", [b.pk])
    problems = verify_chain().problems
    assert [(p.record_id, p.reason.split(":")[0]) for p in problems] == [
        (c.pk, "chain broken")
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers with BEGIN IMMEDIATE; the in-memory test "
    "database has one connection",
)
@pytest.mark.django_db(transaction=False)
def test_concurrent_writers_do_not_fork_the_chain() -> None:
    """Eight threads, each its own connection and transactions, write at once: the
    rows they commit form one chain (no two rows share a predecessor)."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                with transaction.atomic():
                    audit_record(actor=None, action="test.concurrent", changes={"k": k})
                    if i % 2:
                        write(1, "concurrent")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = list(AuditRecord.objects.order_by("id").values_list("prev_hash", "hash"))
    prevs = [p for p, _ in rows]
    assert len(set(prevs)) == len(prevs)
    assert verify_chain().problems == []


def test_purge_keeps_the_retention_period_and_a_verifiable_chain() -> None:
    """Rows older than the retention are removed as a prefix; an anchor row keeps the
    chain checkable; removing the first remaining row is then noticed."""
    now = timezone.now()
    old = write(2, "old")
    with time_machine.travel(now + timedelta(days=300), tick=False):
        young = write(2, "young")
    later = now + timedelta(days=400)  # cutoff: now + 216 days
    removed = audit_purge(now=later, days=MIN_RETENTION_DAYS)
    assert removed >= 2
    assert not AuditRecord.objects.filter(pk__in=[r.pk for r in old]).exists()
    assert AuditRecord.objects.filter(pk__in=[r.pk for r in young]).count() == 2
    anchor = AuditRecord.objects.get(action="audit.purge")
    assert anchor.changes["last_hash"] == old[-1].hash
    assert anchor.changes["count"] == removed
    assert verify_chain().problems == []
    assert audit_purge(now=later, days=MIN_RETENTION_DAYS) == 0  # idempotent
    with trigger_off(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE id = %s", [young[0].pk])
    problems = verify_chain().problems
    assert [p.record_id for p in problems] == [young[1].pk]


def test_purge_refuses_a_retention_below_six_months() -> None:
    with pytest.raises(ValueError, match="minimum"):
        audit_purge(days=30)
    with pytest.raises(CommandError):
        call_command("purge_audit", "--days", "30", stdout=StringIO())


def test_default_retention_is_184_days(settings) -> None:  # type: ignore[no-untyped-def]
    from civicgrid.core.audit_ops import retention_days

    assert retention_days() == 184
    settings.CIVICGRID_AUDIT_RETENTION_DAYS = 365
    assert retention_days() == 365

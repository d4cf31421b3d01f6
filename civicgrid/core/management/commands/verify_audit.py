"""Check the audit log's SM3 hash chain: every row's hash and its link to the last."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.audit_ops import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log hash chain; fails naming each altered or missing row."

    def handle(self, *args: Any, **opts: Any) -> None:
        result = verify_chain()
        for problem in result.problems:
            self.stderr.write(f"audit record {problem.record_id}: {problem.reason}")
        if result.problems:
            raise CommandError(
                f"audit log verification FAILED: {len(result.problems)} problems "
                f"in {result.checked} rows"
            )
        self.stdout.write(f"audit log OK: {result.checked} rows, head {result.head}")

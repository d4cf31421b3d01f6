"""Remove audit rows older than CIVICGRID_AUDIT_RETENTION_DAYS (run it daily)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.audit_ops import audit_purge, retention_days


class Command(BaseCommand):
    help = "Purge audit rows past the retention period, keeping the chain verifiable."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        days = opts["days"] if opts["days"] is not None else retention_days()
        try:
            count = audit_purge(days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Purged {count} audit rows older than {days} days.")

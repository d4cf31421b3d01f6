"""Send a month's figures to the higher-level instance(s): ``send_upward_report``."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from civicgrid.exchange.models import Upstream
from civicgrid.exchange.upward import report_send


class Command(BaseCommand):
    help = "Send the month's report (default: last month) to every active upstream."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: the previous month)")

    def handle(self, *args: Any, **opts: Any) -> None:
        month = opts["month"]
        if not month:
            first = timezone.localdate().replace(day=1)
            month = f"{(first - timedelta(days=1)):%Y-%m}"
        upstreams = list(Upstream.objects.filter(active=True))
        if not upstreams:
            raise CommandError("no higher-level instance is configured")
        failed = 0
        for up in upstreams:
            sent = report_send(actor=None, upstream=up, month=month)
            failed += not sent.ok
            self.stdout.write(f"{up.name} {month}: {sent.status_code} {sent.answer}")
        if failed:
            raise CommandError(f"{failed} sends failed (logged; send again)")

"""Send the webhook deliveries that are due (run it every minute, e.g. from cron)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.exchange.webhooks import deliver_due


class Command(BaseCommand):
    help = "Send due webhook deliveries once; failures are rescheduled with back-off."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=100)

    def handle(self, *args: Any, **opts: Any) -> None:
        counts = deliver_due(limit=opts["limit"])
        self.stdout.write(
            "delivered {delivered}, to retry {retry}, given up {failed}".format(
                **counts
            )
        )

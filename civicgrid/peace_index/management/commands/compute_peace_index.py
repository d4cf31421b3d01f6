"""Compute a month of the peace index (default: the previous month) for every city
that has areas; run from cron on the 1st (see docs/peace-index.md)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from civicgrid.peace_index.models import IndexKind
from civicgrid.peace_index.tasks import compute_month, previous_month


class Command(BaseCommand):
    help = "Compute the peace index of a month (YYYY-MM; default the previous month)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--month", default="")
        parser.add_argument("--city", action="append", default=[])
        parser.add_argument(
            "--kind", choices=IndexKind.values, default=IndexKind.PEACE.value
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        month = opts["month"] or previous_month()
        try:
            runs = compute_month(kind=opts["kind"], month=month, cities=opts["city"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for run in runs:
            self.stdout.write(f"{run.kind} {run.city_code} {run.month}: {run.status}")

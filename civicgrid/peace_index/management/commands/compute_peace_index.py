"""Compute a month of the peace index (default: the previous month) for every city
that has counts, or back-fill a range of months (see docs/peace-index.md)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from civicgrid.peace_index.catalogue import catalogue_install_default
from civicgrid.peace_index.imports import parse_month
from civicgrid.peace_index.models import IndexKind
from civicgrid.peace_index.services import month_add, months_backfill
from civicgrid.peace_index.tasks import compute_month, previous_month
from civicgrid.regions.models import Region


class Command(BaseCommand):
    help = (
        "Compute the peace index of a month (YYYY-MM; default the previous month), "
        "or with --from every month from there to --month (a back-fill)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--month", default="")
        parser.add_argument("--from", dest="start", default="")
        parser.add_argument("--city", action="append", default=[])
        parser.add_argument(
            "--kind", choices=IndexKind.values, default=IndexKind.PEACE.value
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        month = opts["month"] or previous_month()
        if not opts["start"]:
            try:
                runs = compute_month(
                    kind=opts["kind"], month=month, cities=opts["city"]
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            for run in runs:
                self.stdout.write(
                    f"{run.kind} {run.city_code} {run.month}: {run.status}"
                )
            return
        start, end = parse_month(opts["start"]), parse_month(month)
        if start is None or end is None or start > end:
            raise CommandError("use --from YYYY-MM up to --month YYYY-MM")
        months = [start]
        while months[-1] < end:
            months.append(month_add(months[-1], 1))
        catalogue_install_default(actor=None, kind=opts["kind"])
        cities = opts["city"] or list(
            Region.objects.filter(level="city")
            .order_by("region_code")
            .values_list("region_code", flat=True)
        )
        for city in cities:
            try:
                runs = months_backfill(
                    actor=None, kind=opts["kind"], city_code=city, months=months
                )
            except ValidationError as exc:
                raise CommandError(f"{city}: {exc}") from exc
            self.stdout.write(f"{opts['kind']} {city}: {len(runs)} months computed")

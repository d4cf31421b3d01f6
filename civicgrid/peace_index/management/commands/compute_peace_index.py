"""Compute a month of the peace index (default: the previous month) for every city
that has counts, or back-fill a range of months (see docs/peace-index.md)."""

from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from civicgrid.peace_index.catalogue import catalogue_install_default
from civicgrid.peace_index.imports import parse_month
from civicgrid.peace_index.models import IndexKind
from civicgrid.peace_index.parallel import for_each_city
from civicgrid.peace_index.services import month_add
from civicgrid.peace_index.tasks import (
    city_backfill,
    city_codes,
    compute_month,
    previous_month,
)


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
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="cities computed in that many processes at once (PostgreSQL)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        month = opts["month"] or previous_month()
        if not opts["start"]:
            try:
                runs = compute_month(
                    kind=opts["kind"],
                    month=month,
                    cities=opts["city"],
                    workers=opts["workers"],
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
        cities = opts["city"] or city_codes()
        fill = partial(city_backfill, kind=opts["kind"], months=months)
        try:
            done = for_each_city(fill, cities, opts["workers"])
        except ValidationError as exc:
            raise CommandError(str(exc)) from exc
        for city, count in zip(cities, done, strict=True):
            self.stdout.write(f"{opts['kind']} {city}: {count} months computed")

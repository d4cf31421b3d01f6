"""Import census population per county from a CSV (code, population, urban_population, households)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.core.reports import ImportRejected
from civicgrid.regions.demo_grids import DATA_DIR
from civicgrid.regions.divisions import import_population
from civicgrid.regions.management.commands._report import print_report, rejected


class Command(BaseCommand):
    help = "Import census population (7th census, 2020) per county."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", default=str(DATA_DIR / "census2020_shandong.csv")
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            report = import_population(Path(opts["path"]))
        except ImportRejected as exc:
            raise rejected(self, exc) from None
        print_report(self, report)

"""Import grid polygons from a GeoJSON FeatureCollection."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.reports import ImportRejected
from civicgrid.regions.crs import CRS
from civicgrid.regions.grid_import import import_grids_file
from civicgrid.regions.management.commands._report import print_report, rejected


class Command(BaseCommand):
    help = "Import grids from GeoJSON; properties.code is the 15-digit grid code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument(
            "--crs",
            required=True,
            choices=[c.value for c in CRS],
            help="coordinate system of the file",
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="import the good features despite bad ones",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if not Path(opts["path"]).is_file():
            raise CommandError(f"no such file: {opts['path']}")
        try:
            report = import_grids_file(
                Path(opts["path"]), crs=opts["crs"], partial=opts["partial"]
            )
        except ImportRejected as exc:
            raise rejected(self, exc) from None
        print_report(self, report)

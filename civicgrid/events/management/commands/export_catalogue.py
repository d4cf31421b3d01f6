"""Export the matter catalogue (or an empty import template) as an Excel workbook."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.events.catalogue import catalogue_export_xlsx, catalogue_template_xlsx


class Command(BaseCommand):
    help = (
        "Write the matter catalogue to an .xlsx file that import_catalogue reads back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument(
            "--template",
            action="store_true",
            help="write the empty import template instead",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        data = (
            catalogue_template_xlsx() if opts["template"] else catalogue_export_xlsx()
        )
        path = Path(opts["path"])
        path.write_bytes(data)
        self.stdout.write(f"wrote {path} ({len(data)} bytes)")

"""Tessellate a city's real county boundaries into demo grids."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.regions.crs import CRS
from civicgrid.regions.demo_grids import DEMO_BOUNDARIES, DEMO_CITY, generate_city_grids


class Command(BaseCommand):
    help = "Generate demo grids for a city from its county boundaries (replaces its grids)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--city", default=DEMO_CITY)
        parser.add_argument("--boundaries", default=str(DEMO_BOUNDARIES))
        parser.add_argument(
            "--crs", default=CRS.GCJ02.value, choices=[c.value for c in CRS]
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        result = generate_city_grids(
            opts["city"], Path(opts["boundaries"]), crs=CRS(opts["crs"])
        )
        self.stdout.write(f"{result['grids']} grids in {result['counties']} counties")

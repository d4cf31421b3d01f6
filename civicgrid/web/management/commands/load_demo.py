"""Load the demo and print its accounts."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.regions.models import Grid, Region
from civicgrid.web.demo import ACCOUNTS, DIVISIONS_DIR, demo_users, load_demo
from civicgrid.web.demo_households import load_demo_households


class Command(BaseCommand):
    help = "Load real Shandong divisions, census figures, 淄博市's demo grids and demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--divisions", default=str(DIVISIONS_DIR))
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="where the demo is served"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        from pathlib import Path

        if Grid.objects.exists():
            self.stdout.write("demo already loaded; accounts below")
            # Households came after the first demos: added (once) to those too.
            load_demo_households(demo_users())
            from civicgrid.exchange.open311 import demo_key

            key = demo_key()
        else:
            key = load_demo(Path(opts["divisions"]))["open311_key"]
        self.stdout.write(
            f"{Region.objects.count()} regions, {Grid.objects.count()} grids\n"
        )
        self.stdout.write(f"演示账号 (demo accounts) — {opts['url']}")
        for acc in ACCOUNTS:
            self.stdout.write(f"  {acc.username:18} {acc.password:18} {acc.note}")
        self.stdout.write(f"Open311 API key (演示客户端): {key}  — /open311/v2/")

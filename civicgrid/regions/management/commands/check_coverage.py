"""Report every gap and overlap between the grids of a town, county or city."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.regions.coverage import check_coverage
from civicgrid.regions.selectors import region_by_any_code


class Command(BaseCommand):
    help = "Coverage check (全域覆盖、地域无缝隙) for a region; exits 1 when it fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="region code (prefix or 12 digits)")
        parser.add_argument(
            "--json", action="store_true", help="print the whole report as JSON"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        region = region_by_any_code(opts["code"])
        if region is None:
            raise CommandError(f"unknown region {opts['code']}")
        report = check_coverage(region)
        if opts["json"]:
            self.stdout.write(
                json.dumps(report.as_dict(), ensure_ascii=False, indent=1)
            )
        else:
            self.stdout.write(
                f"{region.name} ({region.code}): {report.grid_count} grids, "
                f"{len(report.gaps)} gaps, {len(report.overlaps)} overlaps, "
                f"{len(report.outside)} pieces outside the boundary"
            )
            for piece in report.gaps + report.overlaps + report.outside:
                self.stdout.write(
                    f"  {piece.kind}: {piece.area_m2:.1f} m² at {piece.lon:.6f},{piece.lat:.6f} "
                    f"grids {' '.join(piece.grids)}"
                )
            for note in report.notes:
                self.stdout.write(f"  note: {note}")
        if not report.ok:
            raise CommandError("coverage check failed")

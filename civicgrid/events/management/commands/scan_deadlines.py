"""Record yellow/red deadline warnings and missing whistle check-ins, and notify.

Run it every few minutes (cron: ``*/5 * * * * manage.py scan_deadlines``); it is
idempotent, so overlapping runs record each warning once."""

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.events.supervision import deadline_scan


class Command(BaseCommand):
    help = "Scan running deadlines: yellow and red warnings, missing whistle check-ins."

    def handle(self, *args: Any, **opts: Any) -> None:
        counts = deadline_scan()
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))

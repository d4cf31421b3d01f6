"""Enqueue the periodic jobs of CIVICGRID_SCHEDULE when they are due (run one
scheduler beside the ``db_worker`` processes; see docs/operations.md)."""

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from civicgrid.core.scheduler import parse_schedule, scheduler_tick


class Command(BaseCommand):
    help = "Enqueue due periodic jobs (deadline scans, webhooks, the monthly jobs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="check once, enqueue what is due, exit"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=30.0,
            help="seconds between checks (default 30)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        from django.conf import settings

        parse_schedule(settings.CIVICGRID_SCHEDULE)  # fail at start on a bad schedule
        self.running = True
        if not opts["once"]:
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
        while True:
            if not opts["once"]:  # a long-running loop: drop broken connections
                close_old_connections()
            for name, result_id in scheduler_tick():
                self.stdout.write(f"enqueued {name} ({result_id})")
            if opts["once"] or not self.running:
                return
            deadline = time.monotonic() + opts["interval"]
            while self.running and time.monotonic() < deadline:
                time.sleep(min(1.0, opts["interval"]))
            if not self.running:
                return

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.running = False

"""manage.py backup PATH: the whole database, plus PATH.manifest.json."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back the database up (pg_dump custom format, or SQLite's backup API)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            manifest = backup(opts["path"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(t["rows"] for t in manifest["tables"].values())
        self.stdout.write(
            f"Backed up {len(manifest['tables'])} tables ({rows} rows) to {opts['path']}"
        )

"""manage.py restore PATH: into an empty database, then checked against the manifest."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup into an empty database and check every table's rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="overwrite a database that is not empty",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            problems = restore(opts["path"], replace=opts["replace"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(
                f"restored, but {len(problems)} tables differ from the backup"
            )
        self.stdout.write(f"Restored {opts['path']}: every table matches the backup.")

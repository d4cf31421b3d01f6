"""Rotate the personal-data encryption key (SM4-GCM).

manage.py rotate_personal_data --new-key    # add key kN+1, make it current, re-encrypt
manage.py rotate_personal_data              # finish an interrupted rotation
manage.py rotate_personal_data --retire     # drop old keys once no row needs them
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core import crypto, rotation
from civicgrid.core.audit import audit_record


class Command(BaseCommand):
    help = (
        "Re-encrypt every personal-data value with a new key, in batches (resumable)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-key", action="store_true", help="start a rotation with a new key"
        )
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--max-batches",
            type=int,
            default=None,
            help="stop after this many batches (run again to continue)",
        )
        parser.add_argument(
            "--retire",
            action="store_true",
            help="remove the old keys from the key file (archive it first: old "
            "backups need them)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if opts["new_key"]:
            left = rotation.stale_count()
            if left:
                raise CommandError(
                    f"{left} rows are still under an older key: finish the running "
                    "rotation first (run without --new-key)"
                )
            kid = crypto.key_add()
            audit_record(
                actor=None, action="personal_data.key_add", changes={"key": kid}
            )
            self.stdout.write(f"New key {kid} is current.")
        result = rotation.rotate(
            batch_size=opts["batch_size"],
            max_batches=opts["max_batches"],
            progress=lambda label, n: self.stdout.write(f"{label}: {n}"),
        )
        self.stdout.write(
            f"Re-encrypted {result.total} rows under key {result.key}"
            + ("." if result.finished else "; not finished, run again to continue.")
        )
        if opts["retire"]:
            if not result.finished or rotation.stale_count():
                raise CommandError("Rows still use an older key: nothing retired.")
            gone = crypto.key_retire(keep=set())
            if gone:
                audit_record(
                    actor=None,
                    action="personal_data.key_retire",
                    changes={"keys": gone},
                )
            self.stdout.write(f"Retired keys: {', '.join(gone) or 'none'}.")

"""Create one of the three administrators (三员) from the command line: how a
production install gets its first accounts (it ships none)."""

import getpass
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from civicgrid.accounts import services
from civicgrid.accounts.models import Role
from civicgrid.regions.models import Region

ROLES = {
    "sysadmin": Role.SYSADMIN,
    "security_admin": Role.SECURITY_ADMIN,
    "auditor": Role.AUDITOR,
}


class Command(BaseCommand):
    help = (
        "Create a system administrator, security administrator or auditor "
        "(password asked twice, or one line on stdin with --password-stdin)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), required=True)
        parser.add_argument(
            "--region", required=True, help="region code of the post, e.g. 3703"
        )
        parser.add_argument("--display-name", default="")
        parser.add_argument("--password-stdin", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        region = Region.objects.filter(region_code=opts["region"]).first()
        if region is None:
            raise CommandError(f"no region with code {opts['region']}")
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("the passwords differ")
        try:
            with transaction.atomic():
                user = services.user_create(
                    actor=None,
                    username=opts["username"],
                    password=password,
                    display_name=opts["display_name"],
                )
                services.staff_post_create(
                    actor=None, user=user, role=ROLES[opts["role"]], region=region
                )
        except ValidationError as e:
            raise CommandError("; ".join(e.messages)) from e
        self.stdout.write(f"{user.username}: {opts['role']} at {region.name}")

"""Register a connected system and print its key id and signing secret (once)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.exchange.models import ConnectedSystem, Permission, SystemKind, Topic
from civicgrid.exchange.systems import system_register


class Command(BaseCommand):
    help = "Register a connected system (police, hotline, …) and print its secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code")
        parser.add_argument("name")
        parser.add_argument("--kind", choices=SystemKind.values, default="other")
        parser.add_argument(
            "--permission", action="append", choices=Permission.values, default=[]
        )
        parser.add_argument(
            "--region", action="append", default=[], help="region-code prefix"
        )
        parser.add_argument("--webhook-url", default="")
        parser.add_argument(
            "--topic",
            action="append",
            choices=Topic.values,
            default=[],
            help="a webhook topic to send (repeat; none: every topic)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if ConnectedSystem.objects.filter(code=opts["code"]).exists():
            raise CommandError(f"system {opts['code']!r} already exists")
        system, secret = system_register(
            actor=None,
            code=opts["code"],
            name=opts["name"],
            kind=opts["kind"],
            permissions=opts["permission"],
            region_prefixes=opts["region"],
            webhook_url=opts["webhook_url"],
            webhook_topics=opts["topic"],
        )
        self.stdout.write(f"key id: {system.key_id}\nsecret: {secret}")

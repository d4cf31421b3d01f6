"""Issue an Open311 API key to a client: ``manage.py open311_key CLIENT``."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.exchange.models import Open311Client
from civicgrid.exchange.open311 import client_issue


class Command(BaseCommand):
    help = "Issue an Open311 API key to a new client and print it (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client", help="the client's name")
        parser.add_argument("--contact", default="", help="who runs the client")

    def handle(self, *args: Any, **opts: Any) -> None:
        if Open311Client.objects.filter(name=opts["client"]).exists():
            raise CommandError(f"a client named {opts['client']!r} already exists")
        client, key = client_issue(
            actor=None, name=opts["client"], contact=opts["contact"]
        )
        self.stdout.write(f"{client.name}: {key}")

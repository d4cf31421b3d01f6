"""Install the shipped workflow definitions (or a city's own from a JSON file)."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.events.services import workflow_install, workflow_install_shipped
from civicgrid.events.workflow import DefinitionError


class Command(BaseCommand):
    help = "Install the shipped workflows, or --file F --city CODE for a city's own."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file")
        parser.add_argument("--city", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["file"]:
                data = json.loads(Path(opts["file"]).read_text(encoding="utf-8"))
                wfs = [workflow_install(actor=None, city_code=opts["city"], data=data)]
            else:
                wfs = workflow_install_shipped()
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(str(exc)) from None
        except DefinitionError as exc:
            for reason in exc.reasons:
                self.stderr.write(f"error: {reason}")
            raise CommandError(
                "the definition is not valid; nothing installed"
            ) from None
        for wf in wfs:
            self.stdout.write(f"{wf}")

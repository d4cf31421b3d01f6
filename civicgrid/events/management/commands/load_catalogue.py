"""Load the default matter catalogue (idempotent: an upsert by code)."""

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.core.reports import ImportRejected
from civicgrid.events.catalogue import catalogue_load_default
from civicgrid.regions.management.commands._report import print_report, rejected


class Command(BaseCommand):
    help = "Create or update the default matter catalogue (事项目录); safe to rerun."

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            report = catalogue_load_default(actor=None)
        except ImportRejected as exc:
            raise rejected(self, exc) from None
        print_report(self, report)

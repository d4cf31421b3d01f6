"""Compile our .po catalogues to .mo with polib (no GNU gettext needed on a server)."""

from pathlib import Path
from typing import Any

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile every django.po of LOCALE_PATHS and of our apps into django.mo."

    def handle(self, *args: Any, **opts: Any) -> None:
        bases = [Path(p) for p in settings.LOCALE_PATHS] + [
            Path(app.path) / "locale"
            for app in apps.get_app_configs()
            if app.name.startswith("civicgrid.")
        ]
        for base in bases:
            for po_path in Path(base).glob("*/LC_MESSAGES/*.po"):
                mo_path = po_path.with_suffix(".mo")
                if (
                    mo_path.exists()
                    and mo_path.stat().st_mtime >= po_path.stat().st_mtime
                ):
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                self.stdout.write(f"compiled {mo_path.relative_to(settings.BASE_DIR)}")

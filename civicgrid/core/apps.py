"""Shared kernel: region scoping, audit log, personal-data fields, request context."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    label = "core"
    verbose_name = _("Kernel")

    def ready(self) -> None:
        from django.core import checks

        from civicgrid.core import signals
        from civicgrid.core.scheduler import check_schedule

        signals.connect_m2m()
        checks.register(check_schedule)

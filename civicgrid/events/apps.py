"""Events: matter catalogue, intake, routing, workflow engine, deadlines, supervision,
whistle."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "civicgrid.events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from django.core import checks

        from civicgrid.events.scheduler import check_schedule

        checks.register(check_schedule)

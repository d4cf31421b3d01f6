"""Events: matter catalogue, intake, routing, workflow engine, deadlines, supervision,
whistle."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "civicgrid.events"
    label = "events"
    verbose_name = _("Events")

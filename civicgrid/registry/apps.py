"""Registries (五要素): households, the people living in them, and grid workers'
household visits and information collection."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "civicgrid.registry"
    label = "registry"
    verbose_name = _("Registries")

"""Division tree, grids, geometry, coverage check, point-to-grid and coordinate systems."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegionsConfig(AppConfig):
    name = "civicgrid.regions"
    label = "regions"
    verbose_name = _("Regions and grids")

"""Peace index (平安指数): indicators, incident counts, monthly computation, warnings,
publication."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeaceIndexConfig(AppConfig):
    name = "civicgrid.peace_index"
    label = "peace_index"
    verbose_name = _("Peace index")

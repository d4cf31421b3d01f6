"""Exchange: Open311 GeoReport v2, connected systems, signed push API, webhooks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "civicgrid.exchange"
    label = "exchange"
    verbose_name = _("Data exchange")

    def ready(self) -> None:
        from civicgrid.exchange import webhooks

        webhooks.connect()

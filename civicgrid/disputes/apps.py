"""Dispute resolution (矛盾纠纷多元化解): cases, channels, mediation organisations,
the expert pool, the three gates, risk, leaders' cases and subsidies."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "civicgrid.disputes"
    label = "disputes"
    verbose_name = _("Dispute resolution")

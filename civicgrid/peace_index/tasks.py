"""The monthly job: on the 1st, compute the previous month for every city. Thin and
idempotent (a computed month is recomputed, a published one is left alone)."""

import logging
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils import timezone

from civicgrid.peace_index.catalogue import catalogue_install_default
from civicgrid.peace_index.imports import parse_month
from civicgrid.peace_index.models import MonthRun, RunStatus
from civicgrid.peace_index.services import month_add, month_compute
from civicgrid.regions.models import Region

log = logging.getLogger(__name__)


def previous_month() -> str:
    today = timezone.localdate()
    return month_add(f"{today.year:04d}-{today.month:02d}", -1)


def compute_month(
    *, kind: str, month: str, cities: Sequence[str] = ()
) -> list[MonthRun]:
    """Compute ``month`` for the given cities (default: every city in the tree)."""
    if parse_month(month) != month:
        raise ValueError(f"bad month {month!r}: use YYYY-MM")
    catalogue_install_default(actor=None, kind=kind)
    codes = list(cities) or list(
        Region.objects.filter(level="city")
        .order_by("region_code")
        .values_list("region_code", flat=True)
    )
    runs = []
    for city in codes:
        frozen = MonthRun.objects.filter(
            kind=kind, city_code=city, month=month, status=RunStatus.PUBLISHED
        ).first()
        if frozen is not None:
            runs.append(frozen)
            continue
        try:
            runs.append(
                month_compute(actor=None, kind=kind, city_code=city, month=month)
            )
        except ValidationError as exc:
            log.warning("peace index %s %s %s not computed: %s", kind, city, month, exc)
    return runs

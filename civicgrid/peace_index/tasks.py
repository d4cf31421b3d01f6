"""The monthly job: on the 1st, compute the previous month of both indexes for every
city and deliver each staffed center its Word report. Thin and idempotent (a
computed month is recomputed, a published one is left alone; the scheduler of
``civicgrid.core.scheduler`` enqueues ``compute_previous_month``)."""

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django_tasks import task

from civicgrid.accounts.models import Role, StaffPost
from civicgrid.peace_index.catalogue import catalogue_install_default
from civicgrid.peace_index.imports import counts_from_events, parse_month
from civicgrid.peace_index.models import (
    AreaResult,
    IndexKind,
    MonthlyCount,
    MonthRun,
    Report,
    RunStatus,
)
from civicgrid.peace_index.parallel import for_each_city
from civicgrid.peace_index.reports import report_deliver
from civicgrid.peace_index.services import month_add, month_compute, months_backfill
from civicgrid.regions.models import Region

log = logging.getLogger(__name__)


def previous_month() -> str:
    today = timezone.localdate()
    return month_add(f"{today.year:04d}-{today.month:02d}", -1)


def compute_month(
    *, kind: str, month: str, cities: Sequence[str] = (), workers: int = 1
) -> list[MonthRun]:
    """Compute ``month`` for the given cities (default: every city in the tree):
    the counts derived from events are refreshed first; a city without any counts
    (nor an earlier computation) is skipped; published months are kept. With
    ``workers`` > 1 the cities are spread over that many processes (PostgreSQL:
    ``parallel``)."""
    if parse_month(month) != month:
        raise ValueError(f"bad month {month!r}: use YYYY-MM")
    catalogue_install_default(actor=None, kind=kind)
    codes = list(cities) or city_codes()
    runs = for_each_city(partial(city_month, kind=kind, month=month), codes, workers)
    done = [run for run in runs if run is not None]
    return done if cities else sorted(done, key=lambda run: run.city_code)


def city_codes() -> list[str]:
    """Every city of the tree, the largest (most areas) first: spread over
    workers, the long ones start early."""
    sizes = dict(
        Region.objects.exclude(city_code="")
        .values("city_code")
        .annotate(n=Count("pk"))
        .values_list("city_code", "n")
    )
    cities = Region.objects.filter(level="city").values_list("region_code", flat=True)
    return sorted(cities, key=lambda c: (-sizes.get(c, 0), c))


def city_month(city: str, *, kind: str, month: str) -> MonthRun | None:
    """The job's work for one city (see ``compute_month``); None: skipped."""
    existing = MonthRun.objects.filter(kind=kind, city_code=city, month=month)
    frozen = existing.filter(status=RunStatus.PUBLISHED).first()
    if frozen is not None:
        return frozen
    counts_from_events(actor=None, kind=kind, city_code=city, month=month)
    if not (
        existing.exists()
        or MonthlyCount.objects.filter(kind=kind, city_code=city, month=month).exists()
    ):
        return None  # no counts delivered: nothing to compute
    try:
        return month_compute(actor=None, kind=kind, city_code=city, month=month)
    except ValidationError as exc:
        log.warning("peace index %s %s %s not computed: %s", kind, city, month, exc)
        return None


def city_backfill(
    city: str, *, kind: str, months: Sequence[str], publish: bool = False
) -> int:
    """A back-fill of one city (``services.months_backfill``, by nobody: a job);
    the number of months computed."""
    try:
        runs = months_backfill(
            actor=None, kind=kind, city_code=city, months=months, publish=publish
        )
    except ValidationError as exc:
        raise ValidationError(f"{city}: {'; '.join(exc.messages)}") from exc
    return len(runs)


def reports_deliver(run: MonthRun) -> int:
    """The month's Word report for every area of the run that has a staffed
    governance center (an active center-staff post of exactly that area)."""
    centers = set(
        StaffPost.objects.filter(
            role=Role.CENTER_STAFF,
            active=True,
            region_code__startswith=run.city_code,
        ).values_list("region_code", flat=True)
    )
    results = (
        AreaResult.objects.filter(run=run, region_code__in=centers)
        .select_related("region")
        .order_by("region_code")
    )
    done = set(
        Report.objects.filter(
            kind=run.kind, period=run.month, created_at__gte=run.computed_at
        ).values_list("region_code", flat=True)
    )
    delivered = 0
    for res in results:
        if res.region_code in done:
            continue  # already delivered for this computation
        report_deliver(
            actor=None,
            kind=run.kind,
            region=res.region,
            period=run.month,
            published_only=False,
        )
        delivered += 1
    return delivered


def compute_and_deliver(
    *, month: str, kinds: Sequence[str] = tuple(IndexKind.values)
) -> dict[str, Any]:
    """Compute ``month`` of each index for every city, then deliver the reports."""
    out: dict[str, Any] = {"month": month, "runs": [], "reports": 0}
    for kind in kinds:
        for run in compute_month(kind=kind, month=month):
            out["runs"].append([kind, run.city_code, run.status])
            out["reports"] += reports_deliver(run)
    return out


@task()
def compute_previous_month() -> dict[str, Any]:
    """The job of the 1st: the previous month of both indexes, and the reports."""
    return compute_and_deliver(month=previous_month())

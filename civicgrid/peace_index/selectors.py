"""Reads of the peace index: staff reads are region-scoped, public reads see only
published months."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import QuerySet

from civicgrid.core.scope import covers, prefixes_q
from civicgrid.peace_index.models import (
    AreaResult,
    IndexKind,
    Indicator,
    MonthRun,
    Notice,
    Rectification,
    Report,
    RunStatus,
)


def results_visible(
    prefixes: Sequence[str], kind: str = IndexKind.PEACE
) -> QuerySet[AreaResult]:
    """Results of the areas inside the caller's scope, in every state."""
    return AreaResult.objects.filter(prefixes_q(prefixes), kind=kind)


def results_published(kind: str = IndexKind.PEACE) -> QuerySet[AreaResult]:
    """What anyone may see: the results of published months."""
    return AreaResult.objects.filter(kind=kind, run__status=RunStatus.PUBLISHED)


def runs_visible(prefixes: Sequence[str]) -> QuerySet[MonthRun]:
    """Runs of the cities the caller's scope lies in (a town sees its city's run)."""
    cities = {p[:4] for p in prefixes if len(p) >= 4}
    if any(len(p) < 4 for p in prefixes):
        return MonthRun.objects.filter(prefixes_q(prefixes, "city_code"))
    return MonthRun.objects.filter(city_code__in=sorted(cities))


def may_run_city(prefixes: Sequence[str], city_code: str) -> bool:
    """Computing, reviewing and publishing is the city center's (or above)."""
    return covers(prefixes, city_code)


def rectifications_visible(prefixes: Sequence[str]) -> QuerySet[Rectification]:
    return Rectification.objects.filter(prefixes_q(prefixes)).select_related("region")


def notices_visible(prefixes: Sequence[str]) -> QuerySet[Notice]:
    """The inboxes of the centers inside the caller's scope."""
    return Notice.objects.filter(prefixes_q(prefixes))


def reports_visible(prefixes: Sequence[str], kind: str) -> QuerySet[Report]:
    """Kept reports of the areas inside the caller's scope (no content loaded)."""
    return (
        Report.objects.filter(prefixes_q(prefixes), kind=kind)
        .defer("content")
        .order_by("-created_at", "-id")
    )


def area_history(
    results: QuerySet[AreaResult], region_code: str, month: str, months: int = 12
) -> list[AreaResult]:
    """The area's last ``months`` results up to ``month``, oldest first."""
    rows = list(
        results.filter(region_code=region_code, month__lte=month).order_by("-month")[
            :months
        ]
    )
    return rows[::-1]


def latest_month(results: QuerySet[AreaResult]) -> str | None:
    return results.order_by("-month").values_list("month", flat=True).first()


DRIVER_KEYS = ("code", "count", "raw_rate", "eb_rate", "level_rate", "excess")


def item_names(results: Iterable[AreaResult]) -> dict[int, dict[str, str]]:
    """The item names of the catalogue version of each result's run, by run."""
    runs = {r.run_id for r in results}
    out: dict[int, dict[str, str]] = {run: {} for run in runs}
    for run, code, name in Indicator.objects.filter(version__runs__in=runs).values_list(
        "version__runs", "code", "name"
    ):
        out[run][code] = name
    return out


def explain(
    res: AreaResult, names: dict[int, dict[str, str]] | None = None
) -> list[dict[str, Any]]:
    """The items that pulled the result down as dicts (code, name, count, raw,
    stabilised and level rate, excess): the stored rows carry no names (a month
    writes tens of thousands), they are those of the run's catalogue version.
    Results stored with dicts (before the compact rows) are given as they are."""
    if names is None:
        names = item_names([res])
    named = names.get(res.run_id, {})
    out = []
    for entry in res.drivers:
        if isinstance(entry, dict):
            out.append(entry)
            continue
        d = dict(zip(DRIVER_KEYS, entry, strict=True))
        d["name"] = named.get(d["code"], d["code"])
        out.append(d)
    return out


def result_dict(
    res: AreaResult, names: dict[int, dict[str, str]] | None = None
) -> dict[str, Any]:
    """One result as plain data, with its explanation (``names``: item_names of
    the results shown together, looked up once)."""
    return {
        "region_code": res.region_code,
        "name": res.region.name,
        "level": res.level,
        "month": res.month,
        "population": res.population,
        "cases": res.cases,
        "raw_rate": round(res.raw_rate, 4),
        "eb_rate": round(res.eb_rate, 4),
        "security": round(res.security, 2),
        "governance": round(res.governance, 2),
        "yoy_change": res.yoy_change,
        "class_change": res.class_change,
        "index": round(res.index, 2),
        "rank": res.rank,
        "rank_total": res.rank_total,
        "warned": res.warned,
        "warning_reasons": res.warning_reasons,
        "drivers": explain(res, names),
    }

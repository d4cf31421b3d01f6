"""Writes of the peace index: computing a month, reviewing and publishing it (with
its warnings and rectification listings), and tracking rectifications."""

import hashlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.peace_index import compute as calc
from civicgrid.peace_index import rectification
from civicgrid.peace_index.catalogue import active_version
from civicgrid.peace_index.inbox import notices_send
from civicgrid.peace_index.models import (
    AreaResult,
    CatalogueVersion,
    MonthlyCount,
    MonthRun,
    Notice,
    NoticeKind,
    Rectification,
    RectificationStatus,
    RunStatus,
)
from civicgrid.regions.models import Grid, Region


def month_add(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    total = year * 12 + (mon - 1) + delta
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _label(actor: Any) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor.get_username())
    return "system"


# --- loading the inputs --------------------------------------------------------------


def load_areas(city_code: str) -> tuple[calc.Areas, list[str], list[str]]:
    """The city's areas with a population, in code order, and the notes on those
    left out. Population: the region's census figure, else the sum of its grids
    (villages), else the sum of its children."""
    regions = list(
        Region.objects.filter(city_code=city_code)
        .order_by("region_code")
        .values_list("code", "region_code", "level", "population", "area_class")
    )
    grid_pop = dict(
        Grid.objects.filter(city_code=city_code)
        .values("village_id")
        .annotate(p=Sum("population"))
        .values_list("village_id", "p")
    )
    pop: dict[str, float] = {}
    for code, prefix, _level, population, _cls in regions:
        if population:
            pop[prefix] = float(population)
        elif grid_pop.get(code):
            pop[prefix] = float(grid_pop[code])
    # children's sums, deepest first, for areas without a figure of their own
    sums: dict[str, float] = {}
    for _code, prefix, *_rest in sorted(regions, key=lambda r: -len(r[1])):
        value = pop.get(prefix, sums.get(prefix, 0.0))
        pop[prefix] = value
        up = _parent_prefix(prefix)
        if up:
            sums[up] = sums.get(up, 0.0) + value
    kept = [r for r in regions if pop[r[1]] > 0]
    notes = [
        f"{r[1]} has no population and is not computed"
        for r in regions
        if pop[r[1]] <= 0
    ]
    row_of = {r[1]: i for i, r in enumerate(kept)}
    parent = np.array(
        [row_of.get(_parent_prefix(r[1]), -1) for r in kept], dtype=np.int64
    )
    areas = calc.Areas(
        codes=[r[1] for r in kept],
        levels=[r[2] for r in kept],
        parent=parent,
        population=np.array([pop[r[1]] for r in kept]),
        area_class=[r[4] or "mixed" for r in kept],
    )
    return areas, [r[0] for r in kept], notes


def _parent_prefix(prefix: str) -> str:
    for n in (9, 6, 4):
        if len(prefix) > n:
            return prefix[:n]
    return ""


def load_counts(
    kind: str, city_code: str, month: str, areas: calc.Areas, items: Sequence[str]
) -> tuple[np.ndarray | None, list[tuple[str, str, int]]]:
    """Counts of the month rolled up (areas × items), None when there are none, and
    the rows read (for the digest)."""
    rows = list(
        MonthlyCount.objects.filter(kind=kind, city_code=city_code, month=month)
        .values("region_code", "indicator_code")
        .annotate(n=Sum("count"))
        .order_by("region_code", "indicator_code")
        .values_list("region_code", "indicator_code", "n")
    )
    if not rows:
        return None, []
    row_of = {c: i for i, c in enumerate(areas.codes)}
    col_of = {c: k for k, c in enumerate(items)}
    own = np.zeros((len(areas.codes), len(items)))
    for code, item, n in rows:
        i, k = row_of.get(code), col_of.get(item)
        if i is None:  # an area without population: count it at its nearest parent
            parent = _parent_prefix(code)
            while parent and parent not in row_of:
                parent = _parent_prefix(parent)
            i = row_of.get(parent)
        if i is not None and k is not None:
            own[i, k] += n
    depth = [len(c) for c in areas.codes]
    return calc.rollup(areas.parent, depth, own), rows


# --- computing a month ---------------------------------------------------------------


def month_compute(*, actor: Any, kind: str, city_code: str, month: str) -> MonthRun:
    """Compute (or recompute) every area of a city for a month, with the active
    catalogue version. A published month is frozen."""
    with transaction.atomic():
        run = (
            MonthRun.objects.select_for_update()
            .filter(kind=kind, city_code=city_code, month=month)
            .first()
        )
        if run is not None and run.is_frozen:
            raise ValidationError(_("This month is published and frozen."))
        version = active_version(kind)
        if version is None:
            raise ValidationError(_("The index has no active catalogue."))
        figures, areas, region_pks, digest, notes = _compute(
            version, kind, city_code, month
        )
        now = timezone.now()
        if run is None:
            run = MonthRun(kind=kind, month=month, city_code=city_code)
        run.region_code = city_code
        run.version = version
        run.status = RunStatus.COMPUTED
        run.input_digest = digest
        run.notes = notes
        run.computed_at = now
        run.computed_by = _label(actor)
        run.reviewed_at = None
        run.reviewed_by = ""
        run.save()
        AreaResult.objects.filter(run=run).delete()
        _store(run, version, figures, areas, region_pks)
        audit_record(
            actor=actor,
            action="peace_index.month_compute",
            obj=run,
            region_code=city_code,
            changes={
                "month": [None, month],
                "version": [None, version.number],
                "digest": [None, digest],
                "areas": [None, len(areas.codes)],
            },
        )
    return run


def _compute(
    version: CatalogueVersion, kind: str, city_code: str, month: str
) -> tuple[calc.Figures, calc.Areas, list[str], str, list[str]]:
    indicators = list(version.indicators.order_by("code").values_list("code", "weight"))
    items = [c for c, _w in indicators]
    areas, region_pks, notes = load_areas(city_code)
    if not areas.codes:
        raise ValidationError(_("The city has no area with a population."))
    y, rows = load_counts(kind, city_code, month, areas, items)
    if y is None:
        y = np.zeros((len(areas.codes), len(items)))
        notes.append("no counts for this month")
    y_ly, rows_ly = load_counts(kind, city_code, month_add(month, -12), areas, items)
    method = calc.Method(
        weights=np.array([w for _c, w in indicators]),
        security_weight=version.security_weight,
        governance_weight=version.governance_weight,
        warn_bottom_fraction=version.warn_bottom_fraction,
        warn_security_below=version.warn_security_below,
    )
    figures = calc.compute(areas, y, method, y_ly)
    digest = hashlib.sha256(
        repr(
            (
                version.pk,
                indicators,
                areas.codes,
                areas.population.tolist(),
                areas.area_class,
                rows,
                rows_ly,
            )
        ).encode()
    ).hexdigest()
    return figures, areas, region_pks, digest, notes + figures.notes


def _r(x: float, nd: int = 4) -> float | None:
    return None if math.isnan(x) else round(float(x), nd)


def _store(
    run: MonthRun,
    version: CatalogueVersion,
    f: calc.Figures,
    areas: calc.Areas,
    region_pks: list[str],
) -> None:
    indicators = list(
        version.indicators.order_by("code").values_list("code", "name", "weight")
    )
    codes = [c for c, _n, _w in indicators]
    names = [n for _c, n, _w in indicators]
    per = calc.PER
    counts = np.rint(f.raw_item * areas.population[:, None]).astype(np.int64)
    raw = np.round(f.raw_item * per, 4)
    eb = np.round(f.eb_item * per, 4)
    level = np.round(f.level_item_rate * per, 4)
    # the items with cases, row by row (np.nonzero walks the rows in order)
    rows, cols = np.nonzero(counts > 0)
    bounds = np.searchsorted(rows, np.arange(len(areas.codes) + 1))
    cols_l, counts_l = cols.tolist(), counts[rows, cols].tolist()
    raw_l, eb_l = raw[rows, cols].tolist(), eb[rows, cols].tolist()
    top, top_excess = calc.drivers(f, np.array([w for _c, _n, w in indicators]))
    parent = areas.parent.tolist()
    cases = np.rint(f.cases).astype(np.int64).tolist()
    yoy = [_r(x, 12) for x in f.yoy_change.tolist()]
    class_change = [_r(x, 12) for x in f.class_change.tolist()]
    out = []
    for i, code in enumerate(areas.codes):
        reasons = []
        if f.warn_rank[i]:
            reasons.append("bottom")
        if f.warn_security[i]:
            reasons.append("security")
        a, b = int(bounds[i]), int(bounds[i + 1])
        items = {
            codes[cols_l[t]]: [counts_l[t], raw_l[t], eb_l[t]] for t in range(a, b)
        }
        drivers = [
            {
                "code": codes[k],
                "name": names[k],
                "count": int(counts[i, k]),
                "raw_rate": float(raw[i, k]),
                "eb_rate": float(eb[i, k]),
                "level_rate": float(level[i, k]),
                "excess": round(float(e), 4),
            }
            for k, e in zip(top[i].tolist(), top_excess[i].tolist(), strict=True)
            if e > 0
        ]
        out.append(
            AreaResult(
                run=run,
                kind=run.kind,
                month=run.month,
                region_id=region_pks[i],
                region_code=code,
                city_code=run.city_code,
                parent_code=areas.codes[parent[i]] if parent[i] >= 0 else "",
                level=areas.levels[i],
                area_class=areas.area_class[i],
                population=int(areas.population[i]),
                cases=cases[i],
                raw_rate=float(f.raw_rate[i]),
                eb_rate=float(f.eb_rate[i]),
                security=float(f.security[i]),
                yoy_change=yoy[i],
                class_change=class_change[i],
                governance=float(f.governance[i]),
                index=float(f.index[i]),
                rank=int(f.rank[i]),
                rank_total=int(f.rank_total[i]),
                warned=bool(reasons),
                warning_reasons=reasons,
                drivers=drivers,
                items=items,
            )
        )
    AreaResult.objects.bulk_create(out, batch_size=2000)


# --- review and publication ----------------------------------------------------------


def run_review(*, actor: Any, run: MonthRun) -> MonthRun:
    """The center has checked the computed figures."""
    with transaction.atomic():
        run = MonthRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.COMPUTED:
            raise ValidationError(_("Only a computed month can be reviewed."))
        run.status = RunStatus.REVIEWED
        run.reviewed_at = timezone.now()
        run.reviewed_by = _label(actor)
        run.save(update_fields=["status", "reviewed_at", "reviewed_by"])
        audit_record(
            actor=actor,
            action="peace_index.month_review",
            obj=run,
            changes={"status": [RunStatus.COMPUTED, RunStatus.REVIEWED]},
        )
    return run


def run_publish(*, actor: Any, run: MonthRun) -> MonthRun:
    """Publish a reviewed month: it becomes public and frozen; warned areas are
    notified and the 3-month rule lists areas for rectification."""
    with transaction.atomic():
        run = MonthRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.REVIEWED:
            raise ValidationError(_("Only a reviewed month can be published."))
        run.status = RunStatus.PUBLISHED
        run.published_at = timezone.now()
        run.published_by = _label(actor)
        run.save(update_fields=["status", "published_at", "published_by"])
        listed = _warn_and_list(actor, run)
        audit_record(
            actor=actor,
            action="peace_index.month_publish",
            obj=run,
            changes={
                "status": [RunStatus.REVIEWED, RunStatus.PUBLISHED],
                "listed": [None, listed],
            },
        )
    return run


def _previous(run: MonthRun, months: int) -> dict[str, tuple[bool, int]]:
    prev = MonthRun.objects.filter(
        kind=run.kind,
        city_code=run.city_code,
        month=month_add(run.month, -months),
        status=RunStatus.PUBLISHED,
    ).first()
    if prev is None:
        return {}
    return {
        code: (warned, cases)
        for code, warned, cases in AreaResult.objects.filter(run=prev).values_list(
            "region_code", "warned", "cases"
        )
    }


def _warn_and_list(actor: Any, run: MonthRun) -> list[str]:
    """Notices for the warned areas; the 3-month rule lists areas for
    rectification, and an area warned again while listed is escalated."""
    warned = list(
        AreaResult.objects.filter(run=run, warned=True)
        .select_related("region")
        .order_by("region_code")
    )
    if not warned:
        return []
    last, before_last = _previous(run, 1), _previous(run, 2)
    open_rects = {
        r.region_code: r
        for r in Rectification.objects.filter(
            kind=run.kind, city_code=run.city_code
        ).exclude(status=RectificationStatus.CLOSED)
    }
    notices = []
    listed = []
    for res in warned:
        notices.append(
            Notice(
                kind=NoticeKind.WARNING,
                region_code=res.region_code,
                city_code=run.city_code,
                month=run.month,
                title=_("%(area)s is warned in %(month)s")
                % {"area": res.region.name, "month": run.month},
                body=_("Index %(index).1f, rank %(rank)s of %(total)s.")
                % {"index": res.index, "rank": res.rank, "total": res.rank_total},
            )
        )
        rect = open_rects.get(res.region_code)
        if rect is not None:
            if rect.last_listed_month < run.month:
                listed.append(res.region_code)
                notices.append(rectification.escalate(rect, res, run.month))
            continue
        three = (
            last.get(res.region_code, (False, 0))[0]
            and before_last.get(res.region_code, (False, 0))[0]
        )
        cases_before = last.get(res.region_code, (False, 0))[1]
        if calc.listed_for_rectification(three, cases_before, res.cases):
            listed.append(res.region_code)
            notices.append(rectification.listing(actor, res, run.month))
    notices_send(notices)
    return listed

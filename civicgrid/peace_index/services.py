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
from civicgrid.peace_index.catalogue import active_version
from civicgrid.peace_index.models import (
    AreaResult,
    CatalogueVersion,
    MonthlyCount,
    MonthRun,
    Notice,
    NoticeKind,
    Rectification,
    RectificationProgress,
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
    indicators = list(version.indicators.order_by("code").values_list("code", "name"))
    weights = np.array(
        list(version.indicators.order_by("code").values_list("weight", flat=True))
    )
    per = calc.PER
    out = []
    for i, code in enumerate(areas.codes):
        reasons = []
        if f.warn_rank[i]:
            reasons.append("bottom")
        if f.warn_security[i]:
            reasons.append("security")
        counts_i = f.raw_item[i] * areas.population[i]
        items = {
            indicators[k][0]: [
                round(float(counts_i[k])),
                round(float(f.raw_item[i, k] * per), 4),
                round(float(f.eb_item[i, k] * per), 4),
            ]
            for k in np.nonzero(counts_i > 0)[0]
        }
        drivers = [
            {
                "code": indicators[k][0],
                "name": indicators[k][1],
                "count": round(float(counts_i[k])),
                "raw_rate": round(float(f.raw_item[i, k] * per), 4),
                "eb_rate": round(float(f.eb_item[i, k] * per), 4),
                "level_rate": round(float(f.level_item_rate[i, k] * per), 4),
                "excess": round(excess, 4),
            }
            for k, excess in calc.drivers(f, i, weights)
        ]
        parent = int(areas.parent[i])
        out.append(
            AreaResult(
                run=run,
                kind=run.kind,
                month=run.month,
                region_id=region_pks[i],
                region_code=code,
                city_code=run.city_code,
                parent_code=areas.codes[parent] if parent >= 0 else "",
                level=areas.levels[i],
                area_class=areas.area_class[i],
                population=int(areas.population[i]),
                cases=round(float(f.cases[i])),
                raw_rate=float(f.raw_rate[i]),
                eb_rate=float(f.eb_rate[i]),
                security=float(f.security[i]),
                yoy_change=_r(f.yoy_change[i], 12),
                class_change=_r(f.class_change[i], 12),
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
    warned = list(
        AreaResult.objects.filter(run=run, warned=True)
        .select_related("region")
        .order_by("region_code")
    )
    if not warned:
        return []
    last, before_last = _previous(run, 1), _previous(run, 2)
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
        three = (
            last.get(res.region_code, (False, 0))[0]
            and before_last.get(res.region_code, (False, 0))[0]
        )
        cases_before = last.get(res.region_code, (False, 0))[1]
        if calc.listed_for_rectification(three, cases_before, res.cases):
            listed.append(res.region_code)
            notices.extend(_list_for_rectification(res, run))
    Notice.objects.bulk_create(notices)
    return listed


def _list_for_rectification(res: AreaResult, run: MonthRun) -> list[Notice]:
    rect = (
        Rectification.objects.filter(kind=run.kind, region_code=res.region_code)
        .exclude(status=RectificationStatus.CLOSED)
        .first()
    )
    name = res.region.name
    if rect is None:
        Rectification.objects.create(
            kind=run.kind,
            region=res.region,
            region_code=res.region_code,
            city_code=run.city_code,
            listed_month=run.month,
            last_listed_month=run.month,
        )
        return [
            Notice(
                kind=NoticeKind.RECTIFICATION,
                region_code=res.region_code,
                city_code=run.city_code,
                month=run.month,
                title=_("%(area)s is listed for rectification") % {"area": name},
                body=_(
                    "Warned three months in a row and cases fell by less than 30 %."
                ),
            )
        ]
    # still listed: escalate to the center above
    rect.last_listed_month = run.month
    rect.months_listed += 1
    rect.escalation_level += 1
    rect.save(update_fields=["last_listed_month", "months_listed", "escalation_level"])
    return [
        Notice(
            kind=NoticeKind.ESCALATION,
            region_code=res.parent_code or res.region_code,
            city_code=run.city_code,
            month=run.month,
            title=_("%(area)s stays listed for rectification (%(n)s months)")
            % {"area": name, "n": rect.months_listed},
            body=_("Escalated to level %(n)s.") % {"n": rect.escalation_level},
        )
    ]


# --- rectification -------------------------------------------------------------------


def rectification_update(
    *,
    actor: Any,
    rectification: Rectification,
    owner: Any = None,
    measures: str | None = None,
    progress: str = "",
) -> Rectification:
    """Set the owner and measures, and log progress; the listing is then in progress."""
    with transaction.atomic():
        rect = Rectification.objects.select_for_update().get(pk=rectification.pk)
        if rect.status == RectificationStatus.CLOSED:
            raise ValidationError(_("This rectification is closed."))
        before = {"status": rect.status, "owner": rect.owner_id}
        if owner is not None:
            rect.owner = owner
        if measures is not None:
            rect.measures = measures
        rect.status = RectificationStatus.IN_PROGRESS
        rect.save()
        if progress:
            RectificationProgress.objects.create(
                rectification=rect,
                region_code=rect.region_code,
                city_code=rect.city_code,
                actor_label=_label(actor),
                note=progress,
            )
        audit_record(
            actor=actor,
            action="peace_index.rectification_update",
            obj=rect,
            changes={
                "status": [before["status"], rect.status],
                "owner": [before["owner"], rect.owner_id],
                "progress": [None, progress],
            },
        )
    return rect


def rectification_close(
    *, actor: Any, rectification: Rectification, note: str
) -> Rectification:
    """Close a rectification (摘牌) with what was achieved."""
    with transaction.atomic():
        rect = Rectification.objects.select_for_update().get(pk=rectification.pk)
        if rect.status == RectificationStatus.CLOSED:
            raise ValidationError(_("This rectification is closed."))
        if not note.strip():
            raise ValidationError(_("Closing needs a note on what was achieved."))
        before = rect.status
        rect.status = RectificationStatus.CLOSED
        rect.closure_note = note
        rect.closed_at = timezone.now()
        rect.save()
        audit_record(
            actor=actor,
            action="peace_index.rectification_close",
            obj=rect,
            changes={"status": [before, rect.status]},
        )
    return rect

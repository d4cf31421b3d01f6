"""Writes of the peace index: computing a month, reviewing and publishing it (with
its warnings and rectification listings), and tracking rectifications."""

import hashlib
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.peace_index import compute as calc
from civicgrid.peace_index import rectification
from civicgrid.peace_index.bulk import dump, insert_rows
from civicgrid.peace_index.catalogue import active_version
from civicgrid.peace_index.inbox import NoticeDraft, notices_send
from civicgrid.peace_index.inputs import CityInputs, city_inputs
from civicgrid.peace_index.models import (
    AreaResult,
    CatalogueVersion,
    MonthRun,
    Notice,
    NoticeKind,
    Rectification,
    RectificationStatus,
    RunStatus,
)


def month_add(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    total = year * 12 + (mon - 1) + delta
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _label(actor: Any) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor.get_username())
    return "system"


# --- computing a month ---------------------------------------------------------------


def month_compute(
    *,
    actor: Any,
    kind: str,
    city_code: str,
    month: str,
    inputs: CityInputs | None = None,
) -> MonthRun:
    """Compute (or recompute) every area of a city for a month, with the active
    catalogue version. A published month is frozen. ``inputs`` may hold the city's
    areas and counts already loaded (a back-fill); else they are read here."""
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
        figures, inputs, digest, notes = _compute(
            version, kind, city_code, month, inputs
        )
        areas = inputs.areas
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
        _store(run, version, figures, areas, inputs.region_pks)
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
    version: CatalogueVersion,
    kind: str,
    city_code: str,
    month: str,
    inputs: CityInputs | None,
) -> tuple[calc.Figures, CityInputs, str, list[str]]:
    indicators = list(version.indicators.order_by("code").values_list("code", "weight"))
    items = [c for c, _w in indicators]
    before = month_add(month, -12)
    if inputs is None or inputs.items != items:
        inputs = city_inputs(kind, city_code, items, [month, before])
    areas = inputs.areas
    if not areas.codes:
        raise ValidationError(_("The city has no area with a population."))
    notes = list(inputs.notes)
    own = own_month = inputs.own.get(month)
    y = inputs.rolled(month)
    if own is None or y is None:
        y = own = np.zeros((len(areas.codes), len(items)))
        notes.append("no counts for this month")
    own_ly = inputs.own.get(before)
    method = calc.Method(
        weights=np.array([w for _c, w in indicators]),
        security_weight=version.security_weight,
        governance_weight=version.governance_weight,
        warn_bottom_fraction=version.warn_bottom_fraction,
        warn_security_below=version.warn_security_below,
    )
    figures = calc.compute(
        areas, y, method, None, inputs.stabilised_rate(before, method.weights)
    )
    if own_month is not None:  # the year before of month + 12, in a back-fill
        inputs.stabilised[(month, method.weights.tobytes())] = figures.eb_rate
    key = repr((version.pk, indicators))
    if key not in inputs.digests:  # the areas' part, once per back-fill
        inputs.digests[key] = hashlib.sha256(
            repr(
                (
                    version.pk,
                    indicators,
                    areas.codes,
                    areas.population.tolist(),
                    areas.area_class,
                )
            ).encode()
        )
    digest = inputs.digests[key].copy()
    digest.update(own.tobytes())
    digest.update(b"-" if own_ly is None else own_ly.tobytes())
    return figures, inputs, digest.hexdigest(), notes + figures.notes


def _store(
    run: MonthRun,
    version: CatalogueVersion,
    f: calc.Figures,
    areas: calc.Areas,
    region_pks: list[str],
) -> None:
    """Write the run's results (one row per area) in bulk."""
    indicators = list(version.indicators.order_by("code").values_list("code", "weight"))
    order, excess = calc.drivers(f, np.array([w for _c, w in indicators]))

    def top(values: np.ndarray) -> np.ndarray:  # the driving items' values
        return np.take_along_axis(values, order, axis=1)

    per = calc.PER
    drivers = _drivers_json(
        [c for c, _w in indicators],
        (order, excess),
        (
            np.rint(top(f.raw_item) * areas.population[:, None]).astype(np.int64),
            np.round(top(f.raw_item) * per, 4),
            np.round(top(f.eb_item) * per, 4),
            np.round(top(f.level_item_rate) * per, 4),
        ),
    )
    # the four possible lists of reasons, dumped once: [], bottom, security, both
    choice = [dump(["bottom"] * (c & 1) + ["security"] * (c >> 1)) for c in range(4)]
    reasons = [
        choice[c] for c in (f.warn_rank + 2 * f.warn_security.astype(int)).tolist()
    ]
    n = len(areas.codes)
    columns = (
        [run.pk] * n,
        [run.kind] * n,
        [run.month] * n,
        region_pks,
        areas.codes,
        [run.city_code] * n,
        [areas.codes[p] if p >= 0 else "" for p in areas.parent.tolist()],
        areas.levels,
        areas.area_class,
        areas.population.astype(np.int64).tolist(),
        np.rint(f.cases).astype(np.int64).tolist(),
        f.raw_rate.tolist(),
        f.eb_rate.tolist(),
        f.security.tolist(),
        [None if x != x else round(x, 12) for x in f.yoy_change.tolist()],  # NaN
        [None if x != x else round(x, 12) for x in f.class_change.tolist()],
        f.governance.tolist(),
        f.index.tolist(),
        f.rank.tolist(),
        f.rank_total.tolist(),
        (f.warn_rank | f.warn_security).tolist(),
        reasons,
        drivers,
    )
    insert_rows(AreaResult, RESULT_FIELDS, zip(*columns, strict=True))


def _drivers_json(
    codes: Sequence[str],
    top: tuple[np.ndarray, np.ndarray],
    values: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> list[str]:
    """Per area, the items that pulled it down (positive excess only), as JSON:
    ``[[code, count, raw, stabilised, level rate, excess], …]`` (rates per 10,000,
    4 decimals; the names are the version's, added when read: ``selectors``).
    ``values``: those of the items in ``top``'s order (areas × top)."""
    order, excess = top
    keys = [dump(c) for c in codes]
    rows, slots = np.nonzero(excess > 0)  # row by row, largest first
    count, raw, eb, level = (v[rows, slots].tolist() for v in values)
    parts = [
        f"[{keys[k]},{c},{r!r},{e!r},{lv!r},{x!r}]"
        for k, c, r, e, lv, x in zip(
            order[rows, slots].tolist(),
            count,
            raw,
            eb,
            level,
            np.round(excess[rows, slots], 4).tolist(),
            strict=True,
        )
    ]
    bounds = np.searchsorted(rows, np.arange(order.shape[0] + 1)).tolist()
    return ["[" + ",".join(parts[a:b]) + "]" for a, b in itertools.pairwise(bounds)]


def area_items(res: AreaResult) -> dict[str, list[float]]:
    """Every item of the area in its run: [cases, raw rate, stabilised rate] (per
    10,000, 4 decimals), recomputed from the run's inputs with its catalogue
    version (a month writes only the driving items; any figure can be recomputed).
    Refused when the inputs changed since the run was computed (the digest)."""
    run = res.run
    figures, inputs, digest, _notes = _compute(
        run.version, run.kind, run.city_code, run.month, None
    )
    if digest != run.input_digest:
        raise ValidationError(
            _("The inputs of this month changed since it was computed.")
        )
    row = inputs.areas.codes.index(res.region_code)
    raw = figures.raw_item[row]
    columns = (
        np.rint(raw * inputs.areas.population[row]).astype(np.int64).tolist(),
        np.round(raw * calc.PER, 4).tolist(),
        np.round(figures.eb_item[row] * calc.PER, 4).tolist(),
    )
    return {
        code: [count, r, e]
        for code, count, r, e in zip(inputs.items, *columns, strict=True)
    }


RESULT_FIELDS = (
    "run",
    "kind",
    "month",
    "region",
    "region_code",
    "city_code",
    "parent_code",
    "level",
    "area_class",
    "population",
    "cases",
    "raw_rate",
    "eb_rate",
    "security",
    "yoy_change",
    "class_change",
    "governance",
    "index",
    "rank",
    "rank_total",
    "warned",
    "warning_reasons",
    "drivers",
)


def months_backfill(
    *,
    actor: Any,
    kind: str,
    city_code: str,
    months: Sequence[str],
    publish: bool = False,
) -> list[MonthRun]:
    """Compute a range of months of a city in order, reading its areas and the
    counts of all the months (and of the year before each) once; with
    ``publish`` each month is then reviewed and published by ``actor`` before the
    next (so that the 3-month rule sees them). Published months are skipped."""
    version = active_version(kind)
    if version is None:
        raise ValidationError(_("The index has no active catalogue."))
    items = list(version.indicators.order_by("code").values_list("code", flat=True))
    wanted = sorted(set(months) | {month_add(m, -12) for m in months})
    inputs = city_inputs(kind, city_code, items, wanted)
    frozen = set(
        MonthRun.objects.filter(
            kind=kind, city_code=city_code, status=RunStatus.PUBLISHED
        ).values_list("month", flat=True)
    )
    runs = []
    warned: Warned = {}  # the months published here, for the 3-month rule
    for month in sorted(months):
        if month in frozen:
            continue
        with transaction.atomic():  # a month at a time: one commit, not three
            run = month_compute(
                actor=actor, kind=kind, city_code=city_code, month=month, inputs=inputs
            )
            if publish:
                run = run_publish(
                    actor=actor,
                    run=run_review(actor=actor, run=run),
                    warned_before=warned,
                )
        runs.append(run)
    return runs


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


Warned = dict[str, dict[str, tuple[bool, int]]]  # month: area: (warned, cases)


def run_publish(
    *, actor: Any, run: MonthRun, warned_before: Warned | None = None
) -> MonthRun:
    """Publish a reviewed month: it becomes public and frozen; warned areas are
    notified and the 3-month rule lists areas for rectification.
    ``warned_before``: the warned areas of the city's months published just
    before (a back-fill keeps them; else they are read), completed with this one."""
    with transaction.atomic():
        run = MonthRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.REVIEWED:
            raise ValidationError(_("Only a reviewed month can be published."))
        run.status = RunStatus.PUBLISHED
        run.published_at = timezone.now()
        run.published_by = _label(actor)
        run.save(update_fields=["status", "published_at", "published_by"])
        listed, escalated = _warn_and_list(
            run, {} if warned_before is None else warned_before
        )
        audit_record(
            actor=actor,
            action="peace_index.month_publish",
            obj=run,
            region_code=run.city_code,
            changes={
                "status": [RunStatus.REVIEWED, RunStatus.PUBLISHED],
                "listed": [None, listed],
                "escalated": [None, escalated],
            },
        )
    return run


def _previous(run: MonthRun, months: int, kept: Warned) -> dict[str, tuple[bool, int]]:
    month = month_add(run.month, -months)
    if month in kept:
        return kept[month]
    prev = MonthRun.objects.filter(
        kind=run.kind,
        city_code=run.city_code,
        month=month,
        status=RunStatus.PUBLISHED,
    ).first()
    if prev is None:
        return {}
    # the warned areas only: an area absent counts as not warned (False, 0)
    return {
        code: (True, cases)
        for code, cases in AreaResult.objects.filter(run=prev, warned=True).values_list(
            "region_code", "cases"
        )
    }


def _open_rectifications(
    run: MonthRun, codes: set[str]
) -> dict[str, rectification.OpenListing]:
    """The open rectifications of the city among the areas ``codes``."""
    rows = (
        Rectification.objects.filter(kind=run.kind, city_code=run.city_code)
        .exclude(status=RectificationStatus.CLOSED)
        .values_list(*rectification.OPEN_LISTING_FIELDS)
    )
    return {
        r[1]: rectification.OpenListing(*r)
        for r in rows.iterator(chunk_size=5000)
        if r[1] in codes
    }


def _warn_and_list(run: MonthRun, kept: Warned) -> tuple[list[str], list[str]]:
    """Notices for the warned areas; the 3-month rule lists areas for
    rectification, and an area warned again while listed is escalated. Returns
    the areas listed and escalated (the publication's audit row names them)."""
    warned = list(
        AreaResult.objects.filter(run=run, warned=True)
        .order_by("region_code")
        .values_list(
            "region_id",
            "region_code",
            "region__name",
            "index",
            "rank",
            "rank_total",
            "cases",
        )
    )
    if not warned:
        kept[run.month] = {}
        return [], []
    last, before_last = _previous(run, 1, kept), _previous(run, 2, kept)
    kept[run.month] = {w[1]: (True, w[6]) for w in warned}
    open_rects = _open_rectifications(run, {w[1] for w in warned})
    notices: list[Notice | NoticeDraft] = []
    new: list[Rectification] = []
    raised: list[rectification.OpenListing] = []
    title = _("%(area)s is warned in %(month)s")
    body = _("Index %(index).1f, rank %(rank)s of %(total)s.")
    for region_id, code, name, index, rank, total, cases in warned:
        notices.append(
            NoticeDraft(
                NoticeKind.WARNING,
                code,
                run.city_code,
                run.month,
                title % {"area": name, "month": run.month},
                body % {"index": index, "rank": rank, "total": total},
            )
        )
        rect = open_rects.get(code)
        if rect is not None:
            if rect.last_listed_month < run.month:
                notices.append(rectification.escalate(rect, name, run.month))
                raised.append(rect)
            continue
        three = last.get(code, (False, 0))[0] and before_last.get(code, (False, 0))[0]
        cases_before = last.get(code, (False, 0))[1]
        if calc.listed_for_rectification(three, cases_before, cases):
            listed, notice = rectification.listing(
                run.kind, region_id, code, name, run.month
            )
            new.append(listed)
            notices.append(notice)
    Rectification.objects.bulk_create(new, batch_size=2000)
    ids = [r.pk for r in raised]  # each one month more and one level up
    for start in range(0, len(ids), 900):
        Rectification.objects.filter(pk__in=ids[start : start + 900]).update(
            last_listed_month=run.month,
            months_listed=F("months_listed") + 1,
            escalation_level=F("escalation_level") + 1,
        )
    notices_send(notices)
    return [r.region_code for r in new], [r.region_code for r in raised]

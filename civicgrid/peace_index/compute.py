"""The arithmetic of the index, on arrays, exactly as docs/peace-index.md writes it.

No database here: ``services`` loads the inputs, calls :func:`compute`, stores the
result. Areas are in code order and items in code order, so the same inputs always
give bit-identical figures.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

PER = 10_000.0  # rates are per 10,000 residents


@dataclass
class Areas:
    """The areas of one city, in code order. ``parent`` holds the row of the parent
    (-1 for the city); ``population`` > 0 for every row."""

    codes: list[str]
    levels: list[str]
    parent: np.ndarray
    population: np.ndarray
    area_class: list[str]


@dataclass
class Method:
    weights: np.ndarray  # one per item, in item order
    security_weight: float = 0.6
    governance_weight: float = 0.4
    warn_bottom_fraction: float = 0.10
    warn_security_below: float = 40.0


@dataclass
class Figures:
    """Per area (rows as in Areas)."""

    cases: np.ndarray
    raw_item: np.ndarray  # per person, areas × items
    eb_item: np.ndarray
    raw_rate: np.ndarray  # weighted, per 10,000
    eb_rate: np.ndarray
    level_item_rate: np.ndarray  # the pooled rate of each item at the area's level
    security: np.ndarray
    yoy_change: np.ndarray  # NaN where there is no comparison year
    class_change: np.ndarray
    governance: np.ndarray
    index: np.ndarray
    rank: np.ndarray
    rank_total: np.ndarray
    warn_rank: np.ndarray
    warn_security: np.ndarray
    notes: list[str] = field(default_factory=list)


def group_sum(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """The sum of ``values`` (rows, or rows × columns) per group, each group's rows
    added one after the other in row order: the very sums of ``np.add.at`` (and
    so bit for bit the same floats), at ``np.bincount``'s speed."""
    if values.ndim == 1:
        return np.bincount(group, weights=values, minlength=n_groups)
    out = np.empty((n_groups, values.shape[1]))
    for k, column in enumerate(np.ascontiguousarray(values.T)):
        out[:, k] = np.bincount(group, weights=column, minlength=n_groups)
    return out


def rollup(parent: np.ndarray, depth: Sequence[int], own: np.ndarray) -> np.ndarray:
    """Each area's counts plus those of everything below it (deepest level first)."""
    total = own.astype(np.float64, copy=True)
    depth_arr = np.asarray(depth)
    for d in sorted(set(depth_arr.tolist()), reverse=True):
        rows = np.nonzero((depth_arr == d) & (parent >= 0))[0]
        if len(rows):
            total += group_sum(parent[rows], total[rows], len(total))
    return total


def marshall(y: np.ndarray, n: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Marshall's (1991) global empirical Bayes estimate of each row's rate per
    person, item by item, shrunk toward the pooled rate of its group (its siblings).

    y: counts (rows × items), n: populations (rows), group: group id per row.
    """
    n_groups = int(group.max()) + 1 if len(group) else 0
    sum_y = group_sum(group, y, n_groups)
    sum_n = np.bincount(group, weights=n, minlength=n_groups)
    size = np.bincount(group, minlength=n_groups).astype(np.float64)
    m = sum_y / sum_n[:, None]  # pooled rate of the group
    r = y / n[:, None]
    m_row = m[group]
    dev = n[:, None] * (r - m_row) ** 2
    s2 = group_sum(group, dev, n_groups)
    s2 /= sum_n[:, None]
    n_bar = sum_n / size
    a = np.maximum(s2 - m / n_bar[:, None], 0.0)
    a_row = a[group]
    denom = a_row + m_row / n[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(denom > 0, a_row / denom, 0.0)
    return m_row + c * (r - m_row)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Competition ranks (1, 2, 2, 4), highest value first; values are compared
    rounded to 6 decimals so that float noise never splits a tie."""
    v = np.round(values, 6)
    order = np.lexsort((np.arange(len(v)), -v))
    ranked = v[order]
    pos = np.arange(len(v))
    starts = np.ones(len(v), dtype=bool)
    starts[1:] = ranked[1:] != ranked[:-1]
    ranks = np.empty(len(v), dtype=np.int64)
    ranks[order] = np.maximum.accumulate(np.where(starts, pos, 0)) + 1
    return ranks


def weighted_eb(areas: Areas, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The stabilised weighted rate per 10,000 of every area (counts rolled up)."""
    return (_stabilise(areas, y) * weights).sum(axis=1) * PER


def _stabilise(areas: Areas, y: np.ndarray) -> np.ndarray:
    # siblings share a group: the group id is the parent's row (the city: its own)
    group = np.where(areas.parent >= 0, areas.parent, len(areas.codes))
    _, group = np.unique(group, return_inverse=True)
    return marshall(y, areas.population, group)


def compute(
    areas: Areas,
    y: np.ndarray,
    method: Method,
    y_last_year: np.ndarray | None,
    before_rate: np.ndarray | None = None,
) -> Figures:
    """The figures of every area for one month.

    y, y_last_year: counts rolled up (areas × items); y_last_year is None when the
    month a year before has no counts at all. ``before_rate``: the stabilised
    weighted rate of that month if already computed (a back-fill keeps it), else
    it is computed from ``y_last_year``.
    """
    n = areas.population
    w = method.weights
    raw_item = y / n[:, None]
    eb_item = _stabilise(areas, y)
    raw_rate = (raw_item * w).sum(axis=1) * PER
    eb_rate = (eb_item * w).sum(axis=1) * PER
    cases = y.sum(axis=1)
    levels = np.asarray(areas.levels)
    classes = np.asarray([c or "mixed" for c in areas.area_class])
    count = len(areas.codes)

    security = np.zeros(count)
    level_item_rate = np.zeros_like(raw_item)
    rank = np.zeros(count, dtype=np.int64)
    rank_total = np.zeros(count, dtype=np.int64)
    warn_rank = np.zeros(count, dtype=bool)
    for level in sorted(set(areas.levels)):
        rows = np.nonzero(levels == level)[0]
        pooled_items = y[rows].sum(axis=0) / n[rows].sum()
        level_item_rate[rows] = pooled_items
        ref = float((pooled_items * w).sum() * PER)  # R̄: the level's pooled rate
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(
                ref + eb_rate[rows] > 0, 100.0 * ref / (ref + eb_rate[rows]), 100.0
            )
        security[rows] = s

    yoy = np.full(count, np.nan)
    class_change = np.full(count, np.nan)
    governance = np.full(count, 50.0)
    notes: list[str] = []
    if y_last_year is None and before_rate is None:
        notes.append("no counts a year before: governance value 50 for every area")
    else:
        if before_rate is not None:
            before = before_rate
        else:
            assert y_last_year is not None
            before = weighted_eb(areas, y_last_year, w)
        with np.errstate(invalid="ignore", divide="ignore"):
            yoy = np.where(
                before > 0,
                (eb_rate - before) / before,
                np.where(eb_rate > 0, 1.0, 0.0),
            )
        for level in sorted(set(areas.levels)):
            for cls in sorted(set(classes[levels == level].tolist())):
                rows = np.nonzero((levels == level) & (classes == cls))[0]
                mean = float(yoy[rows].mean())
                class_change[rows] = mean
                governance[rows] = np.clip(50.0 + 100.0 * (mean - yoy[rows]), 0, 100)

    index = method.security_weight * security + method.governance_weight * governance
    for level in sorted(set(areas.levels)):
        rows = np.nonzero(levels == level)[0]
        rank[rows] = _ranks(index[rows])
        rank_total[rows] = len(rows)
        bottom = math.floor(method.warn_bottom_fraction * len(rows) + 1e-9)
        warn_rank[rows] = rank[rows] > len(rows) - bottom
    warn_security = security < method.warn_security_below
    return Figures(
        cases=cases,
        raw_item=raw_item,
        eb_item=eb_item,
        raw_rate=raw_rate,
        eb_rate=eb_rate,
        level_item_rate=level_item_rate,
        security=security,
        yoy_change=yoy,
        class_change=class_change,
        governance=governance,
        index=index,
        rank=rank,
        rank_total=rank_total,
        warn_rank=warn_rank,
        warn_security=warn_security,
        notes=notes,
    )


def drivers(
    figures: Figures, weights: np.ndarray, top: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """The items that pulled each area's index down most, for all areas at once:
    (items, excess), both areas × ``top``, where the excess is w_k (θ_ik − M_Lk)
    per 10,000; largest first, ties to the lower item; only positive ones count
    (the caller drops the others)."""
    excess = weights * (figures.eb_item - figures.level_item_rate) * PER
    # the largest ``top`` one by one (argmax takes the first of equals): the head
    # of a stable descending sort, without sorting all the items
    left = excess.copy()
    order = np.empty((len(excess), min(top, excess.shape[1])), dtype=np.int64)
    for slot in range(order.shape[1]):
        order[:, slot] = np.argmax(left, axis=1)
        np.put_along_axis(left, order[:, slot : slot + 1], -np.inf, axis=1)
    return order, np.take_along_axis(excess, order, axis=1)


def listed_for_rectification(
    warned_3_months: bool, cases_before: int, cases_now: int
) -> bool:
    """Warned three months in a row and cases fell by less than 30 % month on month
    (integer arithmetic, so that exactly 30 % is never mistaken for 29.999…)."""
    if not warned_3_months:
        return False
    return 10 * (cases_before - cases_now) < 3 * cases_before

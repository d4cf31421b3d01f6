"""Loading the inputs of a city's computation: its areas with their populations
and its monthly counts (one query for as many months as asked, so that a
back-fill reads each count once)."""

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Sum

from civicgrid.peace_index import compute as calc
from civicgrid.peace_index.models import MonthlyCount
from civicgrid.regions.models import Grid, Region


@dataclass
class CityInputs:
    """A city's areas and the own counts (areas × items) of the months loaded;
    a month absent from ``own`` has no counts at all."""

    areas: calc.Areas
    region_pks: list[str]
    notes: list[str]
    items: list[str]
    own: dict[str, np.ndarray] = field(default_factory=dict)
    # the stabilised weighted rate of a month, by (month, weights): a back-fill
    # computes each month once and finds it again as the year before of a later one
    stabilised: dict[tuple[str, bytes], np.ndarray] = field(default_factory=dict)
    # the input digest's hash of the areas (by version and items), to copy
    digests: dict[str, Any] = field(default_factory=dict)
    depth: list[int] | None = None  # each area's code length (its level)

    def rolled(self, month: str) -> np.ndarray | None:
        own = self.own.get(month)
        if own is None:
            return None
        if self.depth is None:  # once per city, not once per month
            self.depth = [len(c) for c in self.areas.codes]
        return calc.rollup(self.areas.parent, self.depth, own)

    def stabilised_rate(self, month: str, weights: np.ndarray) -> np.ndarray | None:
        """The month's stabilised weighted rate (None: no counts that month)."""
        key = (month, weights.tobytes())
        if key not in self.stabilised:
            y = self.rolled(month)
            if y is None:
                return None
            self.stabilised[key] = calc.weighted_eb(self.areas, y, weights)
        return self.stabilised[key]


def city_inputs(
    kind: str, city_code: str, items: Sequence[str], months: Sequence[str]
) -> CityInputs:
    areas, region_pks, notes = load_areas(city_code)
    inputs = CityInputs(areas, region_pks, notes, list(items))
    inputs.own = load_counts(kind, city_code, months, areas, items)
    return inputs


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
    kind: str,
    city_code: str,
    months: Sequence[str],
    areas: calc.Areas,
    items: Sequence[str],
) -> dict[str, np.ndarray]:
    """Each area's own counts (areas × items) of each month that has any. Rows of
    several sources for the same area and item add up; a row of an area without
    population counts at its nearest area above; unknown items are ignored."""
    per_month = _packed_rows(kind, city_code, months, areas, items)
    if per_month is None:
        per_month = _plain_rows(kind, city_code, months, areas, items)
    return own_counts(per_month, areas, items)


def own_counts(
    per_month: "Rows", areas: calc.Areas, items: Sequence[str]
) -> dict[str, np.ndarray]:
    """The rows of each month (area row, item column, count; -1: not computed)
    added up into an areas × items array; months without any row left out."""
    out = {}
    size = len(areas.codes) * len(items)
    for month, (at_r, at_k, counts) in sorted(per_month.items()):
        keep = (at_r >= 0) & (at_k >= 0)
        if keep.any():
            cell = at_r[keep] * len(items) + at_k[keep]
            own = np.bincount(cell, weights=counts[keep], minlength=size)
            out[month] = own.reshape(len(areas.codes), len(items))
    return out


Rows = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # month: row, item, count


def _plain_rows(
    kind: str,
    city_code: str,
    months: Sequence[str],
    areas: calc.Areas,
    items: Sequence[str],
) -> Rows:
    """The counts through the ORM, one row object each (any code)."""
    rows = list(
        MonthlyCount.objects.filter(
            kind=kind, city_code=city_code, month__in=list(months)
        ).values_list("month", "region_code", "indicator_code", "count")
    )
    if not rows:
        return {}
    month_of, region_codes, item_codes, values = zip(*rows, strict=True)
    row_of = {c: i for i, c in enumerate(areas.codes)}
    col_of = {c: k for k, c in enumerate(items)}
    uniq_m, inv_m = np.unique(np.array(month_of), return_inverse=True)
    uniq_r, inv_r = np.unique(np.array(region_codes), return_inverse=True)
    uniq_k, inv_k = np.unique(np.array(item_codes), return_inverse=True)
    at_r = np.array([_area_row(str(c), row_of) for c in uniq_r.tolist()])[inv_r]
    at_k = np.array([col_of.get(str(c), -1) for c in uniq_k.tolist()])[inv_k]
    counts = np.array(values, dtype=float)
    return {
        str(month): (at_r[inv_m == m], at_k[inv_m == m], counts[inv_m == m])
        for m, month in enumerate(uniq_m.tolist())
    }


CODE_RE = re.compile(r"[1-9][0-9]{0,17}")  # a division code read as an integer

# Each month's counts as three strings built by the database (area codes, item
# codes, counts; the same row order in all three), and whether every area code
# starts with a digit 1-9 and is short enough for an int64 (any other character
# further on makes numpy's parsing fail: the rows are then read one by one)
PACKED_SQL = {
    "postgresql": (
        "SELECT month, count(*), (min(ascii(region_code)) >= 49 AND "
        "max(ascii(region_code)) <= 57 AND max(length(region_code)) < 19)::int, "
        "string_agg(region_code, ' '), string_agg(indicator_code, ' '), "
        "string_agg(count::text, ' ') FROM {table} WHERE kind = %s AND "
        "city_code = %s AND month = ANY(%s) GROUP BY month"
    ),
    "sqlite": (
        "SELECT month, count(*), min(unicode(region_code)) >= 49 AND "
        "max(unicode(region_code)) <= 57 AND max(length(region_code)) < 19, "
        "group_concat(region_code, ' '), group_concat(indicator_code, ' '), "
        "group_concat(count, ' ') FROM {table} WHERE kind = %s AND city_code = %s "
        "AND month IN ({months}) GROUP BY month"
    ),
}


class _Columns(dict[str, int]):
    """Item code → column; -1 for a code that is not an item of the version."""

    def __missing__(self, key: str) -> int:
        return -1


def _packed_rows(
    kind: str,
    city_code: str,
    months: Sequence[str],
    areas: calc.Areas,
    items: Sequence[str],
) -> Rows | None:
    """The counts of each month as three long strings (area codes, item codes,
    counts) built by the database, the numbers parsed by numpy: a back-fill reads
    millions of rows, and a row object each costs more than all the rest. None
    when a code does not fit (not a plain number, a space in a code): the caller
    then reads the rows one by one."""
    vendor = connection.vendor
    if vendor not in PACKED_SQL or not all(map(CODE_RE.fullmatch, areas.codes)):
        return None
    table = connection.ops.quote_name(MonthlyCount._meta.db_table)
    marks = ", ".join(["%s"] * len(months))
    sql = PACKED_SQL[vendor].format(table=table, months=marks)
    params: list[Any] = [kind, city_code]
    params += [list(months)] if vendor == "postgresql" else list(months)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        found = cur.fetchall()
    row_of = {c: i for i, c in enumerate(areas.codes)}
    col_of = _Columns((c, k) for k, c in enumerate(items))
    parsed = []
    for month, n, plain, regions, item_codes, counts in found:
        if not plain:
            return None
        try:
            codes = np.fromstring(regions, dtype=np.int64, sep=" ")
            values = np.fromstring(counts, dtype=np.float64, sep=" ")
        except ValueError:  # not only digits and spaces
            return None
        names = item_codes.split(" ")
        if not len(codes) == len(values) == len(names) == n:
            return None
        cols = np.fromiter(map(col_of.__getitem__, names), dtype=np.int64, count=n)
        parsed.append((str(month), codes, cols, values))
    if not parsed:
        return {}
    # each area code looked up once for all the months (a back-fill reads 36)
    uniq_r, inv_r = np.unique(
        np.concatenate([codes for _m, codes, _c, _v in parsed]), return_inverse=True
    )
    at_r = np.array([_area_row(str(c), row_of) for c in uniq_r.tolist()])[inv_r]
    bounds = np.cumsum([0] + [len(codes) for _m, codes, _c, _v in parsed]).tolist()
    return {
        month: (at_r[start:end], cols, values)
        for (month, _codes, cols, values), (start, end) in zip(
            parsed, itertools.pairwise(bounds), strict=True
        )
    }


def _area_row(code: str, row_of: dict[str, int]) -> int:
    """The row of the area, or of its nearest area above that has one; -1."""
    while code and code not in row_of:
        code = _parent_prefix(code)
    return row_of.get(code, -1)

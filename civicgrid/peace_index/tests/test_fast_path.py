"""The fast arithmetic gives bit for bit the figures of the plain one it replaced.

The reference functions below are the first implementation (``np.add.at`` sums,
a ranking loop, the year-before rate recomputed every month), kept here only to
check the faster code against them on a random tree of a few hundred areas.
"""

import math

import numpy as np

from civicgrid.peace_index import compute as calc


def rollup_ref(parent: np.ndarray, depth: list[int], own: np.ndarray) -> np.ndarray:
    total = own.astype(np.float64, copy=True)
    depth_arr = np.asarray(depth)
    for d in sorted(set(depth_arr.tolist()), reverse=True):
        rows = np.nonzero((depth_arr == d) & (parent >= 0))[0]
        if len(rows):
            np.add.at(total, parent[rows], total[rows])
    return total


def marshall_ref(y: np.ndarray, n: np.ndarray, group: np.ndarray) -> np.ndarray:
    n_groups = int(group.max()) + 1
    k = y.shape[1]
    sum_y = np.zeros((n_groups, k))
    np.add.at(sum_y, group, y)
    sum_n = np.bincount(group, weights=n, minlength=n_groups)
    size = np.bincount(group, minlength=n_groups).astype(np.float64)
    m = sum_y / sum_n[:, None]
    r = y / n[:, None]
    dev = n[:, None] * (r - m[group]) ** 2
    s2 = np.zeros((n_groups, k))
    np.add.at(s2, group, dev)
    s2 /= sum_n[:, None]
    n_bar = sum_n / size
    a = np.maximum(s2 - m / n_bar[:, None], 0.0)
    a_row, m_row = a[group], m[group]
    denom = a_row + m_row / n[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(denom > 0, a_row / denom, 0.0)
    return m_row + c * (r - m_row)


def ranks_ref(values: np.ndarray) -> np.ndarray:
    v = np.round(values, 6)
    order = np.lexsort((np.arange(len(v)), -v))
    ranks = np.empty(len(v), dtype=np.int64)
    prev, current = None, 0
    for pos, row in enumerate(order):
        if prev is None or v[row] != v[prev]:
            current = pos + 1
        ranks[row] = current
        prev = row
    return ranks


def random_city(seed: int) -> tuple[calc.Areas, np.ndarray, np.ndarray]:
    """A city of 3 counties, their towns and villages in code order, with sparse
    Poisson counts of 7 items for this month and the year before."""
    rng = np.random.default_rng(seed)
    codes, levels, classes = ["9901"], ["city"], ["mixed"]
    for c in range(1, 4):
        county = f"9901{c:02d}"
        codes += [county]
        levels += ["county"]
        classes += ["mixed"]
        for t in range(1, int(rng.integers(2, 6))):
            town = f"{county}{t:03d}"
            cls = str(rng.choice(["urban", "rural", "mixed"]))
            codes += [town]
            levels += ["town"]
            classes += [cls]
            for v in range(1, int(rng.integers(1, 40))):
                codes += [f"{town}{v:03d}"]
                levels += ["village"]
                classes += [cls]
    row_of = {code: i for i, code in enumerate(codes)}
    parent = np.array(
        [row_of.get(c[: {4: 0, 6: 4, 9: 6, 12: 9}[len(c)]], -1) for c in codes]
    )
    pop = rng.lognormal(np.log(1600), 0.8, len(codes)).round() + 50
    village = np.array([lv == "village" for lv in levels])
    own = np.where(village[:, None], rng.poisson(0.4, (len(codes), 7)), 0)
    own_ly = np.where(village[:, None], rng.poisson(0.5, (len(codes), 7)), 0)
    areas = calc.Areas(codes, levels, parent, pop.astype(float), classes)
    return areas, own.astype(float), own_ly.astype(float)


def test_rollup_and_marshall_are_those_of_add_at() -> None:
    for seed in range(5):
        areas, own, _ly = random_city(seed)
        depth = [len(c) for c in areas.codes]
        y = calc.rollup(areas.parent, depth, own)
        assert np.array_equal(y, rollup_ref(areas.parent, depth, own))
        group = np.unique(
            np.where(areas.parent >= 0, areas.parent, len(areas.codes)),
            return_inverse=True,
        )[1]
        fast = calc.marshall(y, areas.population, group)
        assert fast.tobytes() == marshall_ref(y, areas.population, group).tobytes()


def test_ranks_are_those_of_the_loop() -> None:
    rng = np.random.default_rng(7)
    for values in (
        rng.integers(0, 5, 200).astype(float),  # many ties
        rng.normal(50, 10, 500),
        np.array([3.0]),
        np.array([1.0, 1.0 + 1e-9, 0.5]),  # a tie below 6 decimals
    ):
        assert np.array_equal(calc._ranks(values), ranks_ref(values))


def test_a_kept_year_before_rate_gives_the_same_month() -> None:
    """compute() with the year-before rate handed over (a back-fill) equals
    compute() deriving it from the counts, and both equal the reference sums."""
    for seed in range(3):
        areas, own, own_ly = random_city(seed)
        depth = [len(c) for c in areas.codes]
        method = calc.Method(weights=np.arange(1.0, 8.0))
        y, y_ly = (calc.rollup(areas.parent, depth, o) for o in (own, own_ly))
        plain = calc.compute(areas, y, method, y_ly)
        kept = calc.compute(
            areas, y, method, None, calc.weighted_eb(areas, y_ly, method.weights)
        )
        for name in ("eb_rate", "security", "yoy_change", "governance", "index"):
            a, b = getattr(plain, name), getattr(kept, name)
            assert a.tobytes() == b.tobytes(), name
        assert np.array_equal(plain.rank, kept.rank)
        group = np.unique(
            np.where(areas.parent >= 0, areas.parent, len(areas.codes)),
            return_inverse=True,
        )[1]
        eb_ref = marshall_ref(y, areas.population, group)
        assert plain.eb_item.tobytes() == eb_ref.tobytes()
        assert not any(math.isnan(x) for x in plain.index.tolist())


def test_counts_read_packed_are_those_read_row_by_row(put_counts, tree) -> None:  # type: ignore[no-untyped-def]
    """The counts parsed from one string per month (the database builds it) add up
    to exactly the arrays of the row-by-row reading: several sources, an area
    without population (counted at its town), an unknown item (ignored)."""
    from civicgrid.peace_index.inputs import (
        _packed_rows,
        _plain_rows,
        load_areas,
        own_counts,
    )
    from civicgrid.peace_index.models import CountImport, IndexKind, MonthlyCount
    from civicgrid.regions.models import Region

    Region.objects.create(
        code="990101001009",
        name="空村",
        level="village",
        parent=tree["990101001"],
        region_code="990101001009",
        city_code="9901",
        population=0,
    )
    put_counts("2026-03", {"990101001001": 3, "990102001002": 5})
    put_counts("2026-03", {"990101001001": 2, "990101001003": 11}, item="P01")
    put_counts("2025-03", {"990102001001": 7}, item="T01")
    batch = CountImport.objects.create(kind=IndexKind.PEACE, source="x")
    for code, item in (("990101001009", "C01"), ("990101001002", "ZZ9")):
        MonthlyCount.objects.create(
            kind=IndexKind.PEACE,
            month="2026-03",
            region_code=code,
            city_code="9901",
            indicator_code=item,
            source="x",
            count=4,
            batch=batch,
        )
    areas, _pks, _notes = load_areas("9901")
    items = ["C01", "C02", "P01", "T01"]
    args = (IndexKind.PEACE, "9901", ["2026-03", "2025-03", "2024-03"], areas, items)
    packed = _packed_rows(*args)
    assert packed is not None and sorted(packed) == ["2025-03", "2026-03"]
    fast, plain = (
        own_counts(packed, areas, items),
        own_counts(_plain_rows(*args), areas, items),
    )
    assert sorted(fast) == sorted(plain) == ["2025-03", "2026-03"]
    for month in fast:
        assert fast[month].tobytes() == plain[month].tobytes()
    town = areas.codes.index("990101001")
    assert fast["2026-03"][town].tolist() == [4, 0, 0, 0]  # the empty village's
    assert fast["2026-03"].sum() == 3 + 5 + 2 + 11 + 4  # ZZ9 is not an item
    # an area code that is not a plain number: the rows are read one by one
    MonthlyCount.objects.create(
        kind=IndexKind.PEACE,
        month="2025-03",
        region_code="99010x",
        city_code="9901",
        indicator_code="C01",
        source="x",
        count=1,
        batch=batch,
    )
    assert _packed_rows(*args) is None
    plain = own_counts(_plain_rows(*args), areas, items)
    assert plain["2025-03"][0].tolist() == [1, 0, 0, 0]  # at its nearest area, 9901


def test_top_drivers_are_the_head_of_a_stable_sort() -> None:
    """The three largest excesses found one by one are the first three of the
    stable descending sort the first version used (ties: the lower item)."""
    areas, own, own_ly = random_city(3)
    depth = [len(c) for c in areas.codes]
    method = calc.Method(weights=np.array([1.0, 1.0, 2.0, 2.0, 1.0, 3.0, 1.0]))
    f = calc.compute(areas, calc.rollup(areas.parent, depth, own), method, None)
    order, excess = calc.drivers(f, method.weights)
    full = method.weights * (f.eb_item - f.level_item_rate) * calc.PER
    ref = np.argsort(-full, axis=1, kind="stable")[:, :3]
    assert np.array_equal(order, ref)
    assert excess.tobytes() == np.take_along_axis(full, ref, axis=1).tobytes()

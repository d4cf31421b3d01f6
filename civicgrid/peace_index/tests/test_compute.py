"""The arithmetic of docs/peace-index.md, checked against values worked by hand."""

import numpy as np
import pytest

from civicgrid.peace_index import compute as calc
from civicgrid.peace_index.models import AreaResult, IndexKind
from civicgrid.peace_index.selectors import explain
from civicgrid.peace_index.services import area_items, month_compute
from civicgrid.peace_index.tests.conftest import CITY, MARCH, MONTH

approx = pytest.approx


def test_marshall_shrinks_a_small_village_toward_its_siblings() -> None:
    """Three siblings of 300, 2,700 and 7,000 residents with 3, 9 and 14 cases:
    m = 26/10,000 = 0.0026; s² = (300·0.0074² + 2700·0.000733…² + 7000·0.0006²)
    / 10,000 = 2.04e-6; n̄ = 3,333.3; A = s² − m/n̄ = 1.26e-6; C_i = A/(A + m/n_i)
    = 0.12693, 0.56681, 0.77233; θ_i = m + C_i (r_i − m)."""
    y = np.array([[3.0], [9.0], [14.0]])
    n = np.array([300.0, 2700.0, 7000.0])
    theta = calc.marshall(y, n, np.array([0, 0, 0]))[:, 0] * 10_000
    # the village of 300 moves from 100 to 35.4 per 10,000, not to the worst place
    assert theta == approx([35.392898, 30.156611, 21.366027], rel=1e-6)


def test_marshall_leaves_a_lone_area_and_equal_siblings_alone() -> None:
    """A group of one keeps its own rate; siblings with equal rates get that rate."""
    y = np.array([[7.0], [5.0], [5.0]])
    n = np.array([1000.0, 5000.0, 5000.0])
    theta = calc.marshall(y, n, np.array([0, 1, 1]))[:, 0]
    assert theta == approx([0.007, 0.001, 0.001])


def test_rollup_adds_children_to_every_ancestor() -> None:
    """A village's cases count for its town, county and city."""
    parent = np.array([-1, 0, 1, 2])
    own = np.array([[0.0], [1.0], [2.0], [4.0]])
    assert calc.rollup(parent, [4, 6, 9, 12], own)[:, 0].tolist() == [7, 7, 6, 4]


def test_governance_compares_the_change_with_the_same_class() -> None:
    """Three towns of 10,000, each alone under its county (so θ = r): last year 20,
    10, 10 cases, now 10, 10, 15. Changes −50 %, 0 %, +50 %; the urban mean is
    −25 %, so G = 50 + 100(−0.25 + 0.5) = 75 and 50 + 100(−0.25 − 0) = 25; the
    rural town is alone in its class: 50. Security: R̄ = 35/30,000·10⁴ = 11.667,
    S = 100 R̄/(R̄ + θ) = 53.846, 53.846, 43.75. Index = 0.6 S + 0.4 G."""
    areas = calc.Areas(
        codes=["9901", "990101", "990102", "990103", "990101001", "990102001"]
        + ["990103001"],
        levels=["city", "county", "county", "county", "town", "town", "town"],
        parent=np.array([-1, 0, 0, 0, 1, 2, 3]),
        population=np.array([30000.0, 10000, 10000, 10000, 10000, 10000, 10000]),
        area_class=["mixed", "urban", "urban", "rural", "urban", "urban", "rural"],
    )
    own_now = np.array([[0.0], [0], [0], [0], [10], [10], [15]])
    own_before = np.array([[0.0], [0], [0], [0], [20], [10], [10]])
    depth = [len(c) for c in areas.codes]
    f = calc.compute(
        areas,
        calc.rollup(areas.parent, depth, own_now),
        calc.Method(weights=np.array([1.0])),
        calc.rollup(areas.parent, depth, own_before),
    )
    towns = slice(4, 7)
    assert f.yoy_change[towns] == approx([-0.5, 0.0, 0.5])
    assert f.class_change[towns] == approx([-0.25, -0.25, 0.5])
    assert f.governance[towns] == approx([75.0, 25.0, 50.0])
    assert f.security[towns] == approx([53.846154, 53.846154, 43.75])
    assert f.index[towns] == approx([62.307692, 42.307692, 46.25])
    assert f.rank[towns].tolist() == [1, 3, 2]


def test_ranks_share_ties_and_skip() -> None:
    """Competition ranking, highest first: 58.6, 58.6, 47.4 → 1, 1, 3."""
    assert calc._ranks(np.array([58.6, 47.4, 58.6])).tolist() == [1, 3, 1]


@pytest.mark.parametrize(
    ("before", "now", "listed"),
    [(100, 71, True), (100, 70, False), (100, 100, True), (0, 0, False)],
)
def test_three_month_rule_boundary(before: int, now: int, listed: bool) -> None:
    """Warned 3 months in a row: a 29 % fall is listed, a 30 % fall is not."""
    assert calc.listed_for_rectification(True, before, now) is listed
    assert calc.listed_for_rectification(False, before, now) is False


def test_month_of_the_small_tree(tree, put_counts) -> None:  # type: ignore[no-untyped-def]
    """The fixture's March (C01, weight 5) worked by hand: villages of 甲街道 as in
    the Marshall test; 东村 and 西村 both 10 per 10,000 (equal siblings). Level
    pooled rate R̄ = 5·36/20,000·10⁴ = 90, S = 9,000/(90 + 5θ). No counts a year
    before: G = 50, index = 0.6 S + 20. Counties: y = 26, 10 of 10,000 each,
    A = 4.6e-7, C = 0.71875, θ = 23.75 and 12.25 per 10,000."""
    put_counts(MONTH, MARCH)
    run = month_compute(actor=None, kind=IndexKind.PEACE, city_code=CITY, month=MONTH)
    res = {r.region_code: r for r in AreaResult.objects.filter(run=run)}
    small = res["990101001001"]
    assert small.population == 300 and small.cases == 3
    assert small.raw_rate == approx(500.0)  # 5 × 100 per 10,000
    assert small.eb_rate == approx(5 * 35.392898, rel=1e-6)
    assert small.security == approx(9000 / (90 + 5 * 35.392898), rel=1e-6)
    assert small.governance == 50.0
    assert small.index == approx(0.6 * 9000 / (90 + 5 * 35.392898) + 20, rel=1e-6)
    east = res["990102001001"]
    assert east.eb_rate == approx(50.0) and east.security == approx(9000 / 140)
    villages = sorted(
        (r for r in res.values() if r.level == "village"), key=lambda r: r.region_code
    )
    assert [r.rank for r in villages] == [5, 4, 3, 1, 1]
    # security below 40 warns: 小村 (33.7) and 中村 (37.4); 10 % of 5 rounds to none
    assert [r.region_code for r in villages if r.warned] == [
        "990101001001",
        "990101001002",
    ]
    assert res["990101"].eb_rate == approx(5 * 23.75)
    assert res["990102"].eb_rate == approx(5 * 12.25)
    assert res["9901"].eb_rate == approx(90.0) and res["9901"].security == approx(50)
    # the explanation: C01 is what pulled 小村 down, 5·(35.39 − 18) per 10,000
    top = explain(small)[0]
    assert top["code"] == "C01" and top["name"] == "故意杀人" and top["count"] == 3
    assert top["excess"] == approx(5 * (35.392898 - 18), rel=1e-5)
    assert top["eb_rate"] == approx(35.3929, abs=1e-4) and top["raw_rate"] == 100.0
    assert top["level_rate"] == approx(18.0)
    # every item recomputed from the run's inputs: C01 as by hand, the others
    # without cases (their stabilised rate too: no village of the town has any)
    items = area_items(small)
    assert items["C01"] == [3, 100.0, approx(35.3929, abs=1e-4)]
    assert len(items) == 52 and items["C02"] == [0, 0.0, 0.0]


def test_recomputation_is_deterministic(tree, put_counts) -> None:  # type: ignore[no-untyped-def]
    """Computing the same inputs again gives the same digest and identical figures."""
    put_counts(MONTH, MARCH)
    fields = ("region_code", "eb_rate", "security", "governance", "index", "rank")
    first = month_compute(actor=None, kind=IndexKind.PEACE, city_code=CITY, month=MONTH)
    before = list(
        AreaResult.objects.filter(run=first)
        .order_by("region_code")
        .values_list(*fields)
    )
    digest = first.input_digest
    again = month_compute(actor=None, kind=IndexKind.PEACE, city_code=CITY, month=MONTH)
    after = list(
        AreaResult.objects.filter(run=again)
        .order_by("region_code")
        .values_list(*fields)
    )
    assert again.input_digest == digest and after == before


def test_item_figures_are_refused_when_the_inputs_changed(tree, put_counts) -> None:  # type: ignore[no-untyped-def]
    """The per-item figures are recomputed only from the very inputs of the run."""
    from django.core.exceptions import ValidationError

    put_counts(MONTH, MARCH)
    run = month_compute(actor=None, kind=IndexKind.PEACE, city_code=CITY, month=MONTH)
    small = AreaResult.objects.get(run=run, region_code="990101001001")
    assert area_items(small)["C01"][0] == 3
    put_counts(MONTH, {**MARCH, "990101001001": 4})  # re-imported, not recomputed
    with pytest.raises(ValidationError):
        area_items(small)


def test_backfill_gives_the_figures_of_month_by_month(tree, put_counts) -> None:  # type: ignore[no-untyped-def]
    """A back-fill (areas and counts read once for all its months, and the year
    before) computes exactly what computing each month on its own computes:
    same digests, same figures, including the governance value of a month whose
    year-before counts are part of the range."""
    from civicgrid.peace_index.services import months_backfill

    months = ["2025-03", "2026-02", "2026-03"]
    for i, month in enumerate(months):
        put_counts(month, {**MARCH, "990101001003": 14 + 3 * i})
    fields = ("region_code", "eb_rate", "security", "governance", "index", "rank")
    runs = months_backfill(
        actor=None, kind=IndexKind.PEACE, city_code=CITY, months=months
    )
    assert [r.month for r in runs] == months
    together = {
        r.month: (
            r.input_digest,
            list(
                AreaResult.objects.filter(run=r)
                .order_by("region_code")
                .values_list(*fields)
            ),
        )
        for r in runs
    }
    for month in months:
        run = month_compute(
            actor=None, kind=IndexKind.PEACE, city_code=CITY, month=month
        )
        alone = list(
            AreaResult.objects.filter(run=run)
            .order_by("region_code")
            .values_list(*fields)
        )
        assert together[month] == (run.input_digest, alone)
    march = AreaResult.objects.get(month="2026-03", region_code="990101001003")
    assert march.yoy_change is not None  # 2025-03 was in the range and counted

"""The stability warning index (临沂): a second composite on the same machinery,
its public trend chart and its quarterly assessment report."""

import io
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from civicgrid.accounts.models import Role
from civicgrid.peace_index import catalogue
from civicgrid.peace_index.models import AreaResult, IndexKind, MonthRun
from civicgrid.peace_index.selectors import explain
from civicgrid.peace_index.services import month_compute
from civicgrid.peace_index.tests.conftest import CITY, MARCH, MONTH, publish

STABILITY = IndexKind.STABILITY
approx = pytest.approx


@pytest.fixture
def stability(tree, peace_catalogue):  # type: ignore[no-untyped-def]
    return catalogue.catalogue_install_default(actor=None, kind=STABILITY)


def test_the_stability_catalogue_has_its_four_categories(stability) -> None:  # type: ignore[no-untyped-def]
    """Disputes, petitions, mass incidents and high-risk disputes, 14 items."""
    cats = set(stability.indicators.values_list("category", flat=True))
    assert cats == {"dispute", "petition", "mass_incident", "high_risk"}
    assert stability.indicators.count() == 14


def test_stability_month_by_hand_and_apart_from_the_peace_index(  # type: ignore[no-untyped-def]
    stability, put_counts
) -> None:
    """March's counts as land disputes (D03, weight 1): one item, so the security
    value does not depend on the weight and equals the peace test's:
    R̄ = 36/20,000·10⁴ = 18, S = 100·18/(18 + θ) with 小村's θ = 35.392898 per
    10,000 (the Marshall estimate). Peace counts of the same month (all in 乙镇)
    do not enter the stability figures, nor the other way round."""
    put_counts(MONTH, MARCH, item="D03", kind=STABILITY)
    put_counts(MONTH, {"990102001001": 40}, item="C01")
    run = month_compute(actor=None, kind=STABILITY, city_code=CITY, month=MONTH)
    res = {r.region_code: r for r in AreaResult.objects.filter(run=run)}
    small = res["990101001001"]
    assert small.kind == STABILITY and small.cases == 3
    assert small.eb_rate == approx(35.392898, rel=1e-6)
    assert small.security == approx(100 * 18 / (18 + 35.392898), rel=1e-6)
    assert small.index == approx(0.6 * small.security + 0.4 * 50, rel=1e-9)
    assert res["9901"].cases == 36  # not the 40 peace cases
    assert explain(small)[0]["code"] == "D03"
    peace = month_compute(actor=None, kind=IndexKind.PEACE, city_code=CITY, month=MONTH)
    assert AreaResult.objects.get(run=peace, region_code="9901").cases == 40
    assert MonthRun.objects.filter(month=MONTH).count() == 2


def test_public_trend_chart_of_the_stability_index(stability, put_counts) -> None:  # type: ignore[no-untyped-def]
    """Published stability months show on the public page under their own title,
    with the 12-month trend data the chart draws, and in the public API."""
    for month, n in [("2026-01", 2), ("2026-02", 6), ("2026-03", 4)]:
        put_counts(month, {**MARCH, "990101001001": n}, item="D01", kind=STABILITY)
        publish(month, kind=STABILITY)
    page = Client().get("/peace-index/?kind=stability&area=990101001001")
    html = page.content.decode()
    assert page.status_code == 200 and "社会稳定预警指数" in html
    data = html.split('id="pi-trend-data" type="application/json">')[1]
    trend = json.loads(data.split("</script>")[0])
    indexes = list(
        AreaResult.objects.filter(kind=STABILITY, region_code="990101001001")
        .order_by("month")
        .values_list("index", flat=True)
    )
    assert trend["months"] == ["2026-01", "2026-02", "2026-03"]
    assert trend["index"] == [round(v, 2) for v in indexes]
    api = APIClient().get("/api/v1/peace-index/published/990101001001/?kind=stability")
    assert [h["month"] for h in api.json()["history"]] == trend["months"]
    # the peace index has published nothing for this area
    assert (
        APIClient().get("/api/v1/peace-index/published/990101001001/").status_code
        == 404
    )


def test_quarterly_assessment_report(stability, put_counts, make_staff) -> None:  # type: ignore[no-untyped-def]
    """The Q1 report of 甲街道: the quarter's mean index, the villages ranked by
    the mean of their three months, and the trend chart; another town's officer
    gets 404; a malformed quarter is 404."""
    for month, n in [("2026-01", 2), ("2026-02", 6), ("2026-03", 4)]:
        put_counts(month, {**MARCH, "990101001001": n}, item="D01", kind=STABILITY)
        publish(month, kind=STABILITY)
    api = APIClient()
    api.force_authenticate(make_staff("pi_town", Role.CENTER_STAFF, region="990101001"))
    url = "/api/v1/peace-index/reports/990101001/2026-Q1/?kind=stability"
    response = api.get(url)
    assert response.status_code == 200
    from docx import Document

    doc = Document(io.BytesIO(response.content))
    assert "季度考核报告" in doc.paragraphs[0].text
    town = AreaResult.objects.filter(kind=STABILITY, region_code="990101001")
    mean = sum(town.values_list("index", flat=True)) / 3
    assert f"{mean:.1f}" in doc.paragraphs[1].text
    table = doc.tables[-1]
    means = {}
    for code in ("990101001001", "990101001002", "990101001003"):
        rows = AreaResult.objects.filter(kind=STABILITY, region_code=code)
        means[rows[0].region.name] = sum(r.index for r in rows) / 3
    expected = sorted(means.items(), key=lambda kv: -kv[1])
    got = [(r.cells[0].text, r.cells[1].text, r.cells[2].text) for r in table.rows[1:]]
    assert got == [
        (name, f"{value:.1f}", f"{rank}/3")
        for rank, (name, value) in enumerate(expected, start=1)
    ]
    assert doc.inline_shapes  # the trend chart
    other = APIClient()
    other.force_authenticate(make_staff("pi_o", Role.CENTER_STAFF, region="990102001"))
    assert other.get(url).status_code == 404
    assert api.get(url.replace("2026-Q1", "2026-Q5")).status_code == 404

"""Imports, publication and freezing, the 3-month rule, scope, pages and reports."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from openpyxl import Workbook
from rest_framework.test import APIClient

from civicgrid.accounts.models import Role
from civicgrid.core.reports import ImportRejected
from civicgrid.peace_index import catalogue, selectors
from civicgrid.peace_index.imports import counts_import
from civicgrid.peace_index.models import (
    IndexKind,
    MonthlyCount,
    Notice,
    NoticeKind,
    Rectification,
)
from civicgrid.peace_index.services import month_compute, run_publish, run_review
from civicgrid.peace_index.tests.conftest import CITY, MARCH, MONTH

PEACE = IndexKind.PEACE


def publish(month: str) -> None:
    run = month_compute(actor=None, kind=PEACE, city_code=CITY, month=month)
    run_publish(actor=None, run=run_review(actor=None, run=run))


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(("区划代码,月份,指标代码,数量", *lines)) + "\n").encode()


def test_bad_rows_are_reported_by_line_and_nothing_is_written(put_counts) -> None:  # type: ignore[no-untyped-def]
    """Unknown area, unknown item, negative count, bad month and a published month
    are each reported with their line; the good rows are not written either."""
    put_counts("2026-01", MARCH)
    publish("2026-01")
    before = MonthlyCount.objects.count()
    content = csv_bytes(
        "990101001001,2026-03,C01,2",  # line 2: good
        "990101009001,2026-03,C01,2",  # 3: unknown area
        "990101001001,2026-03,Z99,2",  # 4: unknown item
        "990101001002,2026-03,C02,-1",  # 5: negative
        "990101001002,2026-13,C02,1",  # 6: bad month
        "990101001002,2026-01,C02,1",  # 7: published
    )
    with pytest.raises(ImportRejected) as exc:
        counts_import(
            actor=None,
            kind=PEACE,
            content=content,
            file_name="police.csv",
            source="police",
            scope=[""],
        )
    assert [e.line for e in exc.value.report.errors] == [3, 4, 5, 6, 7]
    assert "2026-01" in exc.value.report.errors[-1].reason
    assert MonthlyCount.objects.count() == before


def test_excel_import_replaces_the_month_of_its_source(tree, peace_catalogue) -> None:  # type: ignore[no-untyped-def]
    """An .xlsx in the police shape is imported; importing the month again replaces
    that source's rows, and a town officer may only import inside the town."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["area_code", "month", "item_code", "count"])
    sheet.append(["990101001001", "2026-03", "C01", 3])
    sheet.append(["990101001002", "202603", "C13", 4])
    out = io.BytesIO()
    book.save(out)
    report = counts_import(
        actor=None,
        kind=PEACE,
        content=out.getvalue(),
        file_name="jingqing.xlsx",
        source="police",
        scope=[""],
    )
    assert report.created == 2
    again = counts_import(
        actor=None,
        kind=PEACE,
        content=csv_bytes("990101001001,2026-03,C01,5"),
        file_name="again.csv",
        source="police",
        scope=["990101001"],
    )
    assert again.updated == 2 and again.created == 1
    assert list(MonthlyCount.objects.values_list("region_code", "count")) == [
        ("990101001", 5)
    ] or list(MonthlyCount.objects.values_list("count", flat=True)) == [5]
    with pytest.raises(ImportRejected) as exc:
        counts_import(
            actor=None,
            kind=PEACE,
            content=csv_bytes("990102001001,2026-03,C01,1"),
            file_name="other.csv",
            source="police",
            scope=["990101001"],
        )
    assert "outside your scope" in exc.value.report.errors[0].reason or (
        exc.value.report.errors[0].line == 2
    )


def test_a_published_month_is_frozen(put_counts, peace_catalogue) -> None:  # type: ignore[no-untyped-def]
    """Published: it cannot be recomputed, and its catalogue version cannot change."""
    put_counts(MONTH, MARCH)
    publish(MONTH)
    with pytest.raises(ValidationError):
        month_compute(actor=None, kind=PEACE, city_code=CITY, month=MONTH)
    assert catalogue.version_in_use(peace_catalogue)
    with pytest.raises(ValidationError):
        catalogue.indicator_update(
            actor=None, indicator=peace_catalogue.indicators.first(), weight=9
        )
    draft = catalogue.catalogue_version_copy(actor=None, version=peace_catalogue)
    catalogue.indicator_update(
        actor=None, indicator=draft.indicators.get(code="C01"), weight=9
    )
    catalogue.catalogue_version_activate(actor=None, version=draft)
    assert peace_catalogue.indicators.get(code="C01").weight == 5.0


def test_three_months_warned_and_29_percent_fall_is_listed(put_counts) -> None:  # type: ignore[no-untyped-def]
    """Every area warned (threshold 101) three months in a row: 小村 falls 100 → 71
    (29 %) and is listed; 大社区 falls 100 → 70 (30 %) and is not. Staying listed
    the next month escalates to the town's center."""
    active = catalogue.active_version(PEACE)
    assert active is not None
    version = catalogue.catalogue_version_copy(actor=None, version=active)
    catalogue.catalogue_version_update_rules(
        actor=None, version=version, warn_security_below=101.0
    )
    catalogue.catalogue_version_activate(actor=None, version=version)
    steady = {"990101001002": 10, "990102001001": 10, "990102001002": 10}
    for month, small, big in [
        ("2026-01", 100, 100),
        ("2026-02", 100, 100),
        ("2026-03", 71, 70),
    ]:
        put_counts(month, {"990101001001": small, "990101001003": big, **steady})
        publish(month)
    listed = set(Rectification.objects.values_list("region_code", flat=True))
    assert "990101001001" in listed and "990101001003" not in listed
    assert Notice.objects.filter(
        kind=NoticeKind.RECTIFICATION, region_code="990101001001"
    ).exists()
    put_counts("2026-04", {"990101001001": 70, "990101001003": 70, **steady})
    publish("2026-04")
    rect = Rectification.objects.get(region_code="990101001001")
    assert rect.months_listed == 2 and rect.escalation_level == 1
    assert Notice.objects.filter(
        kind=NoticeKind.ESCALATION, region_code="990101001"
    ).exists()


def test_town_officer_sees_its_own_areas(put_counts, make_staff) -> None:  # type: ignore[no-untyped-def]
    """Results are scoped: 甲街道's officer sees 甲街道 and its villages only."""
    put_counts(MONTH, MARCH)
    month_compute(actor=None, kind=PEACE, city_code=CITY, month=MONTH)
    codes = set(
        selectors.results_visible(["990101001"]).values_list("region_code", flat=True)
    )
    assert codes == {"990101001", "990101001001", "990101001002", "990101001003"}


def test_public_page_and_api_show_only_published_months(put_counts) -> None:  # type: ignore[no-untyped-def]
    """Computed but unpublished figures stay hidden; once published, the page shows
    the index, rank and trend chart from our own static files (no CDN)."""
    put_counts("2026-02", MARCH)
    put_counts(MONTH, MARCH)
    publish("2026-02")
    month_compute(actor=None, kind=PEACE, city_code=CITY, month=MONTH)
    api = APIClient().get("/api/v1/peace-index/published/990101001/")
    assert api.status_code == 200
    body = api.json()
    assert [h["month"] for h in body["history"]] == ["2026-02"]
    assert {c["region_code"] for c in body["children"]} == {
        "990101001001",
        "990101001002",
        "990101001003",
    }
    small = next(c for c in body["children"] if c["region_code"] == "990101001001")
    assert small["drivers"][0]["code"] == "C01"  # named from the run's catalogue
    assert (
        small["drivers"][0]["name"] == "故意杀人" and small["drivers"][0]["count"] == 3
    )
    page = Client().get("/peace-index/?area=990101001").content.decode()
    assert "甲街道" in page and "平安指数" in page and "2026-02" in page
    small_page = Client().get("/peace-index/?area=990101001001").content.decode()
    assert "故意杀人" in small_page  # the explanation next to the figures
    assert "/static/vendor/echarts/echarts.min.js" in page and "cdn" not in page
    assert "2026-03" not in page


def test_dashboard_and_report_for_staff(put_counts, make_staff, tree) -> None:  # type: ignore[no-untyped-def]
    """The dashboard map needs a staff login; the map API and the Word report serve
    the town's figures to its officer, and the report lands in its inbox."""
    put_counts(MONTH, MARCH)
    publish(MONTH)
    assert Client().get("/peace-index/dashboard/").status_code == 302
    user = make_staff("pi_town", Role.CENTER_STAFF, region="990101001")
    web = Client()
    web.force_login(user)
    page = web.get("/peace-index/dashboard/").content.decode()
    assert "echarts.min.js" in page and 'data-start="990101001"' in page
    api = APIClient()
    api.force_authenticate(user)
    response = api.get(f"/api/v1/peace-index/reports/990101001/{MONTH}/")
    assert response.status_code == 200
    assert response.content[:2] == b"PK"  # a .docx is a zip
    from docx import Document

    doc = Document(io.BytesIO(response.content))
    assert len(doc.tables) >= 2 and doc.inline_shapes
    assert "甲街道" in doc.paragraphs[0].text
    assert Notice.objects.filter(
        kind=NoticeKind.REPORT, region_code="990101001"
    ).exists()
    other = api.get(f"/api/v1/peace-index/reports/990102001/{MONTH}/")
    assert other.status_code == 404


def test_a_published_backfill_lists_and_escalates_as_month_by_month(put_counts) -> None:  # type: ignore[no-untyped-def]
    """A back-fill keeps each published month's warned areas for the next two
    (instead of reading them back): the listings, escalations and notices are
    those of publishing the months one by one."""
    from civicgrid.peace_index.models import MonthRun
    from civicgrid.peace_index.services import months_backfill
    from civicgrid.peace_index.tests.conftest import warn_everyone

    warn_everyone()
    steady = {"990101001002": 10, "990102001001": 10, "990102001002": 10}
    months = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    for month, small in zip(months, [100, 100, 71, 70, 90], strict=True):
        put_counts(month, {"990101001001": small, "990101001003": 100, **steady})

    def state() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        rects = Rectification.objects.order_by("region_code").values_list(
            "region_code", "listed_month", "months_listed", "escalation_level"
        )
        fields = ("month", "kind", "region_code", "title", "body")  # all: no ties
        notices = Notice.objects.order_by(*fields).values_list(*fields)
        return list(rects), list(notices)

    months_backfill(actor=None, kind=PEACE, city_code=CITY, months=months, publish=True)
    together = state()
    assert ("990101001001", "2026-03", 3, 2) in together[0]  # listed, escalated twice
    Rectification.objects.all().delete()
    Notice.objects.all().delete()
    MonthRun.objects.all().delete()
    for month in months:
        publish(month)
    assert state() == together

"""The monthly job: enqueued on the database backend and run by its worker, it
computes the previous month and delivers each staffed center its Word report."""

import io
import signal
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django_tasks import TaskResultStatus
from rest_framework.test import APIClient

from civicgrid.accounts.models import Role
from civicgrid.events.models import Notification
from civicgrid.peace_index.models import (
    IndexKind,
    MonthRun,
    Notice,
    NoticeKind,
    Report,
    RunStatus,
)
from civicgrid.peace_index.tasks import compute_previous_month
from civicgrid.peace_index.tests.conftest import CITY, MARCH, publish

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def keep_signals() -> Iterator[None]:
    """db_worker installs its own SIGINT/SIGTERM handlers: give pytest its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_the_job_computes_the_previous_month_and_delivers_reports(  # type: ignore[no-untyped-def]
    put_counts, make_staff, keep_signals
) -> None:
    """On 1 April the worker computes March of the city with counts (the stability
    index has none: not computed), leaves a published February alone, and puts
    March's report in the inbox of 甲街道's center (the only staffed center)."""
    town = make_staff("pi_town", Role.CENTER_STAFF, region="990101001")
    other = make_staff("pi_other", Role.CENTER_STAFF, region="990102001")
    put_counts("2026-02", MARCH)
    publish("2026-02")
    put_counts("2026-03", MARCH)
    with time_machine.travel(datetime(2026, 4, 1, 2, 5, tzinfo=SHANGHAI), tick=False):
        result = compute_previous_month.enqueue()
        if connection.vendor == "sqlite":  # the real worker
            call_command(
                "db_worker", "--batch", "--no-startup-delay", "--no-reload", "-v0"
            )
            result.refresh()
            assert result.status == TaskResultStatus.SUCCESSFUL
            value = result.return_value
        else:  # the worker closes the connection: the test's transaction would go
            assert result.status == TaskResultStatus.READY
            value = compute_previous_month.call()
    assert value == {
        "month": "2026-03",
        "runs": [["peace", CITY, "computed"]],
        "reports": 2,  # 甲街道 and 乙镇 have a staffed center
    }
    run = MonthRun.objects.get(kind=IndexKind.PEACE, city_code=CITY, month="2026-03")
    assert run.status == RunStatus.COMPUTED
    assert not MonthRun.objects.filter(kind=IndexKind.STABILITY).exists()
    assert set(Report.objects.values_list("region_code", "period")) == {
        ("990101001", "2026-03"),
        ("990102001", "2026-03"),
    }
    assert Notice.objects.filter(
        kind=NoticeKind.REPORT, region_code="990101001", month="2026-03"
    ).exists()
    texts = list(Notification.objects.filter(user=town).values_list("text", flat=True))
    assert any("甲街道" in t and "2026-03" in t for t in texts), texts

    # the reports are listed and downloaded within the caller's scope only
    api = APIClient()
    api.force_authenticate(town)
    listed = api.get("/api/v1/peace-index/reports/").json()
    assert [(r["region_code"], r["period"]) for r in listed] == [
        ("990101001", "2026-03")
    ]
    response = api.get(listed[0]["url"])
    assert response.status_code == 200 and response.content[:2] == b"PK"
    from docx import Document

    doc = Document(io.BytesIO(response.content))
    assert any("尚未发布" in p.text for p in doc.paragraphs)  # computed, not published
    api.force_authenticate(other)
    assert [
        r["region_code"] for r in api.get("/api/v1/peace-index/reports/").json()
    ] == ["990102001"]
    assert api.get(listed[0]["url"]).status_code == 404


def test_running_the_job_again_leaves_a_published_month_alone(put_counts) -> None:  # type: ignore[no-untyped-def]
    """Idempotent: once March is published, the job of 1 April changes nothing."""
    put_counts("2026-03", MARCH)
    publish("2026-03")
    digest = MonthRun.objects.get(month="2026-03").input_digest
    with time_machine.travel(datetime(2026, 4, 1, 2, 5, tzinfo=SHANGHAI), tick=False):
        out = compute_previous_month.call()
    assert out["runs"] == [["peace", CITY, "published"]]
    run = MonthRun.objects.get(month="2026-03")
    assert run.status == RunStatus.PUBLISHED and run.input_digest == digest


def test_the_command_back_fills_a_range(put_counts) -> None:  # type: ignore[no-untyped-def]
    """`compute_peace_index --from 2026-01 --month 2026-03 --city 9901` computes
    the three months in order; a published month in the range is left alone."""
    from io import StringIO

    from django.core.management import call_command

    for month in ("2026-01", "2026-02", "2026-03"):
        put_counts(month, MARCH)
    publish("2026-02")
    out = StringIO()
    call_command(
        "compute_peace_index",
        "--from",
        "2026-01",
        "--month",
        "2026-03",
        "--city",
        CITY,
        "--workers",
        "2",
        stdout=out,
    )
    assert "2 months computed" in out.getvalue()
    assert dict(MonthRun.objects.values_list("month", "status")) == {
        "2026-01": "computed",
        "2026-02": "published",
        "2026-03": "computed",
    }


@pytest.mark.django_db
def test_the_cities_of_the_job_come_largest_first() -> None:
    """Spread over workers, the cities with most areas start first."""
    from civicgrid.peace_index.tasks import city_codes
    from civicgrid.regions.models import Region

    codes = city_codes()
    cities = Region.objects.filter(level="city")
    assert sorted(codes) == sorted(cities.values_list("region_code", flat=True))
    sizes = [Region.objects.filter(city_code=c).count() for c in codes]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]

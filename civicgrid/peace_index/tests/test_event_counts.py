"""Counts derived from events (S2): a matter's peace-item code (PI-xx) or its own
code maps it to an item; the month is local; rejected and duplicate events do not
count; a published month is refused."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from civicgrid.accounts import services as accounts
from civicgrid.core.reports import ImportRejected
from civicgrid.events.models import Event, Matter
from civicgrid.events.services import event_report
from civicgrid.peace_index import catalogue
from civicgrid.peace_index.imports import counts_from_events
from civicgrid.peace_index.models import IndexKind, MonthlyCount, MonthRun, RunStatus
from civicgrid.regions.models import Grid

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZIBO = "3703"


def report_at(when: datetime, matter_code: str, n: int = 0) -> Event:
    """An event of the matter in the first demo grid of 车站街道, at ``when``."""
    grid = Grid.objects.filter(code__startswith="370303001").order_by("code")[n]
    p = grid.geometry.representative_point()
    citizen = accounts.user_create(
        actor=None, username=f"c{when:%m%d%H%M}{matter_code}{n}", password="x-Pass#123"
    )
    with time_machine.travel(when, tick=False):
        event, created = event_report(
            actor=citizen,
            source="citizen_web",
            title=f"{matter_code} 第{n}起",
            description="现场情况见照片",
            lon=p.x,
            lat=p.y,
            matter=Matter.objects.get(code=matter_code),
        )
    assert created
    return event


@pytest.mark.django_db
def test_events_of_the_month_count_for_their_items() -> None:
    """May (Shanghai time): two fights (ZA01002 → P01 by its own code, not also
    P09 of its group PI-02), a school-area hazard (PI-02 → P09), a fire (PI-06 →
    S01); one more fight rejected, one merged as a duplicate, one at 00:30 on
    1 June (16:30 UTC on 31 May: June's). The stability index takes the
    land-acquisition dispute (JF02005 → D06)."""
    catalogue.catalogue_install_default(actor=None, kind=IndexKind.PEACE)
    catalogue.catalogue_install_default(actor=None, kind=IndexKind.STABILITY)
    may = datetime(2026, 5, 10, 10, 0, tzinfo=SHANGHAI)
    fights = [report_at(may, "ZA01002", n) for n in range(4)]
    report_at(may, "ZA03001")
    report_at(may, "AQ01005")
    report_at(may, "JF02005")
    report_at(datetime(2026, 6, 1, 0, 30, tzinfo=SHANGHAI), "ZA01002", 5)
    Event.objects.filter(pk=fights[2].pk).update(state="rejected")
    Event.objects.filter(pk=fights[3].pk).update(duplicate_of=fights[0])
    village = fights[0].region_code[:12]

    counts_from_events(
        actor=None, kind=IndexKind.PEACE, city_code=ZIBO, month="2026-05"
    )
    rows = set(
        MonthlyCount.objects.filter(kind=IndexKind.PEACE, month="2026-05").values_list(
            "region_code", "indicator_code", "count", "source"
        )
    )
    assert {(item, n) for _c, item, n, _s in rows} == {
        ("P01", 2),
        ("P09", 1),
        ("S01", 1),
    }
    assert {code for code, *_rest in rows} == {village}
    assert {s for *_rest, s in rows} == {"events"}
    counts_from_events(
        actor=None, kind=IndexKind.STABILITY, city_code=ZIBO, month="2026-05"
    )
    assert list(
        MonthlyCount.objects.filter(kind=IndexKind.STABILITY).values_list(
            "indicator_code", "count"
        )
    ) == [("D06", 1)]

    # derived again after a fight is rejected: the month is replaced, not added to
    Event.objects.filter(pk=fights[1].pk).update(state="rejected")
    counts_from_events(
        actor=None, kind=IndexKind.PEACE, city_code=ZIBO, month="2026-05"
    )
    assert (
        MonthlyCount.objects.get(
            kind=IndexKind.PEACE, month="2026-05", indicator_code="P01"
        ).count
        == 1
    )
    counts_from_events(
        actor=None, kind=IndexKind.PEACE, city_code=ZIBO, month="2026-06"
    )
    assert MonthlyCount.objects.get(month="2026-06").indicator_code == "P01"


@pytest.mark.django_db
def test_a_published_month_takes_no_event_counts() -> None:
    version = catalogue.catalogue_install_default(actor=None, kind=IndexKind.PEACE)
    MonthRun.objects.create(
        kind=IndexKind.PEACE,
        month="2026-05",
        region_code=ZIBO,
        city_code=ZIBO,
        version=version,
        status=RunStatus.PUBLISHED,
        input_digest="-",
        computed_at=datetime(2026, 6, 1, tzinfo=SHANGHAI),
        computed_by="test",
    )
    with pytest.raises(ImportRejected):
        counts_from_events(
            actor=None, kind=IndexKind.PEACE, city_code=ZIBO, month="2026-05"
        )

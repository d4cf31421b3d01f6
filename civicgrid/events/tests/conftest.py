"""Fixtures for the event loop: the people of 张店区 who take part in it."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role, User
from civicgrid.events.models import Event, Matter, MatterCategory, Source
from civicgrid.events.services import event_report
from civicgrid.regions.models import Grid, Region


@dataclass
class Cast:
    town: User
    county: User
    city: User
    grid_worker: User
    urban: User  # 张店区城市管理局
    market: User  # 张店区市场监管局
    citizen: User
    urban_dept: Department
    market_dept: Department
    grid: Grid
    small: Matter  # admitted to grid workers, small
    big: Matter


def _matter(code: str, name: str, small: bool) -> Matter:
    cat, _ = MatterCategory.objects.get_or_create(code="T", defaults={"name": "测试"})
    limits = {
        s: {"sign_for": 2, "handle": 24, "verify": 12, "return_visit": 24}
        for s in ("normal", "urgent", "major")
    }
    return Matter.objects.create(
        code=code,
        name=name,
        category=cat,
        keywords=name,
        time_limits=limits,
        admitted_to_grid=small,
        small_in_grid=small,
        town_department="urban_management",
        county_department="urban_management",
        city_department="urban_management",
    )


@pytest.fixture
def cast(db: Any, make_staff: Callable[..., User]) -> Cast:
    zhangdian = Region.objects.get(region_code="370303")
    urban = accounts.department_create(
        actor=None,
        name="张店区城市管理局",
        kind=Department.Kind.URBAN_MANAGEMENT,
        region=zhangdian,
    )
    market = accounts.department_create(
        actor=None,
        name="张店区市场监管局",
        kind=Department.Kind.MARKET,
        region=zhangdian,
    )
    grid = (
        Grid.objects.filter(region_code__startswith="370303001")
        .order_by("code")
        .first()
    )
    assert grid is not None
    return Cast(
        town=make_staff("e_town", Role.CENTER_STAFF, region="370303001"),
        county=make_staff("e_county", Role.CENTER_STAFF, region="370303"),
        city=make_staff("e_city", Role.CENTER_STAFF, region="3703"),
        grid_worker=make_staff("e_grid", Role.GRID_WORKER, grid=grid),
        urban=make_staff("e_urban", Role.DEPARTMENT_STAFF, department=urban),
        market=make_staff("e_market", Role.DEPARTMENT_STAFF, department=market),
        citizen=accounts.user_create(actor=None, username="e_citizen", password=None),
        urban_dept=urban,
        market_dept=market,
        grid=grid,
        small=_matter("T-SMALL", "占道经营", True),
        big=_matter("T-BIG", "燃气泄漏", False),
    )


@pytest.fixture
def report(cast: Cast) -> Callable[..., Event]:
    def make(matter: Matter | None = None, **kwargs: Any) -> Event:
        p = cast.grid.geometry.representative_point()
        event, created = event_report(
            actor=kwargs.pop("actor", cast.citizen),
            source=kwargs.pop("source", Source.CITIZEN_WEB),
            title=kwargs.pop("title", "路边有人占道经营"),
            description=kwargs.pop("description", "人行道被摊位占满"),
            lon=p.x,
            lat=p.y,
            matter=matter or cast.small,
            reporter_phone="13912345678",
            **kwargs,
        )
        assert created
        return event

    return make

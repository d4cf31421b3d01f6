"""Fixtures of the exchange: an Open311 client and its key, a matter asking all six
kinds of attribute, a point inside a 张店区 grid, and helpers to move an event."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Role, User
from civicgrid.events.catalogue import catalogue_load_default
from civicgrid.events.models import Event, Matter, Source
from civicgrid.events.services import event_report, workflow_install_shipped
from civicgrid.exchange.models import Datatype, Open311Client, ServiceAttribute
from civicgrid.exchange.open311 import client_issue
from civicgrid.regions.models import Grid, Region

MATTER = "CG01001"  # 占道经营 of the default catalogue

ATTRIBUTES: list[dict[str, Any]] = [
    {"code": "shop", "datatype": Datatype.STRING, "required": True, "order": 1},
    {"code": "stalls", "datatype": Datatype.NUMBER, "required": False, "order": 2},
    {"code": "seen_at", "datatype": Datatype.DATETIME, "required": False, "order": 3},
    {"code": "details", "datatype": Datatype.TEXT, "required": False, "order": 4},
    {
        "code": "blocking",
        "datatype": Datatype.SINGLE,
        "required": True,
        "order": 5,
        "values": [
            {"key": "walk", "name": "人行道"},
            {"key": "road", "name": "车行道"},
        ],
    },
    {
        "code": "goods",
        "datatype": Datatype.MULTI,
        "required": False,
        "order": 6,
        "values": [
            {"key": "food", "name": "食品"},
            {"key": "fruit", "name": "水果"},
            {"key": "other", "name": "其他"},
        ],
    },
]


@pytest.fixture(autouse=True)
def no_lockout_bookkeeping(settings: Any) -> None:
    """``force_login`` has no request address, which the lockout records (axes) cannot
    store on PostgreSQL; sign-in protection is the accounts app's to test."""
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def fresh_rate_buckets() -> None:
    """Every test starts with empty Open311 rate buckets (kept in the cache)."""
    cache.clear()


def ensure_reference_data() -> None:
    """Workflows and catalogue (a flushing live-server test may have emptied them)."""
    workflow_install_shipped()
    catalogue_load_default(actor=None)


def add_attributes(matter: Matter) -> None:
    for a in ATTRIBUTES:
        ServiceAttribute.objects.update_or_create(
            matter=matter,
            code=a["code"],
            defaults={
                "datatype": a["datatype"],
                "required": a["required"],
                "order": a["order"],
                "description": f"问题 {a['code']}",
                "values": a.get("values", []),
            },
        )


@dataclass
class O311:
    client: Open311Client
    key: str
    matter: Matter
    grid: Grid
    lon: float
    lat: float
    center: User


@pytest.fixture
def o311(db: Any, make_staff: Callable[..., User]) -> O311:
    ensure_reference_data()
    matter = Matter.objects.get(code=MATTER)
    add_attributes(matter)
    client, key = client_issue(actor=None, name="test app")
    grid = (
        Grid.objects.filter(region_code__startswith="370303001")
        .order_by("code")
        .first()
    )
    assert grid is not None
    p = grid.geometry.representative_point()
    center = make_staff("o_town", Role.CENTER_STAFF, region="370303001")
    return O311(client, key, matter, grid, float(p.x), float(p.y), center)


def good_form(o: O311, **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "api_key": o.key,
        "service_code": o.matter.code,
        "lat": o.lat,
        "long": o.lon,
        "description": "门口摆摊卖水果，人行道过不去",
        "attribute[shop]": "老王水果店",
        "attribute[blocking]": "walk",
        "attribute[goods][]": ["fruit", "food"],
        "attribute[stalls]": "3",
        "attribute[seen_at]": "2026-11-29T08:15:30+08:00",
        "email": "li@example.cn",
        "phone": "13912345678",
        "first_name": "雷",
        "last_name": "李",
        "device_id": "dev-1",
        "account_id": "acc-1",
    }
    form.update(extra)
    return form


def citizen_event(o: O311, title: str = "路灯不亮") -> Event:
    citizen = accounts.user_create(actor=None, username=f"c_{title}", password=None)
    event, _ = event_report(
        actor=citizen,
        source=Source.CITIZEN_WEB,
        title=title,
        description=f"{title}，请处理",
        lon=o.lon,
        lat=o.lat,
        matter=o.matter,
        reporter_phone="13800000001",
    )
    return event


def region(code: str) -> Region:
    return Region.objects.get(region_code=code)

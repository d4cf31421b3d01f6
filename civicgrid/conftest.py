"""Test fixtures: the real Shandong division tree and 淄博市's demo grids, loaded once
per session, and signed-in clients for every kind of caller."""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role, User
from civicgrid.events.catalogue import catalogue_load_default
from civicgrid.events.services import workflow_install_shipped
from civicgrid.regions.demo_grids import DATA_DIR, DEMO_BOUNDARIES, generate_city_grids
from civicgrid.regions.divisions import import_divisions, import_population
from civicgrid.regions.models import Grid, Region

SHARED_DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
PASSWORD = "Test#Passw0rd"


def clear_rates() -> None:
    """Forget every request counted by the rates (civicgrid.core.ratelimit) and
    this process's cache, as if the callers had come a day later."""
    from django.core.cache import cache

    from civicgrid.core.models import RateCount

    RateCount.objects.all().delete()
    cache.clear()


def shared_data(*parts: str) -> Path:
    """A file of ../shared/data; CI must have it, elsewhere the test is skipped."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            raise FileNotFoundError(path)
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        import_divisions(shared_data("admin_divisions_shandong"), province="37")
        import_population(DATA_DIR / "census2020_shandong.csv")
        generate_city_grids("3703", DEMO_BOUNDARIES)
        workflow_install_shipped()
        catalogue_load_default(actor=None)


@pytest.fixture(autouse=True)
def fast_passwords(settings):  # type: ignore[no-untyped-def]
    """Fixtures set many passwords; the production hasher would make that minutes.
    (The hasher itself is Django's and needs no testing here.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Caller:
    name: str
    user: User | None
    client: APIClient


def _client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def make_staff(db) -> Callable[..., User]:  # type: ignore[no-untyped-def]
    """A user with one post: make_staff("u", Role.CENTER_STAFF, region="370303001")."""

    def make(
        username: str,
        role: str,
        *,
        region: str | None = None,
        department: Department | None = None,
        grid: Grid | None = None,
    ) -> User:
        user = accounts.user_create(actor=None, username=username, password=PASSWORD)
        accounts.staff_post_create(
            actor=None,
            user=user,
            role=role,
            department=department,
            grid=grid,
            region=Region.objects.get(region_code=region) if region else None,
        )
        return user

    return make


@pytest.fixture
def callers(db, make_staff) -> dict[str, Caller]:  # type: ignore[no-untyped-def]
    """Anonymous, a citizen, two towns of 张店区, the county, a county department,
    a grid worker of town A, the city center and a superuser."""
    zhangdian = Region.objects.get(region_code="370303")
    dept = accounts.department_create(
        actor=None,
        name="张店区城市管理局",
        kind=Department.Kind.URBAN_MANAGEMENT,
        region=zhangdian,
    )
    grid = (
        Grid.objects.filter(region_code__startswith="370303001")
        .order_by("code")
        .first()
    )
    users: dict[str, User | None] = {
        "anonymous": None,
        "citizen": accounts.user_create(
            actor=None, username="citizen", password=PASSWORD
        ),
        "town_a": make_staff("town_a", Role.CENTER_STAFF, region="370303001"),
        "town_b": make_staff("town_b", Role.CENTER_STAFF, region="370303002"),
        "county": make_staff("county", Role.CENTER_STAFF, region="370303"),
        "department": make_staff("dept", Role.DEPARTMENT_STAFF, department=dept),
        "grid_worker": make_staff("gridworker", Role.GRID_WORKER, grid=grid),
        "city": make_staff("city", Role.CENTER_STAFF, region="3703"),
        "superuser": accounts.user_create(
            actor=None, username="root", password=PASSWORD, is_superuser=True
        ),
    }
    return {name: Caller(name, user, _client(user)) for name, user in users.items()}


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (civicgrid/core/tests/browser.py; a
    test module that uses it imports that module first, which skips the module when
    there is no browser outside CI)."""
    from civicgrid.core.tests.browser import launch

    yield from launch(monkeypatch)

"""The event pages in a real browser (Debian's Chromium driven by Playwright) against
a live server: the citizen's map works, a report made by clicking the map can be
followed, and the staff detail page renders its map. Screenshots go to var/screenshots/."""

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
# Screenshots are the run's artifacts (CI keeps var/screenshots).
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} not present", allow_module_level=True)
try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)

from civicgrid.accounts import services as accounts  # noqa: E402
from civicgrid.accounts.models import Role  # noqa: E402
from civicgrid.conftest import PASSWORD  # noqa: E402
from civicgrid.events.models import Event  # noqa: E402
from civicgrid.events.services import workflow_install_shipped  # noqa: E402
from civicgrid.regions.models import Grid, Region  # noqa: E402

# A live server needs committed data, so each test here ends with a flush. The flush
# is kept away from the regions tables the session loaded once (slow to reload), and
# the workflow definitions are installed again when the module is done.
KEEP = {"civicgrid.regions"}
pytestmark = [
    pytest.mark.django_db(
        transaction=True,
        available_apps=[a for a in settings.INSTALLED_APPS if a not in KEEP],
    ),
]


@pytest.fixture(scope="module", autouse=True)
def reinstall_workflows(django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        workflow_install_shipped()


@pytest.fixture
def browser_page(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Page, list[str]]]:
    """A 1366×768 page and the console errors it collects."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is required in CI")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM
    # calls are still plain synchronous ones (Django's documented escape hatch).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        errors: list[str] = []
        page.on(
            "console", lambda m: errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            yield page, errors
        finally:
            browser.close()


def _click_map_at(page: Page, selector: str, lon: float, lat: float) -> None:
    """Zoom the map to a point and click it like a person would."""
    x, y = page.evaluate(
        """([sel, lat, lon]) => {
            const map = document.querySelector(sel).leafletMap;
            map.setView([lat, lon], 16, {animate: false});
            const p = map.latLngToContainerPoint([lat, lon]);
            return [p.x, p.y];
        }""",
        [selector, lat, lon],
    )
    page.locator(selector).click(position={"x": x, "y": y})


def test_a_citizen_reports_on_the_map_and_staff_see_it(
    live_server: Any, browser_page: tuple[Page, list[str]]
) -> None:
    page, errors = browser_page
    grid = Grid.objects.filter(region_code__startswith="370303001").order_by("code")[0]
    point = grid.geometry.representative_point()

    # The report page loads with its map.
    page.goto(f"{live_server.url}/report/")
    page.wait_for_selector("#ev-report-map.leaflet-container")
    assert page.locator("#ev-report-map .leaflet-overlay-pane path").count() > 0
    page.screenshot(path=str(SCREENSHOTS / "civicgrid-report-1366.png"))

    # Report by clicking the map and filling the form.
    _click_map_at(page, "#ev-report-map", point.x, point.y)
    assert abs(float(page.input_value("#id_lon")) - point.x) < 1e-4
    assert abs(float(page.input_value("#id_lat")) - point.y) < 1e-4
    page.fill("#id_title", "楼道堆放杂物")
    page.fill("#id_description", "三单元楼道堆满纸箱，存在消防隐患")
    page.fill("#id_reporter_phone", "13912345678")
    page.click("#ev-send")
    page.wait_for_url(re.compile(r"/report/done/$"))
    code = page.inner_text("#ev-code").strip()
    token = page.inner_text("#ev-token").strip()
    event = Event.objects.get(code=code)
    assert event.tracking_token == token and event.grid_id == grid.pk

    # The tracking page shows it.
    page.click("text=查询本事件进度")
    page.wait_for_selector("text=办理进度")
    assert "楼道堆放杂物" in page.content() and "待受理" in page.content()
    assert "13912345678" not in page.content()

    # A town officer signs in and opens it; the map shows the grid and the point.
    town = Region.objects.get(region_code="370303001")
    officer = accounts.user_create(
        actor=None, username="b_town", password=PASSWORD, display_name="张三"
    )
    accounts.staff_post_create(
        actor=None, user=officer, role=Role.CENTER_STAFF, region=town
    )
    page.goto(f"{live_server.url}/workbench/")
    page.fill("#id_username", "b_town")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=事件工作台")
    page.click(f"text={code}")
    page.wait_for_selector("#ev-map.leaflet-container")
    assert page.locator("#ev-map .leaflet-overlay-pane path").count() >= 2
    assert "139****5678" in page.content() and "13912345678" not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "civicgrid-staff-detail-1366.png"))

    # The accept form works in the browser too.
    page.click("text=受理 >> nth=0")
    page.click("form:has(input[value=accept]) button[type=submit]")
    page.wait_for_selector("text=已受理待处置")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/report/")
    page.wait_for_selector("#ev-report-map.leaflet-container")
    page.screenshot(
        path=str(SCREENSHOTS / "civicgrid-report-phone.png"), full_page=True
    )
    assert errors == []

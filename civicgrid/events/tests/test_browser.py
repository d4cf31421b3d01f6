"""The event pages in a real browser (Debian's Chromium driven by Playwright) against
a live server: the citizen's map works, a report made by clicking the map can be
followed, and the staff detail page renders its map. Screenshots go to var/screenshots/."""

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

# First: it skips this module when there is no browser (outside CI).
from civicgrid.core.tests.browser import LIVE_DATA, SCREENSHOTS, VIEWPORT

# isort: split
from playwright.sync_api import Browser, BrowserContext, Page, expect

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Role
from civicgrid.conftest import PASSWORD
from civicgrid.events.models import Event
from civicgrid.events.services import event_report, workflow_install_shipped
from civicgrid.events.tests.conftest import Cast
from civicgrid.regions.models import Grid, Region

# Each test ends with a flush (LIVE_DATA); the workflow definitions are installed
# again when the module is done.
pytestmark = [LIVE_DATA]


@pytest.fixture(scope="module", autouse=True)
def reinstall_workflows(django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        workflow_install_shipped()


@pytest.fixture(autouse=True)
def workflows(transactional_db: Any) -> None:
    """Each test starts with the shipped workflows (the previous test's flush
    removed them)."""
    workflow_install_shipped()


def watch(page: Page) -> list[str]:
    """The page's console errors and uncaught exceptions."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture
def browser_page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A 1366×768 page and the console errors it collects."""
    page = browser.new_page(viewport=VIEWPORT)
    yield page, watch(page)


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
    take_step(page, "accept")
    page.wait_for_selector("text=已受理待处置")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/report/")
    page.wait_for_selector("#ev-report-map.leaflet-container")
    page.screenshot(
        path=str(SCREENSHOTS / "civicgrid-report-phone.png"), full_page=True
    )
    assert errors == []


# --- the closed loop, the grid worker app and the dashboard -------------------------

PNG_1PX = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00"
    b"\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
OFFLINE_NOISE = (
    "ERR_INTERNET_DISCONNECTED",
    "ERR_CONNECTION_RESET",  # the answer the test loses on purpose
    "Failed to fetch",
)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def signed_in_context(
    browser: Browser, live_server: Any, user: Any, **options: Any
) -> BrowserContext:
    """A browser context with the user's session (force_login: the login page itself
    is tested above, and its rules belong to the accounts app)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        **{"viewport": {"width": 1366, "height": 768}, **options}
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def lose_first_answer(attempts: list[str]) -> Any:
    """A route handler: the server gets every try (and acts on it), but the first
    answer is lost on the way back. The tries' Idempotency-Keys go to `attempts`."""

    def handle(route: Any) -> None:
        attempts.append(route.request.headers.get("idempotency-key", ""))
        response = route.fetch()
        if len(attempts) == 1:
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    return handle


def until_sent_again(page: Page, attempts: list[str], timeout_s: float = 30) -> None:
    """After the lost first try the outbox waits for its periodic sync (every 30 s
    on the app's clock): the page's clock (installed with `context.clock.install()`
    before the page opened) jumps to it instead of the test waiting, as often as it
    takes for the second try (a jump made while the first try is still winding down
    finds the outbox busy, like a real tick would)."""
    end = time.monotonic() + timeout_s
    while len(attempts) < 2:
        if time.monotonic() > end:
            raise AssertionError(f"not tried again: {attempts}")
        if attempts:
            page.clock.run_for(30_000)
        page.wait_for_timeout(50)  # the route handler runs while Playwright waits


def take_step(page: Page, transition: str, fill: dict[str, str] | None = None) -> None:
    """Open a step's form on the event page, fill it and send it."""
    form = page.locator(f"form:has(input[name=transition][value={transition}])")
    details = page.locator(f"details:has(input[name=transition][value={transition}])")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    for selector, value in (fill or {}).items():
        field = form.locator(selector)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_the_closed_loop_through_the_pages(
    live_server: Any, browser: Browser, cast: Cast
) -> None:
    """A citizen reports and gets a code; the center dispatches; the department
    signs for and handles; the grid worker verifies; the citizen rates."""
    point = cast.grid.geometry.representative_point()
    citizen = browser.new_page(viewport={"width": 390, "height": 844})
    errors = watch(citizen)
    citizen.goto(f"{live_server.url}/report/")
    citizen.wait_for_selector("#ev-report-map.leaflet-container")
    _click_map_at(citizen, "#ev-report-map", point.x, point.y)
    citizen.fill("#id_title", "路灯不亮")
    citizen.fill("#id_description", "小区北门路灯连续三晚不亮")
    shot(citizen, "loop-1-citizen-report")
    citizen.click("#ev-send")
    citizen.wait_for_url(re.compile(r"/report/done/$"))
    code = citizen.inner_text("#ev-code").strip()
    token = citizen.inner_text("#ev-token").strip()
    shot(citizen, "loop-2-citizen-code")
    event = Event.objects.get(code=code)

    steps = [
        (cast.town, "accept", {}),
        (
            cast.town,
            "dispatch",
            {"select[name$=lead_department]": str(cast.urban_dept.pk)},
        ),
        (cast.urban, "sign_for", {}),
        (cast.urban, "report_done", {"textarea[name$=result]": "已更换灯泡"}),
        (cast.grid_worker, "verify", {}),
    ]
    for n, (user, transition, fill) in enumerate(steps, start=3):
        context = signed_in_context(browser, live_server, user)
        page = context.new_page()
        errors += watch(page)
        page.goto(f"{live_server.url}/workbench/")
        page.wait_for_selector(f"text={code}")
        shot(page, f"loop-{n}-{transition}-queue")
        page.click(f"text={code} >> nth=0")
        page.wait_for_selector("#ev-map.leaflet-container")
        take_step(page, transition, fill)
        page.wait_for_selector(".ev-msg")
        shot(page, f"loop-{n}-{transition}-done")
        context.close()
    event.refresh_from_db()
    assert event.state == "verified" and event.lead_department == cast.urban_dept

    citizen.goto(f"{live_server.url}/report/track/?code={code}&token={token}")
    citizen.wait_for_selector("text=评价处理结果")
    assert citizen.locator("#ev-peace-link").count() == 1
    shot(citizen, "loop-8-citizen-track")
    citizen.check("input[value=satisfied]")
    citizen.click("#ev-rate-send")
    citizen.wait_for_selector("#ev-rated")
    shot(citizen, "loop-9-citizen-rated")
    event.refresh_from_db()
    assert event.rating == "satisfied" and event.state == "visited"
    assert errors == []


def test_the_grid_app_reports_offline_and_syncs_exactly_once(
    live_server: Any, browser: Browser, cast: Cast
) -> None:
    point = cast.grid.geometry.representative_point()
    context = signed_in_context(
        browser,
        live_server,
        cast.grid_worker,
        viewport={"width": 390, "height": 844},
        geolocation={"longitude": point.x, "latitude": point.y},
        permissions=["geolocation"],
    )
    context.clock.install()  # the outbox's retry timer, moved on by the test
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/app/")
    page.wait_for_selector("#app-map .leaflet-overlay-pane path")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    shot(page, "app-1-online")

    context.set_offline(True)
    page.wait_for_selector("#app-net.app-offline")
    page.fill("#app-title", "井盖破损")
    page.fill("#app-description", "人行道井盖破损，有行人绊倒风险")
    page.click("#app-gps")
    # (expect polls with locators: wait_for_function would need eval, which the
    # pages' Content Security Policy forbids)
    expect(page.locator("#app-lon")).not_to_have_value("")
    page.set_input_files(
        "#app-photos", {"name": "well.png", "mimeType": "image/png", "buffer": PNG_1PX}
    )
    page.click("#app-send")
    page.wait_for_selector("#app-outbox li[data-key]")
    assert page.inner_text("#app-outbox-count") == "1"
    shot(page, "app-2-offline-waiting")
    assert not Event.objects.filter(title="井盖破损").exists()
    key = page.get_attribute("#app-outbox li[data-key]", "data-key")

    # Back online, the first answer is lost on the way (the server made the event):
    # the report stays waiting and is sent again with the same key.
    attempts: list[str] = []
    page.route("**/api/v1/events/", lose_first_answer(attempts))
    context.set_offline(False)
    until_sent_again(page, attempts)
    page.wait_for_selector(".app-sent-item")
    expect(page.locator("#app-outbox li[data-key]")).to_have_count(0)
    shot(page, "app-3-synced")
    assert attempts == [key, key]
    made = Event.objects.filter(title="井盖破损")
    assert made.count() == 1 and made[0].idempotency_key == key
    assert made[0].source == "grid_worker" and made[0].grid_id == cast.grid.pk
    assert made[0].attachments.count() == 1
    page.reload()
    page.wait_for_selector("#app-map .leaflet-container, #app-map.leaflet-container")
    assert page.inner_text("#app-outbox-count") == "0"
    assert Event.objects.filter(title="井盖破损").count() == 1
    assert [e for e in errors if not any(n in e for n in OFFLINE_NOISE)] == []
    context.close()


def test_the_dashboard_renders_its_map_with_data(
    live_server: Any, browser: Browser, cast: Cast
) -> None:
    point = cast.grid.geometry.representative_point()
    for title in ("噪音扰民", "垃圾清运不及时", "违章停车"):
        event_report(
            actor=None,
            source="citizen_web",
            title=title,
            description=title,
            lon=point.x,
            lat=point.y,
            matter=cast.small,
        )
    context = signed_in_context(
        browser, live_server, cast.city, viewport={"width": 1920, "height": 1080}
    )
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/dashboard/?live=2")
    page.wait_for_selector("#db-map canvas")
    value = page.evaluate(
        "document.getElementById('db-map').chart.getOption().series[0].data"
        ".find(d => d.name === '张店区').value"
    )
    assert value == 3
    assert page.inner_text("#db-total") == "3"
    shot(page, "dashboard-1-wall-1920")
    page.select_option("#db-measure", "overdue")
    assert "measure=overdue" in page.url
    # Live counts follow without a reload (htmx polling).
    event_report(
        actor=None,
        source="citizen_web",
        title="新的事件",
        description="新的事件",
        lon=point.x,
        lat=point.y,
        matter=cast.small,
    )
    expect(page.locator("#db-total")).to_have_text("4", timeout=20_000)
    # Drill down to the county: its towns.
    page.evaluate("window.dashboardGo('370303000000')")
    expect(page.locator("#db-area")).to_have_text("张店区")
    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "dashboard-2-county-1366")
    assert errors == []
    context.close()

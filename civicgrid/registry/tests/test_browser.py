"""The grid worker visits a household while offline (Debian's Chromium driven by
Playwright against a live server): the household page opens from the phone's copy,
the visit and an information collection wait in the outbox, and each is sent
exactly once when the network returns, even when the first answer is lost.
Screenshots go to var/screenshots/ like the other browser tests'."""

import time
from typing import Any

# First: it skips this module when there is no browser (outside CI).
from civicgrid.core.tests.browser import LIVE_DATA

# isort: split
from playwright.sync_api import Browser, Page, expect

from civicgrid.events.models import Event
from civicgrid.events.tests.conftest import Cast
from civicgrid.events.tests.test_browser import (  # noqa: F401 (fixtures and helpers)
    OFFLINE_NOISE,
    PNG_1PX,
    lose_first_answer,
    reinstall_workflows,
    shot,
    signed_in_context,
    until_sent_again,
    watch,
    workflows,
)
from civicgrid.registry.models import Collection, Household, Person, Visit
from civicgrid.registry.services import household_collect
from civicgrid.registry.tests.conftest import ID_B
from civicgrid.registry.tests.test_services import FAMILY

pytestmark = [LIVE_DATA]


def _until(page: Page, script: str, timeout_s: float = 20) -> None:
    """Poll a condition in the page (wait_for_function would need eval, which the
    Content Security Policy forbids)."""
    end = time.monotonic() + timeout_s
    while not page.evaluate(script):
        if time.monotonic() > end:
            raise AssertionError(f"never true: {script}")
        page.wait_for_timeout(50)


def test_a_visit_made_offline_is_sent_exactly_once(
    live_server: Any,
    browser: Browser,
    cast: Cast,
) -> None:
    collection, _ = household_collect(
        actor=cast.grid_worker,
        grid=cast.grid,
        fields={"address": "新华小区5号楼1单元202"},
        persons=FAMILY,
    )
    home: Household = collection.household
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
    detail = f"/app/households/{home.pk}/"

    # Online: my households; the service worker keeps the household's page.
    page.goto(f"{live_server.url}/app/households/")
    page.wait_for_selector(f"a[href='{detail}']")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    _until(page, "!!navigator.serviceWorker.controller")
    page.reload()  # now under the worker: the list asks it to keep the pages
    _until(page, f"caches.match('{detail}').then(r => !!r)")
    shot(page, "visit-1-households")

    # Offline: the household page opens from the phone's copy.
    context.set_offline(True)
    page.goto(f"{live_server.url}{detail}")
    page.wait_for_selector("#app-visit")
    page.wait_for_selector("#app-net.app-offline")
    assert "王**" in page.content() and "王建国" not in page.content()
    shot(page, "visit-2-offline-household")

    # A care visit with GPS, a photo and a follow-up event.
    page.select_option("#app-visit-kind", "care")
    page.fill("#app-visit-notes", "老人反映楼道灯坏了，夜间出行不便")
    page.click("#app-visit .app-gps")
    expect(page.locator("#app-visit input[name=lon]")).not_to_have_value("")
    page.set_input_files(
        "#app-visit-photos",
        {"name": "hall.png", "mimeType": "image/png", "buffer": PNG_1PX},
    )
    page.check("#app-visit-follow")
    page.fill("#app-visit-title", "楼道灯损坏")
    page.click("#app-visit-send")
    page.wait_for_selector("#app-outbox li[data-kind=visit]")
    # An information collection: a new member; a wrong ID number is caught first.
    page.fill("#app-collect-name", "李梅")
    page.fill("#app-collect-id", ID_B[:-1] + ("1" if ID_B[-1] != "1" else "2"))
    page.click("#app-collect-send")
    expect(page.locator("#app-collect .app-error")).to_be_visible()
    page.fill("#app-collect-id", ID_B)
    page.select_option("#app-collect-relation", "spouse")
    page.click("#app-collect-send")
    page.wait_for_selector("#app-outbox li[data-kind=collect]")
    assert page.inner_text("#app-outbox-count") == "2"
    shot(page, "visit-3-offline-waiting")
    assert not Visit.objects.exists() and Person.objects.count() == 2
    key = page.get_attribute("#app-outbox li[data-kind=visit]", "data-key")

    # Back online, the visit's first answer is lost on the way (the server made the
    # visit): it stays waiting and is sent again with the same key.
    attempts: list[str] = []
    page.route("**/api/v1/registry/visits/", lose_first_answer(attempts))
    context.set_offline(False)
    until_sent_again(page, attempts)
    expect(page.locator(".app-sent-item")).to_have_count(2)
    expect(page.locator("#app-outbox li[data-key]")).to_have_count(0)
    shot(page, "visit-4-synced")
    assert attempts == [key, key]
    visit = Visit.objects.get()
    assert visit.idempotency_key == key and visit.kind == "care"
    assert visit.photos.count() == 1 and visit.lon is not None
    assert visit.event is not None and Event.objects.count() == 1
    assert visit.event.title == "楼道灯损坏" and visit.event.source == "grid_worker"
    assert Collection.objects.filter(household=home).count() == 2
    assert sorted(p.name for p in Person.objects.filter(household=home)) == sorted(
        ["王建国", "王小明", "李梅"]
    )
    page.reload()
    page.wait_for_selector("#app-visits li")
    assert page.inner_text("#app-outbox-count") == "0"
    assert "楼道灯损坏" not in page.inner_text("#app-outbox")
    # Online, a member's phone number is shown on demand, with a reason.
    page.fill("#app-reveal-reason", "电话联系走访事宜")
    page.locator(".app-reveal").first.click()
    expect(page.locator(".app-phone").first).to_have_text("13812345678")
    shot(page, "visit-5-household-after")
    assert Visit.objects.count() == 1
    assert [e for e in errors if not any(n in e for n in OFFLINE_NOISE)] == []
    context.close()


def test_members_edited_offline_are_sent_in_order_once_online(
    live_server: Any,
    browser: Browser,
    cast: Cast,
) -> None:
    """Two members edited and the address corrected while offline wait in the
    outbox; back online all are sent in order, each made on the version the one
    before leaves (no 409), and the page shows the new (masked) name and address."""
    collection, _ = household_collect(
        actor=cast.grid_worker,
        grid=cast.grid,
        fields={"address": "新华小区6号楼2单元101"},
        persons=FAMILY,
    )
    home: Household = collection.household
    head, child = home.persons.order_by("id")
    context = signed_in_context(
        browser, live_server, cast.grid_worker, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/app/households/{home.pk}/")
    page.wait_for_selector("#app-members")
    context.set_offline(True)
    page.click(f"li[data-person='{head.pk}'] summary")
    form = f"#app-edit-{head.pk}"
    page.fill(f"{form} [name=p_name]", "赵建华")
    page.fill(f"{form} [name=p_phone]", "123")
    page.click(f"{form} .app-primary")
    expect(page.locator(f"{form} .app-error")).to_be_visible()
    page.fill(f"{form} [name=p_phone]", "13900001111")
    page.check(f"{form} [value=veteran]")
    page.click(f"{form} .app-primary")
    page.click(f"li[data-person='{child.pk}'] summary")
    page.check(f"#app-edit-{child.pk} [name=moved_out]")
    page.click(f"#app-edit-{child.pk} .app-primary")
    page.fill("#app-collect-address", "新华小区6号楼2单元102")
    page.click("#app-collect-send")
    expect(page.locator("#app-outbox li[data-kind=collect]")).to_have_count(3)
    shot(page, "member-1-offline-waiting")
    context.set_offline(False)
    expect(page.locator(".app-sent-item")).to_have_count(3, timeout=20_000)
    expect(page.locator("#app-household h2")).to_have_text("新华小区6号楼2单元102")
    expect(page.locator(f"li[data-person='{head.pk}'] .app-member-name")).to_have_text(
        "赵**"
    )
    expect(page.locator(f"li[data-person='{child.pk}']")).to_have_class("app-gone")
    shot(page, "member-2-synced")
    head.refresh_from_db()
    child.refresh_from_db()
    assert head.name == "赵建华" and head.phone == "13900001111"
    assert head.group_list == ["elderly_alone", "veteran"] and not child.active
    home.refresh_from_db()
    assert home.version == 4 and home.collections.count() == 4
    assert home.address == "新华小区6号楼2单元102"
    assert [e for e in errors if not any(n in e for n in OFFLINE_NOISE)] == []
    context.close()

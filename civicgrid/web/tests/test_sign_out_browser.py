"""Signing out of the grid app in Debian's Chromium: the worker is warned in
Chinese of an item still waiting, and after signing out the household pages the
service worker kept are gone while the unsent item stays in the phone's storage."""

from typing import Any

# First: it skips this module when there is no browser (outside CI).
from civicgrid.core.tests.browser import LIVE_DATA

# isort: split
from playwright.sync_api import Browser

from civicgrid.events.tests.conftest import Cast
from civicgrid.events.tests.test_browser import (  # noqa: F401 (fixtures and helpers)
    shot,
    signed_in_context,
)
from civicgrid.registry.services import household_collect
from civicgrid.registry.tests.test_browser import _until

pytestmark = [LIVE_DATA]

OUTBOX_COUNT = """new Promise(ok => { const r = indexedDB.open("civicgrid-app", 1);
  r.onsuccess = () => { const q = r.result.transaction("outbox").objectStore("outbox").count();
  q.onsuccess = () => ok(q.result); }; })"""
APP_PAGES = """caches.keys().then(ns => Promise.all(ns.map(n => caches.open(n)
  .then(c => c.keys())))).then(ls => ls.flat().map(r => new URL(r.url).pathname)
  .filter(p => p.startsWith("/app/")))"""


def test_signing_out_forgets_the_kept_pages_but_not_the_waiting_items(
    live_server: Any,
    browser: Browser,
    cast: Cast,
) -> None:
    collection, _ = household_collect(
        actor=cast.grid_worker, grid=cast.grid, fields={"address": "新华小区1号楼101"}
    )
    detail = f"/app/households/{collection.household.pk}/"
    context = signed_in_context(
        browser, live_server, cast.grid_worker, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/app/households/")
    _until(page, "!!navigator.serviceWorker.controller")
    page.reload()
    _until(page, f"caches.match('{detail}').then(r => !!r)")
    # An item that cannot be sent now (the server does not answer).
    page.route("**/api/v1/registry/visits/", lambda route: route.abort("failed"))
    page.evaluate(
        "window.civicgridOutbox.queue({kind: 'visit', label: '走访',"
        " url: '/api/v1/registry/visits/', json: {notes: 'x'}})"
    )
    _until(page, "document.querySelectorAll('#app-outbox li[data-key]').length == 1")
    assert page.evaluate(APP_PAGES)
    shot(page, "signout-1-waiting")

    messages: list[str] = []

    def accept(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.click("#app-signout button")
    page.wait_for_url("**/workbench/login/")
    shot(page, "signout-2-signed-out")
    assert messages and "还有 1 条记录尚未发送" in messages[0]
    assert page.evaluate(APP_PAGES) == []
    assert page.evaluate(OUTBOX_COUNT) == 1
    context.close()

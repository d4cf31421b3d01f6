"""The bulk page (/exchange/bulk/) in a real browser (Debian's Chromium driven by
Playwright) against a live server: a system administrator downloads the pool of
experts and mediators, edits it in a spreadsheet, uploads it, reads the bad lines
(nothing written), corrects the file and sees the member updated. Screenshots go to
var/screenshots/ (CI keeps them)."""

import io
from pathlib import Path
from typing import Any

# First: it skips this module when there is no browser (outside CI).
from civicgrid.core.tests.browser import LIVE_DATA, SCREENSHOTS, VIEWPORT

# isort: split
from openpyxl import load_workbook
from playwright.sync_api import Browser, FilePayload

from civicgrid.accounts.models import Role
from civicgrid.conftest import PASSWORD
from civicgrid.disputes import services as disputes
from civicgrid.disputes.models import Mediator

# The test ends with a flush (LIVE_DATA).
pytestmark = [LIVE_DATA]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def edit(data: bytes, changes: dict[tuple[str, int], Any], extra: list[Any]) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    for row in ws.iter_rows(min_row=3):
        for (first, column), value in changes.items():
            if row[0].value == first:
                row[column].value = value
    if extra:
        ws.append(extra)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_pool_export_edit_upload_report(
    live_server: Any, make_staff: Any, browser: Browser
) -> None:
    member = disputes.mediator_create(
        actor=None, name="池中人", kind="mediator", regions=["370303"]
    )
    admin = make_staff("bulk_browser_sys", Role.SYSADMIN, region="370303")
    errors: list[str] = []
    page = browser.new_page(viewport=VIEWPORT)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/exchange/bulk/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#bulk-experts")

    # export the pool
    with page.expect_download() as download:
        page.click("#bulk-experts a[href='?export=experts']")
    data = Path(download.value.path()).read_bytes()

    def upload(content: bytes) -> None:
        section = page.locator("#bulk-experts")
        section.locator("input[type=file]").set_input_files(
            files=[FilePayload(name="专家库.xlsx", mimeType=XLSX, buffer=content)]
        )
        section.locator("button[type=submit]").click()
        page.wait_for_selector("#report")

    # edited with a bad row: the line and its reason, nothing written
    bad = edit(
        data,
        {("池中人", 6): "律师", ("池中人", 9): "否"},
        ["新调解员", "judge", "370303", "", "", "", "", "", "", ""],
    )
    upload(bad)
    report = page.inner_text("#report")
    assert "未导入任何数据" in report and "类型必须是以下之一" in report
    assert page.locator("#report tbody tr").count() == 1
    assert page.locator("#report tbody td").first.inner_text() == "4"
    member.refresh_from_db()
    assert member.qualifications == "" and member.available
    page.screenshot(path=str(SCREENSHOTS / "civicgrid-bulk-pool-bad-1366.png"))

    # corrected: the member updated, the report says so
    upload(edit(data, {("池中人", 6): "律师", ("池中人", 9): "否"}, []))
    report = page.inner_text("#report")
    assert "更新 1 条" in report and "第 3 行：已更新" in report, report
    page.screenshot(path=str(SCREENSHOTS / "civicgrid-bulk-pool-ok-1366.png"))
    member = Mediator.objects.get(pk=member.pk)
    assert (member.qualifications, member.available) == ("律师", False)
    assert errors == []

"""A mediator works a case in a real browser (Debian's Chromium driven by Playwright)
against a live server: signs in, opens the case assigned to them, records a
mediation session, the agreement and its signed copy. Screenshots go to
var/screenshots/ (CI keeps them)."""

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

# First: it skips this module when there is no browser (outside CI).
from civicgrid.core.tests.browser import LIVE_DATA, SCREENSHOTS, VIEWPORT

# isort: split
from playwright.sync_api import Browser, FilePayload, Page

from civicgrid.conftest import PASSWORD
from civicgrid.disputes.models import Agreement, Case, MediationSession
from civicgrid.disputes.tests.conftest import act
from civicgrid.events.services import workflow_install_shipped

# Each test ends with a flush (LIVE_DATA); the events workflows the flush removes
# are installed again when the module is done (the disputes one installs itself).
pytestmark = [LIVE_DATA]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module", autouse=True)
def reinstall_workflows(django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        workflow_install_shipped()


@pytest.fixture
def page(browser: Browser) -> Page:
    return browser.new_page(viewport=VIEWPORT)


def step(page: Page, transition: str, fill: dict[str, str]) -> None:
    """Open the step's form on the case page, fill it like a person and send it."""
    form = page.locator(f"form:has(input[name=transition][value={transition}])")
    details = page.locator(f"details:has(input[name=transition][value={transition}])")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    for name, value in fill.items():
        form.locator(f"[name='{transition}-{name}']").fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_a_mediator_records_a_session_and_an_agreement(
    live_server: Any, page: Page, cast: Any, register: Any
) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    case = register()
    act(case, cast.town, "divert", channel="peoples_mediation")
    act(case, cast.town, "assign", mediator=cast.mediator.pk)

    # The mediator signs in and finds the case among theirs.
    page.goto(f"{live_server.url}/workbench/")
    page.fill("#id_username", cast.mediator_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/disputes/")
    page.click(f"text={case.code}")
    page.wait_for_selector("text=调解中")
    assert "相邻通行纠纷" in page.content() and "138****5678" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "civicgrid-dispute-mediator-1366.png"))

    # A session: when, where, who, the minutes.
    held = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    step(
        page,
        "record_session",
        {
            "held_at": held,
            "place": "车站街道调解室",
            "participants": "张三、李四、王调解",
            "minutes": "双方陈述，调解员释法说理，约定下次协商",
        },
    )
    page.wait_for_selector(".ev-messages")
    assert MediationSession.objects.filter(case=case, place="车站街道调解室").exists()

    # The agreement, then its signed copy as a file.
    today = timezone.localdate()
    step(
        page,
        "agree",
        {
            "terms": "李四于十日内清除堆放物，张三不再主张赔偿",
            "signed_on": today.isoformat(),
            "perform_by": (today + timedelta(days=10)).isoformat(),
        },
    )
    page.wait_for_selector("text=已达成协议")
    page.locator("summary", has_text="上传附件").click()
    page.select_option("#att-kind", "signed_copy")
    page.set_input_files(
        "#att-file",
        files=[FilePayload(name="协议.pdf", mimeType="application/pdf", buffer=PDF)],
    )
    page.click("form[action$='/attachments/'] button[type=submit]")
    page.wait_for_selector("text=附件已上传")
    assert page.locator(f"a[href^='/disputes/{case.code}/attachments/']").count() == 1
    page.screenshot(
        path=str(SCREENSHOTS / "civicgrid-dispute-agreement-1366.png"), full_page=True
    )

    case = Case.objects.get(pk=case.pk)
    assert case.state == "agreed"
    agreement = Agreement.objects.get(case=case)
    assert re.search(r"\.pdf$", agreement.signed_copy.name or "")
    assert errors == []

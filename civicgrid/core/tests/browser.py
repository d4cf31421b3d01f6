"""What every browser test shares (imported by the test modules, not collected):
Debian's Chromium driven by Playwright against Django's live server.

Importing this module skips the importing test module when there is no Chromium or
no Playwright, except in CI (env CI set), where both are required."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
# Screenshots are the run's artifacts (CI keeps var/screenshots).
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} not present", allow_module_level=True)
try:
    from playwright.sync_api import Browser, ViewportSize, sync_playwright
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)

VIEWPORT: ViewportSize = {"width": 1366, "height": 768}

# A live server needs committed data, so each browser test ends with a flush, kept
# away from the regions tables the session loaded once (slow to reload).
KEEP = {"civicgrid.regions"}
LIVE_DATA = pytest.mark.django_db(
    transaction=True,
    available_apps=[a for a in settings.INSTALLED_APPS if a not in KEEP],
)


def close_connections_made_in_the_loop() -> None:
    """Call before leaving `sync_playwright()`. Its event loop runs in this thread,
    so Django (asgiref's Local) keeps the database connections the test makes
    meanwhile in a context variable, out of sight of the usual clean-ups outside
    it: left open, the last one outlives the session and PostgreSQL refuses to drop
    the test database ("being accessed by other users")."""
    connections.close_all()


def launch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """The ``browser`` fixture's body (civicgrid/conftest.py): Chromium, closed with
    the connections its test made."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is required in CI")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM
    # calls are still plain synchronous ones (Django's documented escape hatch).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            launched.close()
            close_connections_made_in_the_loop()

"""The trust's board in real Chromium, served by the real ``kiosk web`` command in trust mode
(``[web] trust_credentials``) from a real PostgreSQL that real kiosks push to.

Every wait is on the page (Playwright's expectations), never a sleep; the server's clock is
pinned (``KIOSK_CLOCK``) at 12:00 on the tests' Monday, when the trip phone is overdue.
Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.clock import CLOCK_ENV
from tests.sync.trust.conftest import MONDAY_9AM, kiosk_factory, pg, trust_db
from tests.web.conftest import PASSWORD
from tests.web.live_server import Served, kiosk
from tests.web.test_browser import ARTIFACTS, WAIT_MS, browser
from tests.web.test_trust import Trust, trust

pytestmark = pytest.mark.browser

__all__ = ["browser", "kiosk_factory", "pg", "trust", "trust_db"]  # fixtures, used by name


@pytest.fixture
def served(trust: Trust) -> Iterator[Served]:
    config = trust.settings.source
    # An account made the way trust IT makes one, with the command.
    r = kiosk(
        "web", "add-user", "i.reed", "--name", "Ian Reed", "--role", "slt", "--trust",
        stdin=PASSWORD + "\n", config=Path(config),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "sees the whole trust" in r.stdout
    s = Served(
        Path(config),
        env={CLOCK_ENV: (MONDAY_9AM + timedelta(hours=3)).isoformat()},
    )
    yield s
    s.stop_and_output()


def _page(browser: Any, served: Served, width: int = 1366, height: int = 768) -> Any:
    context = browser.new_context(base_url=served.url, viewport={"width": width, "height": height})
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def _sign_in(page: Any, username: str) -> None:
    page.goto("/")
    page.get_by_label("Account name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_all_schools_page_then_a_school_live_in_chromium(
    browser: Any, served: Served, trust: Trust
) -> None:
    from playwright.sync_api import expect

    page = _page(browser, served)
    _sign_in(page, "i.reed")
    expect(page.get_by_role("heading", name="All schools", exact=True)).to_be_visible()
    overdue = page.locator("table.loans").first
    expect(overdue).to_contain_text("Trip phone 1")
    expect(overdue).to_contain_text("Hillside Primary")
    expect(page.get_by_text("07700 900123").first).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "trust-all-schools-1366x768.png"), full_page=True)
    page.locator("table.schools").get_by_role("link", name="Hillside Primary").click()
    expect(page.get_by_role("heading", name="Hillside Primary", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Class camera 5B")
    expect(page.locator("main")).not_to_contain_text("iPad trolley key 1")  # Oakfield's
    # A tap at Hillside's kiosk, pushed: the open page shows it without reloading.
    h = trust.kiosks["hill"]
    h.sign_out("amira", "laptops")
    assert h.push().error == ""
    expect(page.locator("main")).to_contain_text("Laptop trolley key")
    page.screenshot(path=str(ARTIFACTS / "trust-school-1366x768.png"), full_page=True)
    page.context.close()


def test_a_schools_account_sees_its_school_and_is_refused_another(
    browser: Any, served: Served, trust: Trust
) -> None:
    from playwright.sync_api import expect

    page = _page(browser, served, 390, 844)
    _sign_in(page, "hill.office")
    expect(page.get_by_role("heading", name="Hillside Primary", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Class camera 5B")
    page.screenshot(path=str(ARTIFACTS / "trust-school-390x844.png"), full_page=True)
    response = page.goto(f"/schools/{trust.oak}")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("Your account shows your own school's board only")
    expect(page.locator("main")).not_to_contain_text("iPad trolley key")
    page.context.close()

"""The web board's Today page: the kiosk's office "Today" view, over HTTP.

Same read (``kiosk.loans.day.day_report``), same order (``kiosk.views.day_lines``) as the
office screen at the kiosk; the clock is pinned (Monday 23 November 2026).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from kiosk.accounts import Accounts
from kiosk.calendar import SchoolCalendar
from kiosk.clock import ManualClock
from kiosk.loans import LoanService
from kiosk.loans.queries import Queries
from kiosk.settings import Settings
from kiosk.views import day_lines
from tests.conftest import TinySchool, tap
from tests.kiosk.loans.test_day import a_busy_monday
from tests.web.conftest import PASSWORD, USERNAME, sign_in
from tests.web.live_server import (
    EventReader,
    LiveServer,
    live_board,
    live_url,
    signed_in_client,
)


def rows(page: str) -> list[list[str]]:
    """The Today table's rows, each cell as text (tags dropped, entities read)."""
    body = page[page.index('<table class="loans today">') :]
    body = body[: body.index("</table>")]
    out = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        out.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return out


def test_today_shows_the_kiosks_day_in_the_kiosks_order(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    a_busy_monday(service, clock)
    sign_in(client)
    r = client.get("/today")
    assert r.status_code == 200
    page = r.text
    assert '<a href="/today" aria-current="page">Today</a>' in page
    assert (
        "Monday 23 November 2026: 4 out, 2 back, 1 short count, 1 damaged, 1 lost, "
        "1 personal call, 1 overdue." in page
    )
    assert "Stock-take 15:00 today: 1 missing" in page
    shown = rows(page)
    # Line for line what the office screen shows, from the same read.
    assert [(r[0].upper(), r[2]) for r in shown] == [
        (line.what.upper(), line.name) for line in day_lines(service.day())
    ]
    by_what = {r[0]: r for r in shown}
    assert by_what["Overdue"][1:4] == ["12:00 today", "Trip phone 1", "John Jones"]
    assert by_what["Missing"][2] == "Class camera 5B"
    assert by_what["Short"][2:] == ["iPad trolley 1", "John Jones", "28 of 30 iPads"]
    assert by_what["Damaged"][2:] == ["Class camera 5B", "Amira Khan", "cracked lens"]
    # Reported lost from the office's screen with nobody signed in: nobody to name.
    assert by_what["Lost"][2:] == ["PE ball bag", "(not recorded)", "on the field"]
    assert by_what["Call"][1:] == ["10:30 today", "Trip phone 1", "John Jones", "personal call"]
    # The undone sign-out never happened; the number called and its reason stay in the
    # kiosk (kiosk export calls), as on the office screen.
    assert "01234" not in page and "Home" not in page
    # Each item's line opens its history; the call's opens the phone's.
    phone = tiny_school.phone.id
    assert page.count(f'<a href="/items/{phone}">Trip phone 1</a>') >= 3


def test_a_day_with_nothing_yet_says_so(client: TestClient, tiny_school: TinySchool) -> None:
    sign_in(client)
    page = client.get("/today").text
    assert "Monday 23 November 2026: 0 out, 0 back. No stock-take saved." in page
    assert "Nothing has happened today yet." in page


def test_today_needs_a_session(client: TestClient) -> None:
    r = client.get("/today")
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Ftoday"


@pytest.fixture
def server(
    settings: Settings, clock: ManualClock, accounts: Accounts, tiny_school: TinySchool
) -> Iterator[LiveServer]:
    with live_board(
        settings, clock, accounts, Queries(settings, clock, SchoolCalendar(settings.school))
    ) as s:
        yield s


def test_a_return_at_the_kiosk_reaches_an_open_today_page(
    server: LiveServer, service: LoanService, clock: ManualClock
) -> None:
    with signed_in_client(server.url, USERNAME, PASSWORD) as browser:
        page = browser.get("/today").text
        assert "Nothing has happened today yet." in page
        with EventReader(browser, live_url(page)) as stream:
            assert stream.status == 200
            tap(service, clock, TinySchool.KHAN)
            tap(service, clock, TinySchool.CAMERA)
            event = stream.until("today", "Class camera 5B")
            assert "1 out, 0 back" in event.data and "Amira Khan" in event.data

"""The live board on a real socket: a tap reaches every open page, one query per change.

The app runs under uvicorn in a thread of the test (``LiveServer``), on the database the
loan service writes to, with the test's pinned clock; streams are read as a browser's
EventSource reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest

from kiosk.accounts import Accounts
from kiosk.calendar import SchoolCalendar
from kiosk.clock import ManualClock
from kiosk.loans import LoanService
from kiosk.loans.queries import Queries
from kiosk.settings import Settings
from kiosk.views import LoanView
from tests.conftest import TinySchool, tap
from tests.web.conftest import PASSWORD, USERNAME
from tests.web.live_server import (
    EventReader,
    LiveServer,
    live_board,
    live_url,
    signed_in_client,
)


class CountingQueries(Queries):
    """The real queries, counting how often the board is read."""

    board_reads = 0

    def board(
        self, kind: str | None = None, overdue_only: bool = False, search: str = ""
    ) -> list[LoanView]:
        CountingQueries.board_reads += 1
        return super().board(kind, overdue_only, search)


@pytest.fixture
def server(
    settings: Settings, clock: ManualClock, accounts: Accounts, tiny_school: TinySchool
) -> Iterator[LiveServer]:
    CountingQueries.board_reads = 0
    with live_board(
        settings, clock, accounts, CountingQueries(settings, clock, SchoolCalendar(settings.school))
    ) as s:
        yield s


def test_a_tap_at_the_kiosk_reaches_an_open_page(
    server: LiveServer, service: LoanService, clock: ManualClock
) -> None:
    with signed_in_client(server.url, USERNAME, PASSWORD) as browser:
        page = browser.get("/").text
        assert "Nothing is out." in page
        with EventReader(browser, live_url(page)) as stream:
            assert stream.status == 200
            tap(service, clock, TinySchool.KHAN)
            tap(service, clock, TinySchool.CAMERA)
            event = stream.until("out", "Class camera 5B")
            assert "Amira Khan" in event.data and "1 out" in event.data


def test_a_page_that_missed_a_change_gets_it_when_its_stream_opens(
    server: LiveServer, service: LoanService, clock: ManualClock
) -> None:
    with signed_in_client(server.url, USERNAME, PASSWORD) as browser:
        page = browser.get("/trips").text
        tap(service, clock, TinySchool.JONES)
        tap(service, clock, TinySchool.PHONE)  # between the page and its stream
        with EventReader(browser, live_url(page)) as stream:
            event = stream.until("trips", "Trip phone 1")
            assert "07700 900101" in event.data


def test_twenty_open_pages_cost_one_board_query_per_change(
    server: LiveServer, service: LoanService, clock: ManualClock
) -> None:
    with ExitStack() as stack:
        browser = stack.enter_context(signed_in_client(server.url, USERNAME, PASSWORD))
        url = live_url(browser.get("/").text)
        streams = [stack.enter_context(EventReader(browser, url)) for _ in range(20)]
        CountingQueries.board_reads = 0
        tap(service, clock, TinySchool.KHAN)
        tap(service, clock, TinySchool.CAMERA)
        generations = set()
        for s in streams:
            generations.add(s.until("out", "Class camera 5B").id)
        # Every page had the change; the board was read once per change, not once per page.
        assert CountingQueries.board_reads <= 2
        assert CountingQueries.board_reads >= len(generations) >= 1


def test_the_minute_turning_shows_what_became_overdue(
    server: LiveServer, service: LoanService, clock: ManualClock
) -> None:
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.PHONE)
    assert r.loan is not None
    service.set_due(r.loan.id, datetime(2026, 11, 23, 9, 10, tzinfo=UTC), trip="Park")
    with signed_in_client(server.url, USERNAME, PASSWORD) as browser:
        page = browser.get("/").text
        assert 'class="flag">Overdue' not in page
        with EventReader(browser, live_url(page)) as stream:
            clock.wall = datetime(2026, 11, 23, 9, 11, tzinfo=UTC)  # no tap, only time
            event = stream.until("out", 'class="flag">Overdue')
            assert "1 overdue" in event.data


def test_an_open_page_is_signed_out_when_its_session_times_out(
    server: LiveServer, clock: ManualClock, settings: Settings
) -> None:
    with signed_in_client(server.url, USERNAME, PASSWORD) as browser:
        page = browser.get("/").text
        with EventReader(browser, live_url(page)) as stream:
            clock.advance(settings.web.idle_minutes * 60 + 1)
            stream.until("signed-out")
            assert stream.next() is None  # the server ended the stream
        assert browser.get("/").status_code == 303


def test_an_open_page_is_signed_out_when_it_signs_out_elsewhere(server: LiveServer) -> None:
    from tests.web.live_server import csrf_of

    with signed_in_client(server.url, USERNAME, PASSWORD) as browser:
        page = browser.get("/").text
        with EventReader(browser, live_url(page)) as stream:
            assert browser.post("/signout", data={"csrf": csrf_of(page)}).status_code == 303
            stream.until("signed-out")

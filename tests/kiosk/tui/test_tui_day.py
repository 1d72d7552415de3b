"""The office's day at the kiosk, as a person does it: personal calls at the return and
afterwards, the Today view, the stock-take saved and shown, the board's call count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import DataTable, Input

from kiosk.db import Outbox, PersonalCall, StockTake
from kiosk.tui.app import KioskApp
from kiosk.tui.screens.calls import CallsScreen
from kiosk.tui.screens.checklist import ChecklistScreen
from kiosk.tui.screens.done import DoneScreen
from kiosk.tui.screens.today import TodayScreen
from tests.kiosk.tui.test_tui_screens import open_admin
from tests.kiosk.tui.tui_helpers import later, press, screen_text, settle, tap

pytestmark = pytest.mark.asyncio

OFFICE = "B0000002"  # Mrs Price
PHONE_2 = "F0000002"  # out with Mrs Hussain since 08:00, back by 12:00


async def open_today(pilot: object) -> None:
    await tap(pilot, OFFICE)  # type: ignore[arg-type]
    await press(pilot, "#office")  # type: ignore[arg-type]
    await press(pilot, "#today")  # type: ignore[arg-type]


def calls_today() -> list[PersonalCall]:
    """Calls recorded in the test (the demo school has one from Friday)."""
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    return list(PersonalCall.select().where(PersonalCall.recorded_at >= monday))


def table_rows(app: KioskApp, selector: str = "#today") -> list[str]:
    table = app.screen.query_one(selector, DataTable)
    return [" | ".join(str(c) for c in table.get_row_at(r)) for r in range(table.row_count)]


async def choose_row(pilot: object, app: KioskApp, starts: str) -> None:
    """Arrow down to the first line starting with ``starts``, then Enter."""
    rows = table_rows(app)
    target = next(i for i, r in enumerate(rows) if r.startswith(starts))
    table = app.screen.query_one("#today", DataTable)
    table.focus()
    for _ in range(target - table.cursor_row):
        await pilot.press("down")  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


async def test_two_calls_recorded_at_the_return(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, PHONE_2)
        await press(pilot, "#charged-yes")
        await press(pilot, "#personal_calls-yes")
        assert isinstance(app.screen, CallsScreen)
        text = screen_text(app)
        assert "Trip phone 2 (07700 900102), Fatima Hussain: no calls recorded yet" in text
        assert "Mon 23 Nov 2026" in text  # the trip's day, chosen already
        await pilot.press(*"8:40", "enter", *"07700 900999", "enter", *"Doctor", "enter")
        await settle(pilot)
        assert "Call at 08:40 on Mon 23 Nov recorded (1 for this trip)." in screen_text(app)
        await pilot.press(*"0850", "enter", *"+44 1234 567890", "enter", *"Bank")
        await press(pilot, "#add-call")
        assert "Call at 08:50 on Mon 23 Nov recorded (2 for this trip)." in screen_text(app)
        assert table_rows(app, "#calls") == [
            "Mon 23 Nov 2026 | 08:40 | 07700 900999 | Doctor",
            "Mon 23 Nov 2026 | 08:50 | +44 1234 567890 | Bank",
        ]
        await press(pilot, "#calls-done")
        assert isinstance(app.screen, ChecklistScreen)
        assert "2 calls recorded." in screen_text(app)
        await press(pilot, "#damage-no")
        await press(pilot, "#save")
        assert isinstance(app.screen, DoneScreen)
        assert "Trip phone 2 is back." in screen_text(app)
    calls = sorted(calls_today(), key=lambda c: c.made_at or c.recorded_at)
    assert [(c.made_at, c.number) for c in calls] == [
        (datetime(2026, 11, 23, 8, 40, tzinfo=UTC), "07700 900999"),
        (datetime(2026, 11, 23, 8, 50, tzinfo=UTC), "+44 1234 567890"),
    ]


async def test_a_call_that_cannot_be_on_the_trip_and_none_at_all_are_explained(
    app: KioskApp,
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, PHONE_2)  # back at 09:00
        await press(pilot, "#charged-yes")
        await press(pilot, "#personal_calls-yes")
        await pilot.press(*"25:00", "enter")
        await press(pilot, "#add-call")
        assert '"25:00" is not a time of day. Type it like 14:30.' in screen_text(app)
        app.screen.query_one("#call-time", Input).value = ""
        await pilot.click("#call-time")
        await pilot.press(*"9:30", "enter", *"01234 567890", "enter", *"Home", "enter")
        await settle(pilot)
        assert (
            "Trip phone 2 came back at 09:00 today: a call at 09:30 on Mon 23 Nov was not "
            "made on this trip." in screen_text(app)
        )
        await press(pilot, "#calls-done")
        await press(pilot, "#damage-no")
        await press(pilot, "#save")
        assert "Record each personal call (Record the calls), or answer No." in screen_text(app)
        await press(pilot, "#personal_calls-no")
        await press(pilot, "#save")
        assert isinstance(app.screen, DoneScreen)
    assert calls_today() == []


async def test_the_office_records_a_call_afterwards_from_today(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, PHONE_2)  # back at 09:00: "no calls", says Mrs Hussain
        await press(pilot, "#charged-yes")
        await press(pilot, "#personal_calls-no")
        await press(pilot, "#damage-no")
        await press(pilot, "#save")
        await later(pilot, 3600)  # 10:00: she remembers one
        await open_today(pilot)
        assert isinstance(app.screen, TodayScreen)
        await choose_row(pilot, app, "Back | 09:00 | Trip phone 2")
        assert isinstance(app.screen, CallsScreen)
        await pilot.press(*"8:30", "enter", *"01234 567890", "enter", *"Childminder", "enter")
        await settle(pilot)
        assert "(1 for this trip)" in screen_text(app)
        await press(pilot, "#calls-done")
        assert isinstance(app.screen, TodayScreen)
        assert "1 personal call" in screen_text(app)
        assert "Call | 08:30 | Trip phone 2 | Fatima Hussain | personal call" in table_rows(app)
    (call,) = calls_today()
    assert call.recorded_by is not None and call.recorded_by.name == "Janet Price"


async def test_today_puts_the_days_problems_first(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "AD00000A")  # iPad trolley A back from Mrs Clarke: 28 iPads
        await press(pilot, "#some-0")  # iPads: Some missing
        await pilot.press("2", "8", "enter")
        await settle(pilot)
        await press(pilot, "#all-1")  # headphones: All 30 here
        await press(pilot, "#damage-no")
        await press(pilot, "#save")
        await tap(pilot, "CA00001A")  # camera 1A back from Mr Byrne, damaged
        await press(pilot, "#images-yes")
        await press(pilot, "#damage-yes")
        await pilot.click("#damage-note")
        await pilot.press(*"cracked lens")
        await press(pilot, "#save")
        await open_today(pilot)
        text = screen_text(app)
        assert "Mon 23 Nov 2026 (today)" in text
        assert "5 out, 2 back, 1 short count, 1 damaged, 1 overdue. No stock-take saved." in text
        rows = table_rows(app)
        assert rows[:3] == [
            "OVERDUE | 15:30 | Class camera 3B | Owen Davies | due Fri 20 Nov",
            "Short | 09:00 | iPad trolley A key | Emma Clarke | 28 of 30 iPads",
            "Damaged | 09:00 | Class camera 1A | Liam Byrne | cracked lens",
        ]
        assert rows[3] == "Out | 07:00 | Class camera 1A | Liam Byrne | "
        assert "Back | 09:00 | iPad trolley A key | Emma Clarke | " in rows
        assert "Out | 08:00 | Trip phone 2 | Fatima Hussain | Trip: Year 4 to..." in rows


async def test_today_walks_back_through_the_week(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_today(pilot)
        assert app.screen.query_one("#day-after").disabled
        for _ in range(3):
            await press(pilot, "#day-before")
        text = screen_text(app)
        assert "Fri 20 Nov 2026" in text and "(today)" not in text
        rows = table_rows(app)
        assert any(r.startswith("Back | ") for r in rows)
        assert rows[0].startswith("OVERDUE | 15:30 | Class camera 3B")  # out at Friday's end
        assert not app.screen.query_one("#day-after").disabled
        for _ in range(3):
            await press(pilot, "#day-after")
        assert "Mon 23 Nov 2026 (today)" in screen_text(app)
        assert app.screen.query_one("#day-after").disabled


async def test_the_stock_take_is_saved_told_and_shown_in_today(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#stock-take")
        for uid in ("AD00000B", "AD00000C", "CA00002A", "F0000001"):
            await tap(pilot, uid)
        await press(pilot, "#finish")
        text = screen_text(app)
        assert "4 tags seen: " in text
        assert "No alert channel is set up for the office: please tell the office yourself." in text
        assert app.screen.query_one("#finish").disabled  # saved: not twice
        await press(pilot, "#back")
        await press(pilot, "#done")
        await open_today(pilot)
        text = screen_text(app)
        assert "Stock-take 09:00: " in text
        assert "MISSING | 09:00 | Class camera 5B |" in "\n".join(table_rows(app))
    take = StockTake.select().order_by(StockTake.id.desc()).get()  # the demo has Friday's
    assert take.seen == 4
    assert Outbox.get(Outbox.kind == "stock_take").audience == "office"


async def test_the_board_counts_the_calls_of_a_phone_that_is_out(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_today(pilot)
        await choose_row(pilot, app, "Out | 08:00 | Trip phone 2")
        await pilot.press(*"8:15", "enter", *"01234 567890", "enter", *"School run", "enter")
        await settle(pilot)
        await press(pilot, "#calls-done")
        await press(pilot, "#back")  # Today, then the board again
        assert "Fatima Hussain\n1 personal call; Trip: Year..." in screen_text(app)


async def test_a_residential_trip_offers_each_of_its_days(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "B0000014")  # Ms Khan takes trip phone 1 until tomorrow
        await tap(pilot, "F0000001")
        await press(pilot, "#preset-tomorrow")
        await later(pilot, 25 * 3600)  # Tuesday 10:00, the phone still away
        await open_today(pilot)
        await press(pilot, "#day-before")  # Monday, the day it went out
        await choose_row(pilot, app, "Out | 09:00 | Trip phone 1")
        assert isinstance(app.screen, CallsScreen)
        app.screen.query_one("#call-day").focus()
        await pilot.press("enter", "down", "enter")  # the second day of the trip
        await settle(pilot)
        await pilot.click("#call-time")
        await pilot.press(*"9:15", "enter", *"01234 567890", "enter", *"Home", "enter")
        await settle(pilot)
        assert "Call at 09:15 on Tue 24 Nov recorded (1 for this trip)." in screen_text(app)
        await press(pilot, "#calls-done")
        await press(pilot, "#day-after")  # Tuesday: the call, though the loan began Monday
        assert "Call | 09:15 | Trip phone 1 | Amira Khan | personal call" in table_rows(app)
        await choose_row(pilot, app, "Call | 09:15 | Trip phone 1")
        assert isinstance(app.screen, CallsScreen)
        assert "Trip phone 1 (07700 900101), Amira Khan: 1 call recorded" in screen_text(app)

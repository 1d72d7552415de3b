"""The tap flow as a person meets it: what the screen says, and what the database then holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import Input

from hardware.base import NullFeedback
from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Loan, PersonalCall
from kiosk.errors import StorageError
from kiosk.loans import LoanService
from kiosk.tui.app import KioskApp
from kiosk.tui.screens.checklist import ChecklistScreen
from kiosk.tui.screens.done import DoneScreen
from kiosk.tui.screens.idle import IdleScreen
from kiosk.tui.screens.refusal import RefusalScreen
from kiosk.tui.screens.session import SessionScreen
from tests.kiosk.tui.tui_helpers import later, press, screen_text, settle, tap

pytestmark = pytest.mark.asyncio

KHAN = "B0000014"  # Ms Khan, 5B
CAMERA_5B = "CA00005B"
CAMERA_3B_OVERDUE = "CA00003B"
TRIP_PHONE_1 = "F0000001"
IPAD_A_OUT = "AD00000A"  # out with Mrs Clarke (B0000013)


def open_loan(tag: str) -> Loan | None:
    return Loan.select().join(Item).where(Item.tag_uid == tag, Loan.closed_at.is_null()).first()


async def test_idle_shows_prompt_board_overdue_first_and_status(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, IdleScreen)
        text = screen_text(app)
        assert "Tap your badge" in text
        assert "Out now: 6, 1 OVERDUE" in text
        board = text[text.index("Out now") :]
        rows = [line for line in board.splitlines() if " | " in line]
        assert rows[0].startswith("OVERDUE Class camera 3B | Owen Davies")
        assert (
            "Trip phone 2\n  07700 900102 | Fatima Hussain\nTrip: Year 4 to the Science..." in board
        )
        assert "Reader keyboard: ok" in text
        assert "Clock: ok" in text
        assert "Alerts: 0 waiting" in text


async def test_borrow_a_camera_in_two_taps(app: KioskApp, demo_service: LoanService) -> None:
    feedback = app.feedback
    assert isinstance(feedback, NullFeedback)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        assert isinstance(app.screen, SessionScreen)
        text = screen_text(app)
        assert "Hello, Ms Khan" in text and "Tap an item." in text
        assert "You have nothing out." in text
        await tap(pilot, CAMERA_5B)
        assert isinstance(app.screen, DoneScreen)
        text = screen_text(app)
        assert "Class camera 5B is yours." in text
        assert "Back by 15:30 today." in text
        assert "Undo (10 s)" in text
    loan = open_loan(CAMERA_5B)
    assert loan is not None and loan.borrower.known_as == "Ms Khan"
    assert feedback.calls[:2] == ["accepted", "accepted"]


async def test_undo_a_sign_out(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, CAMERA_5B)
        await press(pilot, "#undo")
        assert "Undone: Class camera 5B is not signed out." in screen_text(app)
    assert open_loan(CAMERA_5B) is None
    assert (
        Loan.select().join(Item).where(Item.tag_uid == CAMERA_5B, Loan.outcome == "undone").count()
        == 1
    )


async def test_a_refusal_says_why_and_what_to_do(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, "CA00004A")  # 4A's camera
        assert isinstance(app.screen, RefusalScreen)
        text = screen_text(app)
        assert "This camera belongs to 4A." in text and "Ask the office." in text
        assert app.feedback.calls[-1] == "refused"  # type: ignore[attr-defined]
    assert open_loan("CA00004A") is None


async def test_an_item_with_no_badge_and_not_out_asks_for_the_badge(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, CAMERA_5B)
        text = screen_text(app)
        assert "Tap your badge first," in text and "then tap Class camera 5B again." in text


async def test_unknown_tag_and_typing_that_is_not_a_tag(app: KioskApp, clock: ManualClock) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, "DEADBEEF")
        text = screen_text(app)
        assert "This tag is not known here." in text and "DEADBEEF" in text
        clock.advance(5)  # the same unknown tag again, after the double-tap window
        await tap(pilot, "DEADBEEF")
        assert "This tag is not known here." in screen_text(app)
        app.keyboard_tap("hello!")
        await settle(pilot)
        assert "That is not a tag number." in screen_text(app)


async def test_trip_phone_return_time_in_one_press(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, TRIP_PHONE_1)
        text = screen_text(app)
        assert "Trip phone 1 is yours." in text and "When will you be back?" in text
        assert "07700 900101" in text
        await pilot.click("#trip")
        await pilot.press(*"Year 5 to Kew")
        await press(pilot, "#preset-plus_2h")
        text = screen_text(app)
        assert isinstance(app.screen, DoneScreen)
        assert "Back by 11:00 today. Trip: Year 5 to Kew." in text
    loan = open_loan(TRIP_PHONE_1)
    assert loan is not None and loan.trip == "Year 5 to Kew"
    assert loan.due_at is not None and loan.due_at.hour == 11


async def test_trip_phone_custom_time_typed(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, TRIP_PHONE_1)
        await pilot.click("#custom")
        await pilot.press(*"2pm", "enter")
        await settle(pilot)
        assert "Back by 14:00 today." in screen_text(app)
        # A time that is not a time is explained, and nothing changes.
    loan = open_loan(TRIP_PHONE_1)
    assert loan is not None and loan.due_at is not None and loan.due_at.hour == 14


async def test_trip_phone_time_that_has_passed_is_refused_in_words(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, TRIP_PHONE_1)
        await pilot.click("#custom")
        await pilot.press(*"8:00", "enter")
        await settle(pilot)
        assert "That time has already passed. Choose a later time." in screen_text(app)
        app.screen.query_one("#custom", Input).value = ""
        await pilot.click("#custom")
        await pilot.press(*"soon", "enter")
        await settle(pilot)
        assert '"soon" is not a time.' in screen_text(app)


async def test_return_a_trolley_with_no_badge_and_count_short(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, IPAD_A_OUT)
        assert isinstance(app.screen, ChecklistScreen)
        text = screen_text(app)
        assert "Thank you. iPad trolley A key is back." in text
        assert "iPads:\nAll 30 here\nSome missing" in text
        assert app.focused is not None and app.focused.id == "all-0"  # the answer focused
        await press(pilot, "#some-0")
        await pilot.press("2", "8", "enter")
        await settle(pilot)
        await press(pilot, "#all-1")
        await press(pilot, "#damage-no")
        await press(pilot, "#save")
        assert isinstance(app.screen, DoneScreen)
        text = screen_text(app)
        assert (
            "Counted back 28 of 30 iPads. "
            "No alert channel is set up for SLT: please tell SLT yourself." in text
        )
    loan = (
        Loan.select()
        .join(Item)
        .where(Item.tag_uid == IPAD_A_OUT)
        .order_by(Loan.closed_at.desc())
        .first()
    )
    assert loan.outcome == "returned"
    assert loan.checklist == {"counts": {"iPads": 28, "headphones": 30}, "damage": ""}


async def test_checklist_asks_every_question_before_saving(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, "CA00001A")  # out with Mr Byrne
        await press(pilot, "#save")
        assert (
            "Please answer: Images moved to the staff drive and erased from the camera?"
            in screen_text(app)
        )
        await press(pilot, "#images-yes")
        await press(pilot, "#damage-yes")
        await press(pilot, "#save")
        assert "Say briefly what is damaged, or answer No." in screen_text(app)
        await pilot.click("#damage-note")
        await pilot.press(*"cracked screen")
        await press(pilot, "#save")
        assert (
            "Damage recorded. No alert channel is set up for IT: please tell IT yourself."
            in screen_text(app)
        )
    item = Item.get(Item.tag_uid == "CA00001A")
    assert item.status == "damaged"


async def test_trip_phone_return_records_a_personal_call(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, "F0000002")  # out with Mrs Hussain
        await press(pilot, "#charged-yes")
        await press(pilot, "#personal_calls-yes")  # opens the calls, day chosen already
        await pilot.press(*"8:45", "enter", *"07700 900999", "enter", *"Childcare", "enter")
        await settle(pilot)
        await press(pilot, "#calls-done")
        assert "1 call recorded." in screen_text(app)
        await press(pilot, "#damage-no")
        await press(pilot, "#save")
        assert "Trip phone 2 is back." in screen_text(app)
    call = PersonalCall.get(PersonalCall.number == "07700 900999")
    assert call.reason == "Childcare"
    assert call.made_at == datetime(2026, 11, 23, 8, 45, tzinfo=UTC)


async def test_undo_a_return_from_the_checklist(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, "CA00004B")
        await press(pilot, "#undo")
        assert "Undone: Class camera 4B is still out." in screen_text(app)
    assert open_loan("CA00004B") is not None


async def test_session_screen_lists_what_she_has_and_ends_with_the_session(
    app: KioskApp, demo_service: LoanService
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, "B0000013")  # Mrs Clarke has iPad trolley A
        text = screen_text(app)
        assert "Hello, Mrs Clarke" in text and "You have 1 item out:" in text
        assert "iPad trolley A key" in text
        await later(pilot, 19.5)  # the session lasts 20 s after the badge
        assert isinstance(app.screen, SessionScreen)
        assert demo_service.session_staff_id is not None
        await later(pilot, 1.0)
        assert isinstance(app.screen, IdleScreen)
    assert demo_service.session_staff_id is None


async def test_badge_held_on_the_reader_shows_nothing_new(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        shown = app.taps_shown
        await tap(pilot, KHAN)
        assert app.taps_shown == shown
        assert isinstance(app.screen, SessionScreen)
    assert Event.select().where(Event.action == "badge").count() == 1


async def test_a_tap_the_database_could_not_record_is_said_plainly(
    app: KioskApp, demo_service: LoanService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(uid: str, reader: str = "keyboard") -> None:
        raise StorageError("The database kiosk.db is busy (another program holds it).")

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(demo_service, "tap", busy)
        await tap(pilot, KHAN)
        text = screen_text(app)
        assert "That tap was not recorded." in text
        assert "The database kiosk.db is busy (another program holds it). Tap again." in text
        assert app.feedback.calls[-1] == "refused"  # type: ignore[attr-defined]

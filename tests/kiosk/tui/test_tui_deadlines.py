"""Every screen ends when the loan service says, on the service's (manual) clock.

The session, the undo window and the admin visit are the service's: the screen in
front must end within a second of the service's end, never show an Undo the service
would refuse, and never greet someone whose session has ended. Result screens end
after their own time on the same clock. Time here moves only when the test says.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from kiosk.clock import ManualClock
from kiosk.errors import StorageError
from kiosk.loans import LoanService
from kiosk.tui.app import KioskApp
from kiosk.tui.screens.admin.menu import AdminScreen
from kiosk.tui.screens.admin.records import RecordsScreen
from kiosk.tui.screens.checklist import ChecklistScreen
from kiosk.tui.screens.done import DoneScreen
from kiosk.tui.screens.idle import IdleScreen
from kiosk.tui.screens.refusal import RefusalScreen
from kiosk.tui.screens.return_time import ReturnTimeScreen
from kiosk.tui.screens.session import SessionScreen
from kiosk.views import TapResult
from tests.kiosk.tui.tui_helpers import later, press, screen_text, settle, tap

pytestmark = pytest.mark.asyncio

KHAN = "B0000014"  # Ms Khan, 5B, nothing out
ADMIN = "B0000001"  # Mr Okafor, PIN 2468
CAMERA_5B = "CA00005B"
CAMERA_4A = "CA00004A"
TRIP_PHONE_1 = "F0000001"
TRIP_PHONE_2 = "F0000002"  # out with Mrs Hussain


async def test_the_session_screen_ends_with_the_session(
    app: KioskApp, demo_service: LoanService
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await later(pilot, 19.5)
        assert isinstance(app.screen, SessionScreen) and demo_service.session_staff_id is not None
        await later(pilot, 1.0)
        assert isinstance(app.screen, IdleScreen) and demo_service.session_staff_id is None


async def test_using_the_session_screen_keeps_the_session_open(
    app: KioskApp, demo_service: LoanService
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await later(pilot, 15)
        await pilot.press("tab")  # someone is using the screen
        await settle(pilot)
        await later(pilot, 15)  # 30 s after the badge, 15 s after the key
        assert isinstance(app.screen, SessionScreen)
        await tap(pilot, CAMERA_5B)  # the session is still there: the camera is hers
        assert "Class camera 5B is yours." in screen_text(app)


async def test_undo_lasts_exactly_as_long_as_the_service_allows(
    app: KioskApp, demo_service: LoanService
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, CAMERA_5B)
        assert "Undo (10 s)" in screen_text(app)
        await later(pilot, 9.5)
        assert "Undo (1 s)" in screen_text(app) and demo_service.can_undo()
        await later(pilot, 0.6)
        assert isinstance(app.screen, IdleScreen) and not demo_service.can_undo()


async def test_a_return_time_chosen_later_keeps_the_sign_outs_undo_window(
    app: KioskApp, demo_service: LoanService
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, TRIP_PHONE_1)
        assert isinstance(app.screen, ReturnTimeScreen)
        await later(pilot, 4)
        await press(pilot, "#preset-end_of_day")
        assert isinstance(app.screen, DoneScreen)
        assert "Undo (6 s)" in screen_text(app)  # what is left of the sign-out's 10 s
        await later(pilot, 5.5)
        assert isinstance(app.screen, DoneScreen) and demo_service.can_undo()
        await later(pilot, 0.6)
        assert isinstance(app.screen, IdleScreen) and not demo_service.can_undo()


async def test_after_the_undo_window_a_confirmation_still_shows_long_enough_to_read(
    app: KioskApp, demo_service: LoanService
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, TRIP_PHONE_1)
        await later(pilot, 30)  # a long think about the return time
        await press(pilot, "#preset-end_of_day")
        assert isinstance(app.screen, DoneScreen)
        assert "Undo" not in screen_text(app) and not demo_service.can_undo()
        await later(pilot, 5.5)
        assert isinstance(app.screen, DoneScreen)
        await later(pilot, 1)
        assert isinstance(app.screen, IdleScreen)


async def test_admin_ends_when_the_setting_says_however_deep_it_was_left(
    app: KioskApp, demo_service: LoanService
) -> None:
    idle_after = demo_service.settings.kiosk.admin_idle_seconds
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, ADMIN)
        await press(pilot, "#admin")
        await pilot.press(*"2468", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AdminScreen)
        await later(pilot, idle_after - 10)
        await press(pilot, "#staff")  # using admin keeps it open
        assert isinstance(app.screen, RecordsScreen)
        await later(pilot, idle_after - 1)
        assert isinstance(app.screen, RecordsScreen) and demo_service.admin_until() is not None
        await later(pilot, 1.5)
        assert isinstance(app.screen, IdleScreen)
        assert demo_service.admin_until() is None


@pytest.mark.parametrize(
    ("taps", "screen", "lasts"),
    [
        ((KHAN, CAMERA_4A), RefusalScreen, 8.0),  # another class's camera
        ((KHAN, TRIP_PHONE_1), ReturnTimeScreen, 90.0),
        ((TRIP_PHONE_2,), ChecklistScreen, 120.0),  # back, with no badge
    ],
    ids=["refused", "return-time", "checklist"],
)
async def test_each_result_screen_ends_after_its_time_on_the_kiosk_clock(
    app: KioskApp, taps: tuple[str, ...], screen: type, lasts: float
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for uid in taps:
            await tap(pilot, uid)
        assert isinstance(app.screen, screen)
        await later(pilot, lasts - 0.5)
        assert isinstance(app.screen, screen)
        await later(pilot, 1.0)
        assert isinstance(app.screen, IdleScreen)


async def test_a_confirmation_with_nothing_to_undo_ends_after_six_seconds(
    app: KioskApp, demo_service: LoanService
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, CAMERA_5B)
        await press(pilot, "#undo")
        assert "Undone: Class camera 5B is not signed out." in screen_text(app)
        await later(pilot, 5.5)
        assert isinstance(app.screen, DoneScreen)
        await later(pilot, 1.0)
        assert isinstance(app.screen, IdleScreen)


async def test_a_deadline_passed_while_a_tap_is_handled_is_met_once_the_tap_has_failed(
    app: KioskApp, demo_service: LoanService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen does not give up under a tap on its way, nor stop giving up after it."""
    entered, release = threading.Event(), threading.Event()

    def held_then_failed(uid: str, reader: str = "keyboard") -> TapResult:
        entered.set()  # on the service thread: the tap is being handled
        release.wait(60)
        raise StorageError("The database kiosk.db is busy (another program holds it).")

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        monkeypatch.setattr(demo_service, "tap", held_then_failed)
        assert app.keyboard_reader is not None and app.keyboard_reader.feed(CAMERA_5B)
        assert await asyncio.to_thread(entered.wait, 60)
        assert isinstance(app.clock, ManualClock)
        app.clock.advance(25)  # the session's 20 s pass while the service holds the tap
        app.tick()
        await pilot.pause()
        assert isinstance(app.screen, SessionScreen)  # its result is on the way
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, RefusalScreen)
        assert "That tap was not recorded." in screen_text(app)
        await later(pilot, 7.5)
        assert isinstance(app.screen, RefusalScreen)
        await later(pilot, 1.0)  # the refusal's 8 s: the failed tap left nothing behind
        assert isinstance(app.screen, IdleScreen)

"""The board tells the truth about time: corrected once the clock is set, unsure until then."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.clock import ManualClock
from kiosk.loans import LoanService
from kiosk.tui.app import KioskApp
from tests.kiosk.tui.tui_helpers import screen_text, settle, tap

pytestmark = pytest.mark.asyncio

KHAN = "B0000014"
CAMERA_5B = "CA00005B"


async def test_the_board_shows_true_times_once_the_clock_is_set(
    app: KioskApp, demo_service: LoanService, clock: ManualClock
) -> None:
    clock.wall, clock.synced = clock.wall - timedelta(days=3), False  # "Friday"
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, CAMERA_5B)
        assert "Back by 15:30 today." in screen_text(app)  # today, as the Pi believes
        app.go_idle()
        await settle(pilot)
        camera = next(v for v in demo_service.board() if v.item.name == "Class camera 5B")
        assert camera.time_uncertain
        assert "time unsure: clock not set" in screen_text(app)
        clock.jump(3 * 86400)  # NTP answers: it is Monday
        clock.synced = True
        app.refresh_status()
        await settle(pilot)
        text = screen_text(app)
        assert "Clock: ok" in text
        assert "time unsure" not in text
        camera = next(v for v in demo_service.board() if v.item.name == "Class camera 5B")
        assert not camera.time_uncertain and camera.due_text == "15:30 today"

"""The kiosk screen on a card that really fills up: it says so, stays usable, and recovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Loan, Staff, database, open_database
from kiosk.loans import LoanService
from kiosk.settings import load_settings
from kiosk.tui.screens.done import DoneScreen
from kiosk.tui.screens.session import SessionScreen
from tests.conftest import SmallCard
from tests.kiosk.tui.tui_helpers import MONDAY_9AM, make_app, screen_text, settle, tap

pytestmark = pytest.mark.asyncio

BADGE, BALL = "A0000001", "B0000001"


async def test_a_full_card_is_named_on_the_screen_and_taps_work_once_space_is_freed(
    small_card: SmallCard, tmp_path: Path
) -> None:
    db_path = small_card.path / "kiosk.db"
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'[kiosk]\ndb = "{db_path}"\n', encoding="utf-8")
    db = open_database(db_path)
    Staff.create(staff_id="S1", name="Amira Khan", known_as="Ms Khan", badge_uid=BADGE)
    Item.create(asset_tag="PE-1", name="PE ball bag", kind="other", tag_uid=BALL)
    clock = ManualClock(wall=MONDAY_9AM)
    app = make_app(LoanService(load_settings(toml, env={}), clock))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            small_card.fill()
            await tap(pilot, BADGE)
            text = screen_text(app)
            assert "That tap was not recorded." in text
            assert "SD card is full" in text and "free some space" in text
            assert "rollback" not in text and "disk I/O" not in text
            assert Event.select().count() == 0
            app.go_idle()  # the person walks away; the screen is back at rest
            await settle(pilot)

            small_card.free()
            clock.advance(0.5)  # the same badge again at once: a new tap, not a double one
            await tap(pilot, BADGE)
            assert isinstance(app.screen, SessionScreen)
            assert "Hello, Ms Khan" in screen_text(app)
            clock.advance(3)
            await tap(pilot, BALL)
            assert isinstance(app.screen, DoneScreen)
            assert "PE ball bag is yours." in screen_text(app)
        assert Loan.select().count() == 1
    finally:
        db.close()
        database.initialize(None)

"""Snapshots of the office's day screens at 100x30 and 80x24: personal calls, the checklist
after them, Today (this morning and Friday), and a saved stock-take.

The same fixed clock (Monday 09:00), demo school and unblinking inputs as the other
snapshots (``test_tui_snapshots``); review a changed picture with ``--snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from kiosk.loans import LoanService
from tests.kiosk.tui.test_tui_screens import open_admin
from tests.kiosk.tui.tui_helpers import make_app, press, settle, tap

SIZES = [(100, 30), (80, 24)]


async def _calls(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "F0000002")  # Mrs Hussain's trip phone back
    await press(pilot, "#charged-yes")
    await press(pilot, "#personal_calls-yes")
    await pilot.press(*"8:40", "enter", *"07700 900999", "enter", *"Doctor", "enter")
    await settle(pilot)


async def _checklist_with_calls(pilot: Pilot[Any]) -> None:
    await _calls(pilot)
    await press(pilot, "#calls-done")


async def _today(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000002")  # Mrs Price, office
    await press(pilot, "#office")
    await press(pilot, "#today")


async def _friday(pilot: Pilot[Any]) -> None:
    await _today(pilot)
    for _ in range(3):
        await press(pilot, "#day-before")


async def _stock_take_saved(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await open_admin(pilot, app)  # type: ignore[arg-type]
    await press(pilot, "#stock-take")
    for uid in ("AD00000B", "AD00000C", "CA00002A", "F0000001", "CA00005B"):
        await tap(pilot, uid)
    await press(pilot, "#finish")


SCREENS: dict[str, Callable[[Pilot[Any]], Awaitable[None]]] = {
    "calls": _calls,
    "checklist_with_calls": _checklist_with_calls,
    "today": _today,
    "today_friday": _friday,
    "stock_take_saved": _stock_take_saved,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(SCREENS))
def test_day_screen_snapshot(
    snap_compare: Any, demo_service: LoanService, name: str, size: tuple[int, int]
) -> None:
    app = make_app(demo_service)
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[name])

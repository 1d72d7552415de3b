"""Snapshots of the main screens at the kiosk's 100x30 and the smallest usable 80x24.

The clock is a fixed ManualClock (Monday 09:00), inputs do not blink (conftest),
and the database is the seeded demo school, so the pictures change only when
the screens do. Review a changed picture with ``pytest --snapshot-update`` and
``snapshot_report.html``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from kiosk.loans import LoanService
from tests.kiosk.tui.tui_helpers import make_app, press, settle, tap

SIZES = [(100, 30), (80, 24)]


async def _idle(pilot: Pilot[Any]) -> None:
    await settle(pilot)


async def _session(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000013")  # Mrs Clarke, who has iPad trolley A


async def _signed_out(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000014")
    await tap(pilot, "CA00005B")


async def _trip_phone(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000014")
    await tap(pilot, "F0000001")


async def _checklist(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "F0000002")  # trip phone back, no badge


async def _refused(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000014")
    await tap(pilot, "CA00004A")


async def _office(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000002")
    await press(pilot, "#office")


SCREENS: dict[str, Callable[[Pilot[Any]], Awaitable[None]]] = {
    "idle": _idle,
    "session": _session,
    "signed_out": _signed_out,
    "trip_phone": _trip_phone,
    "checklist": _checklist,
    "refused": _refused,
    "office": _office,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_snapshot(
    snap_compare: Any, demo_service: LoanService, name: str, size: tuple[int, int]
) -> None:
    app = make_app(demo_service)
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[name])

"""Snapshots of the office's screens and the new questions, at 100x30 and at 80x24.

As in ``test_tui_snapshots``: a fixed ManualClock (Monday 09:00), inputs that do not
blink, the seeded demo school (with its spare cards, trolley B two iPads short and
camera 6B marked damaged). Review a changed picture with ``--snapshot-update`` and
``snapshot_report.html``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from kiosk.loans import LoanService
from kiosk.tui.app import KioskApp
from tests.kiosk.tui.tui_helpers import later, make_app, press, settle, tap

SIZES = [(100, 30), (80, 24)]

OFFICE = "B0000002"  # Mrs Price
ADMIN = "B0000001"  # Mr Okafor, PIN 2468


def _app(pilot: Pilot[Any]) -> KioskApp:
    app = pilot.app
    assert isinstance(app, KioskApp)
    return app


async def _tasks(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, OFFICE)
    await press(pilot, "#office-tasks")


async def _warning(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000016")  # Miss Kowalska, 6B
    await tap(pilot, "CA00006B")  # marked damaged: cracked screen


async def _handover_count(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000014")  # Ms Khan takes trolley A over from Mrs Clarke
    await tap(pilot, "AD00000A")


async def _checklist_count(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "AD00000A")  # trolley A back, no badge


async def _checklist_known_short(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000014")
    await tap(pilot, "AD00000B")  # trolley B, two iPads already missing
    await later(pilot, 3)
    await tap(pilot, "AD00000B")


async def _session_spare_card(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    service = _app(pilot).service
    office = service.find_staff("Janet Price")[0].id
    card = service.spare_cards()[0].id
    service.give_spare_card(card, office, name="Jo Smith", classes="5B")
    await tap(pilot, "C0000001")


async def _act_for(pilot: Pilot[Any]) -> None:
    await _tasks(pilot)
    await press(pilot, "#sign-out-for")
    await pilot.press(*"khan", "enter")
    await settle(pilot)


async def _lend(pilot: Pilot[Any]) -> None:
    await _tasks(pilot)
    await press(pilot, "#lend")
    await pilot.press(*"walker", "enter")
    await settle(pilot)


async def _return_for(pilot: Pilot[Any]) -> None:
    await _tasks(pilot)
    await press(pilot, "#return-for")


async def _spare_cards(pilot: Pilot[Any]) -> None:
    await _tasks(pilot)
    await press(pilot, "#spare-cards")


async def _give_card(pilot: Pilot[Any]) -> None:
    await _spare_cards(pilot)
    await press(pilot, "#give")
    await pilot.press(*"Jo Smith")
    await settle(pilot)


async def _badge_off(pilot: Pilot[Any]) -> None:
    await _tasks(pilot)
    await press(pilot, "#badge-off")
    await pilot.press(*"khan", "enter")
    await settle(pilot)


async def _problems(pilot: Pilot[Any]) -> None:
    await _tasks(pilot)
    await press(pilot, "#problems")


async def _problems_from_the_board(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, OFFICE)
    await press(pilot, "#office")
    await press(pilot, "#problems")


async def _contents(pilot: Pilot[Any]) -> None:
    await _tasks(pilot)
    await press(pilot, "#contents")


async def _contents_form(pilot: Pilot[Any]) -> None:
    await _contents(pilot)
    await press(pilot, "#change")


async def _enrol(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, ADMIN)
    await press(pilot, "#admin")
    await pilot.press(*"2468", "enter")
    await settle(pilot)
    await press(pilot, "#enrol")
    await tap(pilot, "C0000009")


SCREENS: dict[str, Callable[[Pilot[Any]], Awaitable[None]]] = {
    "warning": _warning,
    "handover_count": _handover_count,
    "checklist_count": _checklist_count,
    "checklist_known_short": _checklist_known_short,
    "session_spare_card": _session_spare_card,
    "office_tasks": _tasks,
    "act_for": _act_for,
    "lend": _lend,
    "return_for": _return_for,
    "spare_cards": _spare_cards,
    "give_card": _give_card,
    "badge_off": _badge_off,
    "problems": _problems,
    "problems_from_the_board": _problems_from_the_board,
    "contents": _contents,
    "contents_form": _contents_form,
    "enrol": _enrol,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(SCREENS))
def test_office_screen_snapshot(
    snap_compare: Any, demo_service: LoanService, name: str, size: tuple[int, int]
) -> None:
    app = make_app(demo_service)
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[name])

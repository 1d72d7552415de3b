"""Snapshots of the main screens at the kiosk's 100x30 and the smallest usable 80x24.

The clock is a fixed ManualClock (Monday 09:00), inputs do not blink (conftest),
and the database is the seeded demo school, so the pictures change only when
the screens do. Review a changed picture with ``pytest --snapshot-update`` and
``snapshot_report.html``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input

from kiosk.accounts import open_accounts
from kiosk.clock import ManualClock
from kiosk.db import Delivery, Outbox
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


async def _my_items(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000013")
    await press(pilot, "#my-items")


async def _history(pilot: Pilot[Any]) -> None:
    await _office(pilot)
    await press(pilot, "#item-history")  # the first line: camera 3B, overdue


async def _find(pilot: Pilot[Any]) -> None:
    await _office(pilot)
    await press(pilot, "#find")
    await pilot.press(*"clarke")
    await settle(pilot)


async def _person_history(pilot: Pilot[Any]) -> None:
    await _find(pilot)
    await press(pilot, "#show")


async def _after_undo(pilot: Pilot[Any]) -> None:
    await _signed_out(pilot)
    await press(pilot, "#undo")


async def _pin(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await tap(pilot, "B0000001")
    await press(pilot, "#admin")


async def _admin(pilot: Pilot[Any]) -> None:
    await _pin(pilot)
    await pilot.press(*"2468", "enter")
    await settle(pilot)


async def _enrol(pilot: Pilot[Any]) -> None:
    await _admin(pilot)
    await press(pilot, "#enrol")
    await tap(pilot, "B0000014")
    await pilot.press(*"olivia")
    await settle(pilot)
    await press(pilot, "#give")  # Ms Khan's badge: asks before moving it


async def _stock_take(pilot: Pilot[Any]) -> None:
    await _admin(pilot)
    await press(pilot, "#stock-take")
    for uid in ("AD00000B", "AD00000C", "A1A00001", "CA00005B", "F0000001", "CA00001A"):
        await tap(pilot, uid)
    await press(pilot, "#finish")


async def _failed_alerts(pilot: Pilot[Any]) -> None:
    await _admin(pilot)
    await press(pilot, "#alerts")


async def _staff_list(pilot: Pilot[Any]) -> None:
    await _admin(pilot)
    await press(pilot, "#staff")


async def _item_list(pilot: Pilot[Any]) -> None:
    await _admin(pilot)
    await press(pilot, "#items")


async def _edit_item(pilot: Pilot[Any]) -> None:
    await _item_list(pilot)
    await press(pilot, "#edit")


async def _add_staff(pilot: Pilot[Any]) -> None:
    await _staff_list(pilot)
    await press(pilot, "#add")


async def _import(pilot: Pilot[Any]) -> None:
    await _admin(pilot)
    await press(pilot, "#import")
    pilot.app.screen.query_one("#path", Input).value = str(IMPORT_FILE)
    await press(pilot, "#import-staff")


async def _web_accounts(pilot: Pilot[Any]) -> None:
    await _admin(pilot)
    await press(pilot, "#web-accounts")


async def _add_web_account(pilot: Pilot[Any]) -> None:
    await _web_accounts(pilot)
    await press(pilot, "#add")
    for widget_id, text in (
        ("username", "s.evans"),
        ("name", "Siân Evans"),
        ("password", "larch kettle harbour"),
        ("again", "larch kettle harbor"),
    ):
        pilot.app.screen.query_one(f"#{widget_id}", Input).value = text
    await press(pilot, "#save")  # the two passwords differ: said, and both emptied


async def _released(pilot: Pilot[Any]) -> None:
    """Wait until no button still shows the last press (a button looks pressed for 0.2 s).

    Without this a picture taken on a fast machine shows the pressed button, and one taken on a
    slow machine does not.
    """
    for button in pilot.app.screen.query(Button).results(Button):
        while button.has_class("-active"):
            await pilot.pause(0.05)
    await settle(pilot)
    await _tables_measured(pilot)


async def _tables_measured(pilot: Pilot[Any]) -> None:
    """Wait until every table on the screen has measured its columns for its rows.

    A DataTable sizes its columns to rows just added only when it is next idle (Textual's
    ``DataTable._on_idle``); on a busy machine a picture taken before that shows the rows
    cut to the width of the column headings ("Clas", "availa").
    """
    for table in pilot.app.screen.query(DataTable).results(DataTable):
        for _ in range(500):
            if not (table._require_update_dimensions or table._updated_cells):
                break
            await pilot.pause(0.01)
        assert not table._require_update_dimensions, f"{table} never measured its rows"
    await pilot.pause()


SCREENS: dict[str, Callable[[Pilot[Any]], Awaitable[None]]] = {
    "idle": _idle,
    "session": _session,
    "signed_out": _signed_out,
    "after_undo": _after_undo,
    "trip_phone": _trip_phone,
    "checklist": _checklist,
    "refused": _refused,
    "my_items": _my_items,
    "office": _office,
    "history": _history,
    "find": _find,
    "person_history": _person_history,
    "pin": _pin,
    "admin": _admin,
    "enrol": _enrol,
    "stock_take": _stock_take,
    "failed_alerts": _failed_alerts,
    "staff_list": _staff_list,
    "item_list": _item_list,
    "edit_item": _edit_item,
    "add_staff": _add_staff,
    "import": _import,
    "web_accounts": _web_accounts,
    "add_web_account": _add_web_account,
}

#: A file the import screen previews; its path shows on the screen, so it does not vary.
IMPORT_FILE = Path("/tmp/kiosk-snapshot-import/staff.csv")


def _failed_alert(clock: ManualClock) -> None:
    now = clock.now()
    dead = Outbox.create(
        key="snapshot:1",
        kind="lost",
        audience="slt",
        payload={"summary": "Class camera 2A is lost"},
        created_at=now,
        dead_at=now,
        attempts=10,
        last_error=(
            "webhook slt_hook: https://slt.example/hook answered 500 (Internal Server Error) "
            "ten times; check that SLT's receiver is running, then try again"
        ),
    )
    Delivery.create(
        outbox=dead, channel="slt_hook", created_at=now, next_attempt_at=now, dead_at=now
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_snapshot(
    snap_compare: Any, demo_service: LoanService, name: str, size: tuple[int, int]
) -> None:
    IMPORT_FILE.parent.mkdir(exist_ok=True)
    IMPORT_FILE.write_text(
        "staff_id,name,known_as,role,classes\n"
        "S013,Emma Clarke,Mrs Clarke,staff,5A\n"
        "S014,Amira Khan,Ms Khan,staff,5B 6B\n"
        "S026,Noor Ali,Ms Ali,staff,2B\n",
        encoding="utf-8",
    )
    assert isinstance(demo_service.clock, ManualClock)
    if name == "failed_alerts":
        _failed_alert(demo_service.clock)
    if name == "web_accounts":
        accounts = open_accounts(demo_service.settings, demo_service.clock)
        accounts.add_user("a.jones", "Alex Jones", "office", "larch kettle harbour")
        accounts.add_user("s.evans", "Siân Evans", "slt", "larch kettle harbour")
        accounts.add_user("it.lead", "Sam Patel", "admin", "larch kettle harbour")
    app = make_app(demo_service)

    async def steps(pilot: Pilot[Any]) -> None:
        await SCREENS[name](pilot)
        await _released(pilot)

    assert snap_compare(app, terminal_size=size, run_before=steps)

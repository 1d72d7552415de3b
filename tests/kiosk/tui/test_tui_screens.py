"""My items, the office board and admin, driven as a person would, checked against the database."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from hardware.base import NullFeedback, Reader
from hardware.events import Emit, ReaderBack, ReaderLost, TagSeen
from kiosk.clock import ManualClock
from kiosk.db import Delivery, Event, Item, Loan, Outbox, Staff
from kiosk.errors import Refused
from kiosk.loans import LoanService
from kiosk.tui.app import KioskApp
from kiosk.tui.screens.admin.menu import AdminScreen
from kiosk.tui.screens.admin.pin import PinScreen
from kiosk.tui.screens.done import DoneScreen
from kiosk.tui.screens.history import HistoryScreen
from kiosk.tui.screens.idle import IdleScreen
from kiosk.tui.screens.office import OfficeScreen
from kiosk.tui.screens.session import SessionScreen
from kiosk.tui.widgets.tables import LoanTable
from tests.kiosk.tui.tui_helpers import make_app, press, screen_text, settle, tap

pytestmark = pytest.mark.asyncio

ADMIN = "B0000001"  # Mr Okafor, PIN 2468
OFFICE = "B0000002"  # Mrs Price
CLARKE = "B0000013"  # has iPad trolley A
HUSSAIN = "B0000011"  # has trip phone 2


async def choose_row(pilot: object, table_id: str, text: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    table = app.screen.query_one(table_id, DataTable)
    for r in range(table.row_count):
        if text in " ".join(str(c) for c in table.get_row_at(r)):
            table.move_cursor(row=r)
            await pilot.pause()  # type: ignore[attr-defined]
            return
    raise AssertionError(f"no row with {text!r} in {table_id}")


async def test_my_items_report_lost(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, CLARKE)
        await press(pilot, "#my-items")
        assert "iPad trolley A key" in screen_text(app)
        await press(pilot, "#lost")
        assert "Is iPad trolley A key lost? SLT will be told at once." in screen_text(app)
        await press(pilot, "#lost-yes")
        text = screen_text(app)
        assert (
            "iPad trolley A key is recorded as lost. "
            "No alert channel is set up for SLT: please tell SLT yourself." in text
        )
        assert "You have nothing out now." in text
    assert Item.get(Item.tag_uid == "AD00000A").status == "lost"
    assert Outbox.select().where(Outbox.kind == "lost").count() == 1


async def test_my_items_report_damage(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, CLARKE)
        await press(pilot, "#my-items")
        await press(pilot, "#damage")
        await pilot.press(*"handle broken", "enter")
        await settle(pilot)
        assert (
            "Damage recorded. No alert channel is set up for IT: please tell IT yourself. "
            "Thank you." in screen_text(app)
        )
    assert Item.get(Item.tag_uid == "AD00000A").status == "damaged"
    assert Outbox.select().where(Outbox.kind == "damaged").count() == 1


async def test_my_items_extend_a_trip_phone(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, HUSSAIN)
        await press(pilot, "#my-items")
        await press(pilot, "#time")
        await press(pilot, "#preset-tomorrow")
        assert "Trip phone 2: back by 15:30 tomorrow." in screen_text(app)
    loan = (
        Loan.select().join(Item).where(Item.tag_uid == "F0000002", Loan.closed_at.is_null()).get()
    )
    assert loan.due_at.day == 24 and loan.due_at.hour == 15


async def test_only_office_and_admin_see_the_office_board_button(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, CLARKE)
        assert "Office board" not in screen_text(app)
        await tap(pilot, OFFICE)
        text = screen_text(app)
        assert "Office board" in text and "Admin" not in text


async def test_office_board_filters_search_and_histories(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, OFFICE)
        await press(pilot, "#office")
        assert isinstance(app.screen, OfficeScreen)
        assert "6 out, 1 OVERDUE" in screen_text(app)
        await press(pilot, "#kind-camera")
        text = screen_text(app)
        assert "3 out, 1 OVERDUE" in text and "iPad trolley" not in text
        await press(pilot, "#overdue")
        assert "1 overdue" in screen_text(app)
        await press(pilot, "#overdue")
        await press(pilot, "#kind-all")
        await pilot.click("#search")
        await pilot.press(*"robinson")
        await settle(pilot)
        text = screen_text(app)
        assert "1 out" in text and "Laptop trolley key | James Robinson" in text
        await press(pilot, "#person-history")
        assert isinstance(app.screen, HistoryScreen)
        text = screen_text(app)
        assert "History of James Robinson" in text
        assert "still out" in text  # the laptop trolley, first (newest)
        assert "Returned" in text  # and weeks of history
        await press(pilot, "#back")
        assert isinstance(app.screen, OfficeScreen)
        await press(pilot, "#item-history")
        assert "History of Laptop trolley key" in screen_text(app)


async def test_find_anyone_shows_the_history_of_an_item_not_out(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, OFFICE)
        await press(pilot, "#office")
        await press(pilot, "#find")
        await pilot.press(*"camera 5b")
        await settle(pilot)
        await press(pilot, "#show")
        text = screen_text(app)
        assert "History of Class camera 5B" in text
        assert "Emma Clarke" in text or "Amira Khan" in text or "Lucy Bennett" in text


async def open_admin(pilot: object, app: KioskApp) -> None:
    await settle(pilot)  # type: ignore[arg-type]
    await tap(pilot, ADMIN)  # type: ignore[arg-type]
    await press(pilot, "#admin")  # type: ignore[arg-type]
    assert isinstance(app.screen, PinScreen)
    await pilot.press(*"2468", "enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, AdminScreen)


async def test_admin_pin_wrong_then_lockout(app: KioskApp, demo_service: LoanService) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, ADMIN)
        await press(pilot, "#admin")
        for _ in range(4):
            await pilot.press(*"1111", "enter")
            await settle(pilot)
            assert "Wrong PIN. Try again." in screen_text(app)
        await pilot.press(*"1111", "enter")
        await settle(pilot)
        assert "Wrong PIN. Admin is locked for 5 minutes." in screen_text(app)
        await pilot.press(*"2468", "enter")
        await settle(pilot)
        assert "Admin is locked for" in screen_text(app)
        assert isinstance(app.screen, PinScreen)
    with pytest.raises(Refused):
        demo_service.check_admin_pin(Staff.get(Staff.badge_uid == ADMIN).get_id(), "2468")


async def test_admin_enrols_a_new_badge(app: KioskApp, demo_service: LoanService) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#enrol")
        await tap(pilot, "04A22B1A")  # not known: captured, not signed in or out
        assert "Tag 04A22B1A: not enrolled yet." in screen_text(app)
        await pilot.press(*"olivia")
        await settle(pilot)
        await press(pilot, "#give")
        assert "Badge enrolled for Olivia Scott." in screen_text(app)
        await tap(pilot, "B0000014")  # Ms Khan's badge: already someone's
        assert "Tag B0000014: now Amira Khan's badge." in screen_text(app)
    assert Staff.get(Staff.name == "Olivia Scott").badge_uid == "04A22B1A"
    khan = Staff.get(Staff.badge_uid == "B0000014")
    assert not Event.select().where(Event.action == "badge", Event.staff == khan).count()


async def test_admin_stock_take_lists_what_is_missing(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#stock-take")
        present = [
            i.tag_uid for i in Item.select() if i.name not in ("Class camera 5B", "Trip phone 4")
        ]
        assert app.keyboard_reader is not None
        for uid in present:
            assert uid is not None and app.keyboard_reader.feed(uid)
        await settle(pilot)
        assert f"{len(present)} tags seen." in screen_text(app)
        await press(pilot, "#finish")
        text = screen_text(app)
        assert "2 missing" in text
        assert "Class camera 5B | MISSING" in text
        assert "Trip phone 4 | MISSING" in text
        # Items tapped in the cupboard while the records say they are out.
        out_now = [v.item.name for v in app.service.board()]
        assert out_now
        assert f"{len(out_now)} here but shown as out." in text
        for name in out_now:
            assert f"{name} | HERE, shown as out" in text


async def test_admin_adds_and_edits_staff(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#staff")
        await press(pilot, "#add")
        await pilot.press(*"S100")
        await press(pilot, "#save")
        assert "Name is empty." in screen_text(app)
        app.screen.query_one("#f-name", Input).value = "Zara Ahmed"
        app.screen.query_one("#f-classes", Input).value = "3a"
        await press(pilot, "#save")
        assert "Zara Ahmed | S100 | staff | 3A" in screen_text(app)
        await pilot.click("#find")
        await pilot.press(*"zara")
        await settle(pilot)
        await press(pilot, "#edit")
        app.screen.query_one("#f-role", Input).value = "office"
        await press(pilot, "#save")
        assert "Zara Ahmed | S100 | office | 3A" in screen_text(app)
    assert Staff.get(Staff.staff_id == "S100").role == "office"


async def test_admin_adds_an_item(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#items")
        await press(pilot, "#add")
        for key, value in (
            ("asset_tag", "CAM-3A"),
            ("name", "Class camera 3A"),
            ("kind", "camera"),
            ("home_class", "3a"),
            ("contents", "x"),
        ):
            app.screen.query_one(f"#f-{key}", Input).value = value
        await press(pilot, "#save")
        assert "Contents 'x' should look like iPads:30" in screen_text(app)
        app.screen.query_one("#f-contents", Input).value = ""
        await press(pilot, "#save")
        assert "Class camera 3A | CAM-3A | Class camera | available | NO" in screen_text(app)
    assert Item.get(Item.asset_tag == "CAM-3A").home_class == "3A"


async def test_admin_imports_staff_from_a_csv_file(app: KioskApp, tmp_path: Path) -> None:
    good = tmp_path / "staff.csv"
    good.write_text("staff_id,name,known_as,role,classes\nS300,Noor Ali,Ms Ali,staff,2B\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("staff_id,name,role\nS301,,staff\nS302,Ann Lee,teacher\n")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#import")
        app.screen.query_one("#path", Input).value = str(bad)
        await press(pilot, "#import-staff")
        text = screen_text(app)
        assert "nothing was imported. Fix these lines:" in text
        assert "line 2: name is empty" in text and "line 3: role 'teacher'" in text
        app.screen.query_one("#path", Input).value = str(good)
        await press(pilot, "#import-staff")
        text = screen_text(app)  # first what it would do, and nothing saved yet
        assert "would add 1, change 0" in text and "add     line 2: S300 Noor Ali" in text
        assert "Nothing is saved until you press Save these changes." in text
        assert not Staff.select().where(Staff.staff_id == "S300").exists()
        await press(pilot, "#save")
        assert "Saved." in screen_text(app) and "1 added" in screen_text(app)
    assert Staff.get(Staff.staff_id == "S300").classes == "2B"
    assert not Staff.select().where(Staff.staff_id.in_(["S301", "S302"])).exists()


async def test_failed_alerts_are_counted_listed_and_sent_again(
    app: KioskApp,
    clock: ManualClock,
) -> None:
    now = clock.now()
    dead = Outbox.create(
        key="x1",
        kind="lost",
        audience="slt",
        payload={"summary": "Camera 2A is lost"},
        created_at=now,
        dead_at=now,
        attempts=8,
        last_error="HTTP 500 from Teams",
    )
    Delivery.create(
        outbox=dead,
        channel="teams",
        created_at=now,
        next_attempt_at=now,
        dead_at=now,
        attempts=8,
        last_error="HTTP 500 from Teams",
    )
    Outbox.create(
        key="x2",
        kind="overdue",
        audience="office",
        payload={"summary": "s"},
        created_at=now,
        next_attempt_at=now,
    )
    sent = Outbox.create(
        key="x3",
        kind="overdue",
        audience="office",
        payload={"summary": "s"},
        created_at=now,
        delivered_at=now - timedelta(minutes=5),
    )
    Delivery.create(
        outbox=sent,
        channel="email",
        created_at=now,
        next_attempt_at=now,
        delivered_at=now - timedelta(minutes=5),
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "Alerts: last sent 08:55, 1 waiting, 1 FAILED" in screen_text(app)
        await open_admin(pilot, app)
        await press(pilot, "#alerts")
        text = screen_text(app)
        assert "1 alert could not be delivered." in text
        assert "Camera 2A is lost | 09:00 | HTTP 500 from Teams" in text
        await press(pilot, "#retry")
        text = screen_text(app)
        assert "Queued to send again" in text and "No alert has failed." in text
        assert "2 waiting" in text
    assert Outbox.get(Outbox.key == "x1").dead_at is None
    assert Delivery.get(Delivery.outbox == dead).dead_at is None


class ThreadReader(Reader):
    """A reader whose events come from its own thread, as the RC522 and evdev readers' do."""

    name = "rc522"

    def __init__(self) -> None:
        self._emit: Emit | None = None

    def start(self, emit: Emit) -> None:
        self._emit = emit

    def stop(self) -> None:
        self._emit = None

    def from_thread(self, *events: object) -> None:
        emit = self._emit
        assert emit is not None

        def run() -> None:
            for e in events:
                emit(e)  # type: ignore[arg-type]

        t = threading.Thread(target=run)
        t.start()
        t.join()


async def test_a_tag_seen_on_a_reader_thread_reaches_the_screen(demo_service: LoanService) -> None:
    reader, feedback = ThreadReader(), NullFeedback()
    app = make_app(demo_service, [reader], feedback)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert not app.screen.query("#tag")  # no keyboard reader: no typing box
        reader.from_thread(TagSeen("B0000014", "rc522", time.monotonic()))
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        reader.from_thread(TagSeen("CA00005B", "rc522", time.monotonic()))
        await settle(pilot)
        assert isinstance(app.screen, DoneScreen)
        assert "Class camera 5B is yours." in screen_text(app)
        reader.from_thread(ReaderLost("rc522", "no answer on SPI", time.monotonic()))
        await settle(pilot)
        assert "Reader rc522: OFFLINE" in screen_text(app)
        await press(pilot, "#ok")  # back to the idle screen, where people look
        text = screen_text(app)
        assert "The rc522 is not working, so taps on it are not seen." in text
        assert "no answer on SPI" in text
        reader.from_thread(ReaderBack("rc522", time.monotonic()))
        await settle(pilot)
        text = screen_text(app)
        assert "Reader rc522: ok" in text and "not working" not in text
    assert feedback.calls[:4] == ["accepted", "accepted", "reader_lost", "reader_back"]
    assert Event.select().where(Event.reader == "rc522", Event.action == "sign_out").count() == 1


async def test_unsynchronised_clock_is_shown(demo_service: LoanService, clock: ManualClock) -> None:
    clock.synced = False
    app = make_app(demo_service)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "Clock: NOT SET" in screen_text(app)
        assert isinstance(app.screen, IdleScreen)


async def test_the_linux_console_gets_the_16_colour_theme(demo_service: LoanService) -> None:
    from hardware.base import KeyboardReader
    from kiosk.tui.app import build_app
    from sync.status import AlertDesk

    app = build_app(
        demo_service,
        [KeyboardReader()],
        NullFeedback(),
        alerts=AlertDesk(demo_service.clock),
        console_colours=True,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "ansi-dark"
        assert "Tap your badge" in screen_text(app)


async def test_an_import_that_changes_the_signed_in_admin_asks_first_in_words(
    app: KioskApp, tmp_path: Path
) -> None:
    mine = tmp_path / "staff.csv"
    mine.write_text("staff_id,name,role\nS001,Dan Okafor,admin\nS300,Noor Ali,staff\n")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)  # Mr Okafor, S001
        await press(pilot, "#import")
        app.screen.query_one("#path", Input).value = str(mine)
        await press(pilot, "#import-staff")
        text = screen_text(app)
        assert "This changes your own record (S001 Daniel Okafor): name" in text
        assert "Save it anyway?" in text
        assert Staff.get(Staff.staff_id == "S001").name == "Daniel Okafor"
        await press(pilot, "#save")
    assert Staff.get(Staff.staff_id == "S001").name == "Dan Okafor"


async def test_editing_ones_own_record_asks_before_saving(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#staff")
        app.screen.query_one("#find", Input).value = "S001"
        await settle(pilot)
        await press(pilot, "#edit")
        app.screen.query_one("#f-name", Input).value = "Dan Okafor"
        await settle(pilot)
        await press(pilot, "#save")
        text = screen_text(app)
        assert "This changes your own record (S001 Daniel Okafor): name" in text
        assert "Yes, save it" in text
        assert Staff.get(Staff.staff_id == "S001").name == "Daniel Okafor"  # not yet
        await press(pilot, "#save")
    assert Staff.get(Staff.staff_id == "S001").name == "Dan Okafor"


async def test_the_last_admin_cannot_take_away_their_own_admin(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#staff")
        app.screen.query_one("#find", Input).value = "S001"
        await settle(pilot)
        await press(pilot, "#edit")
        app.screen.query_one("#f-role", Input).value = "office"
        await settle(pilot)
        await press(pilot, "#save")
        assert "would leave no active admin with a PIN" in screen_text(app)
    assert Staff.get(Staff.staff_id == "S001").role == "admin"


async def test_enrolling_a_badge_that_is_someones_asks_before_moving_it(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#enrol")
        await tap(pilot, "B0000014")  # Ms Khan's badge
        await pilot.press(*"olivia")
        await settle(pilot)
        await press(pilot, "#give")
        text = screen_text(app)
        assert "This is Amira Khan's badge. Give it to Olivia Scott instead?" in text
        assert Staff.get(Staff.name == "Amira Khan").badge_uid == "B0000014"
        await press(pilot, "#move")
        assert "Badge enrolled for Olivia Scott. It is no longer Amira Khan's badge." in (
            screen_text(app)
        )
    assert Staff.get(Staff.name == "Olivia Scott").badge_uid == "B0000014"
    assert Staff.get(Staff.name == "Amira Khan").badge_uid is None


async def test_the_idle_board_says_when_some_loans_do_not_fit(
    demo_service: LoanService, clock: ManualClock
) -> None:
    for item in Item.select().where(Item.status == "available"):
        if not Loan.select().where(Loan.item == item, Loan.closed_at.is_null()).exists():
            Loan.create(item=item, borrower=Staff.get(Staff.staff_id == "S001"), out_at=clock.now())
    out = Loan.select().where(Loan.closed_at.is_null()).count()
    app = make_app(demo_service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause()
        count = str(app.screen.query_one("#count", Static).content)
        assert count.startswith(f"Out now: {out}")
        board = app.screen.query_one(LoanTable)
        hidden = board.rows_out_of_sight()
        assert hidden > 0 and count.endswith(f"{hidden} more below.")
    async with make_app(demo_service).run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        await pilot.pause()
        assert "more below" not in str(pilot.app.screen.query_one("#count", Static).content)

"""The loan service: the one object the kiosk screen and the CLI call. Taps in, views out.

A thin front over the rooms of ``kiosk.loans``: taps (``taps``), undo (``undo``),
after-the-tap follow-ups (``followups``, ``counts``), people and tags (``people``),
admin PINs (``pins``), the office acting for someone (``office``), spare cards and
lost badges (``cards``), open problems (``problems``) and the read-only questions
(``queries``). It owns the kiosk's in-memory
state (``state``: the badge session, the double-tap memory, the undo slot) and runs
every operation under one lock, so the screen's service thread and any other caller
see one tap at a time.

Everything a physical tap settles is committed at the tap: a returned item is back
even if the person walks away before the checklist, and a trip phone is signed out
(due at the end of the day) even before its return time is chosen. Follow-up calls
refine the record. No UI, hardware or HTTP here.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Mapping
from datetime import date, datetime, time

import peewee as pw

from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import database
from kiosk.loans.calls import Calls
from kiosk.loans.cards import Cards
from kiosk.loans.clockfix import Correction, correct_times
from kiosk.loans.counts import HandoverCounts
from kiosk.loans.day import day_report
from kiosk.loans.followups import FollowUps
from kiosk.loans.office import OfficeActs
from kiosk.loans.people import People
from kiosk.loans.pins import AdminPins
from kiosk.loans.queries import Queries, ReturnChecklist
from kiosk.loans.state import PendingSlot, Sessions, TapMemory, UndoSlot, Visit
from kiosk.loans.stocktake import StockTakes
from kiosk.loans.taps import Taps
from kiosk.loans.undo import undo_last
from kiosk.settings import Settings
from kiosk.views import (
    ActionResult,
    CallView,
    Checklist,
    DayReport,
    ItemView,
    LoanView,
    ProblemList,
    ProblemView,
    SpareCardView,
    StaffView,
    StockTakeSaved,
    TapResult,
)

log = logging.getLogger(__name__)


class LoanService:
    """Everything the kiosk does to loans, for the screen, the CLI and the tests."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.calendar = SchoolCalendar(settings.school)
        self._lock = threading.RLock()
        kiosk = settings.kiosk
        self._sessions = Sessions(kiosk.session_seconds)
        self._undo = UndoSlot(kiosk.undo_seconds)
        self._admin = Visit(kiosk.admin_idle_seconds)
        self._pending = PendingSlot(kiosk.confirm_seconds)
        self.queries = Queries(settings, clock, self.calendar)
        self._taps = Taps(
            settings,
            clock,
            self.calendar,
            self.queries,
            self._sessions,
            TapMemory(kiosk.double_tap_seconds),
            self._undo,
            self._pending,
        )
        self._followups = FollowUps(settings, clock, self.calendar, self.queries, self._undo)
        self._counts = HandoverCounts(settings, clock, self.queries, self._undo)
        self._cards = Cards(settings, clock, self.calendar, self._sessions)
        self._people = People(settings, clock, self.queries, self._sessions, self._cards)
        self._pins = AdminPins(settings, clock)
        self._office = OfficeActs(settings, clock, self._taps)
        self._calls = Calls(settings, clock, self.calendar)
        self._stock = StockTakes(settings, clock, self.calendar, self.queries)

    # --- taps, the session and undo ---------------------------------------------------

    def tap(self, uid: str, reader: str = "keyboard") -> TapResult:
        """Handle one tag presented to a reader, and say what happened."""
        with self._lock:
            return self._taps.tap(uid, reader)

    @property
    def session_staff_id(self) -> int | None:
        with self._lock:
            session = self._sessions.current(self.clock.monotonic())
            return session.staff_id if session else None

    def session_until(self) -> float | None:
        """When (monotonic, this service's clock) the badge session ends, or None if none."""
        with self._lock:
            session = self._sessions.current(self.clock.monotonic())
            return session.until if session else None

    def keep_session(self) -> float | None:
        """Someone is still at the kiosk (a key, a touch): the session's new end, or None."""
        with self._lock:
            mono = self.clock.monotonic()
            self._sessions.keep(mono)
            session = self._sessions.current(mono)
            return session.until if session else None

    def end_session(self) -> None:
        """The person is done (Done, or the kiosk went back to idle): badge and admin end,
        and a question still waiting (borrow a damaged item?) is answered No."""
        with self._lock:
            self._sessions.end()
            self._admin.end()
            self._pending.clear()

    def borrow_anyway(self) -> TapResult:
        """Yes to a warning (the item is marked damaged): lend it now, within the deadline."""
        with self._lock:
            return self._taps.confirm()

    def leave_it(self) -> None:
        """No to a warning: nothing is lent."""
        with self._lock:
            self._taps.decline()

    def can_undo(self) -> bool:
        with self._lock:
            return self._undo.available(self.clock.monotonic())

    def undo(self) -> TapResult:
        """Reverse the last sign-out, return or hand-over, within the undo window."""
        with self._lock:
            return undo_last(self._undo, self.clock, self.queries)

    # --- after the tap ----------------------------------------------------------------

    def save_checklist(self, loan_id: int, answers: Checklist) -> ActionResult:
        with self._lock:
            return self._followups.save_checklist(loan_id, answers)

    def save_handover_count(self, previous_loan_id: int, counts: Mapping[str, int]) -> ActionResult:
        """What the next teacher counted in a trolley passed on to them; a shortfall goes
        against the loan of the teacher who had it."""
        with self._lock:
            return self._counts.save(previous_loan_id, counts)

    def report_lost(self, item_id: int, by_staff_id: int | None, note: str = "") -> ActionResult:
        with self._lock:
            return self._followups.report_lost(item_id, by_staff_id, note)

    def report_damage(self, loan_id: int, note: str) -> ActionResult:
        with self._lock:
            return self._followups.report_damage(loan_id, note)

    def set_due(self, loan_id: int, due_at: datetime, trip: str | None = None) -> ActionResult:
        with self._lock:
            return self._followups.set_due(loan_id, due_at, trip)

    # --- the office's day: personal calls, the stock-take, the day's report ------------

    def call_days(self, loan_id: int) -> list[date]:
        """The days a personal call on this loan can be on; the first is the trip's day."""
        with self._lock:
            return self._calls.days(loan_id)

    def add_personal_call(
        self,
        loan_id: int,
        day: date,
        at: time,
        number: str,
        reason: str,
        by_staff_id: int | None = None,
    ) -> ActionResult:
        """Record one personal call, text or email on a trip phone (Appendix 5)."""
        with self._lock:
            return self._calls.add(loan_id, day, at, number, reason, by_staff_id)

    def personal_calls(self, loan_id: int) -> list[CallView]:
        return self.queries.calls(loan_id)

    def save_stock_take(
        self, seen_uids: set[str], by_staff_id: int | None = None
    ) -> StockTakeSaved:
        """Keep the end-of-day stock-take's result and send it to the office."""
        with self._lock:
            return self._stock.save(seen_uids, by_staff_id)

    def day(self, day: date | None = None) -> DayReport:
        """Everything that happened on ``day`` (default today): the office's Today view."""
        return day_report(self.queries, day)

    # --- the office, for someone --------------------------------------------------------

    def sign_out_for(
        self,
        staff_pk: int,
        by_pk: int,
        *,
        uid: str | None = None,
        item_pk: int | None = None,
        lend_once: bool = False,
        reason: str = "",
    ) -> TapResult:
        """The office signs an item out to someone (a forgotten badge; a camera lent once)."""
        with self._lock:
            return self._office.sign_out_for(
                staff_pk, by_pk, uid=uid, item_pk=item_pk, lend_once=lend_once, reason=reason
            )

    def return_for(
        self, by_pk: int, *, uid: str | None = None, item_pk: int | None = None, reason: str = ""
    ) -> TapResult:
        """The office returns an item for whoever has it (found in the staffroom)."""
        with self._lock:
            return self._office.return_for(by_pk, uid=uid, item_pk=item_pk, reason=reason)

    def change_contents(
        self, item_pk: int, counts: Mapping[str, int], reason: str, by_pk: int
    ) -> ActionResult:
        with self._lock:
            return self._office.change_contents(item_pk, counts, reason, by_pk)

    def resolve_problem(self, problem_id: int, outcome: str, note: str, by_pk: int) -> ActionResult:
        """The office records what happened to an open problem (found, repaired, ...)."""
        with self._lock:
            return self.queries.problems.resolve(problem_id, outcome, note, by_pk)

    def give_spare_card(
        self,
        card_pk: int,
        by_pk: int,
        *,
        staff_pk: int | None = None,
        name: str = "",
        classes: str = "",
    ) -> ActionResult:
        with self._lock:
            return self._cards.give(card_pk, by_pk, staff_pk=staff_pk, name=name, classes=classes)

    def take_back_spare_card(self, card_pk: int, by_pk: int) -> ActionResult:
        with self._lock:
            return self._cards.take_back(card_pk, by_pk)

    def spare_card_lost(self, card_pk: int, by_pk: int) -> ActionResult:
        with self._lock:
            return self._cards.card_lost(card_pk, by_pk)

    def switch_off_badge(self, staff_pk: int, by_pk: int) -> ActionResult:
        """A badge reported lost: it stops working at once."""
        with self._lock:
            return self._cards.switch_off_badge(staff_pk, by_pk)

    # --- people, tags and admin -------------------------------------------------------

    def set_staff_active(self, staff_pk: int, active: bool, reason: str = "") -> ActionResult:
        with self._lock:
            return self._people.set_staff_active(staff_pk, active, reason)

    def enrol_tag(
        self,
        uid: str,
        *,
        staff_pk: int | None = None,
        item_pk: int | None = None,
        move: bool = False,
    ) -> str:
        with self._lock:
            return self._people.enrol_tag(uid, staff_pk=staff_pk, item_pk=item_pk, move=move)

    def enrol_spare(self, uid: str) -> str:
        """Add a tag to the office's pool of spare cards (admin)."""
        with self._lock:
            return self._people.enrol_spare(uid)

    def admin_locked_for(self) -> float:
        with self._lock:
            return self._pins.locked_for()

    def check_admin_pin(self, staff_pk: int, pin: str) -> bool:
        with self._lock:
            return self._pins.check(staff_pk, pin)

    def enter_admin(self, staff_pk: int, pin: str) -> float | None:
        """The PIN opens admin: until when (monotonic), kept by ``keep_admin``; None: wrong PIN."""
        with self._lock:
            if not self._pins.check(staff_pk, pin):
                return None
            return self._admin.start(self.clock.monotonic())

    def keep_admin(self) -> float | None:
        """Someone is using admin: its new end, or None once it has ended."""
        with self._lock:
            return self._admin.keep(self.clock.monotonic())

    def admin_until(self) -> float | None:
        with self._lock:
            return self._admin.until(self.clock.monotonic())

    def set_pin(self, staff_pk: int, pin: str) -> None:
        with self._lock:
            self._pins.set_pin(staff_pk, pin)

    # --- questions (read only) ----------------------------------------------------------

    def board(
        self, kind: str | None = None, overdue_only: bool = False, search: str = ""
    ) -> list[LoanView]:
        return self.queries.board(kind, overdue_only, search)

    def loan(self, loan_id: int) -> LoanView:
        return self.queries.loan(loan_id)

    def loans_for(self, staff_pk: int) -> list[LoanView]:
        return self.queries.loans_for(staff_pk)

    def item_history(self, item_pk: int, limit: int = 50) -> list[LoanView]:
        return self.queries.item_history(item_pk, limit)

    def staff_history(self, staff_pk: int, limit: int = 50) -> list[LoanView]:
        return self.queries.staff_history(staff_pk, limit)

    def find_staff(self, text: str = "", limit: int = 50) -> list[StaffView]:
        return self.queries.find_staff(text, limit)

    def find_items(self, text: str = "", limit: int = 100) -> list[ItemView]:
        return self.queries.find_items(text, limit)

    def staff(self, staff_pk: int) -> StaffView:
        return self.queries.staff(staff_pk)

    def item(self, item_pk: int) -> ItemView:
        return self.queries.item(item_pk)

    def tag_owner(self, uid: str) -> str | None:
        return self.queries.tag_owner(uid, switched_off=True)

    def open_problems(self) -> list[ProblemView]:
        return self.queries.open_problems()

    def open_problem_list(self) -> ProblemList:
        return self.queries.open_problem_list()

    def resolved_problems(self, limit: int = 50) -> list[ProblemView]:
        return self.queries.resolved_problems(limit)

    def open_problem_count(self) -> int:
        return self.queries.open_problem_count()

    def spare_cards(self) -> list[SpareCardView]:
        return self.queries.spare_cards()

    def items_with_contents(self) -> list[ItemView]:
        return self.queries.items_with_contents()

    def return_checklists(self) -> list[ReturnChecklist]:
        return self.queries.return_checklists()

    def stock_take(self, seen_uids: set[str]) -> list[tuple[ItemView, LoanView | None]]:
        return self.queries.stock_take(seen_uids)

    def out_but_here(self, seen_uids: set[str]) -> list[LoanView]:
        return self.queries.out_but_here(seen_uids)

    # --- storage upkeep -----------------------------------------------------------------

    def correct_times(self) -> Correction | None:
        """Once the clock is set: correct what was recorded before, in this boot."""
        with self._lock:
            return correct_times(self.settings, self.clock)

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file, while nobody is waiting.

        Call it on a thread of its own when the screen returns to idle: it opens and
        closes that thread's connection, and a passive checkpoint runs beside the taps'
        writes without blocking them.
        """
        db = database.obj
        try:
            with db.connection_context():
                busy, frames, done = db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            log.debug("checkpoint: %s of %s WAL frames copied (busy=%s)", done, frames, busy)
        except (pw.OperationalError, sqlite3.OperationalError) as exc:
            log.warning("checkpoint skipped: %s", exc)

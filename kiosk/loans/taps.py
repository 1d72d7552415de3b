"""A tag on the reader: badge, item or unknown, and what the school's rules make of it.

The hot path of the kiosk. A badge opens a session; an item tapped in a session is
signed out to that person, and an item that is out is returned (by anyone: it is
back in the office) or handed over to the person in the session. Each tap is
committed at once with its event, and the result says what to show and what can
be undone. Reads and writes here are the fixed SQL of ``kiosk.loans.rows`` and
``kiosk.journal``: a tap must answer in milliseconds on a Pi with years of loans.
"""

from __future__ import annotations

import peewee as pw

from hardware.events import InvalidUID, normalise_uid
from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Item, UnknownTag, database
from kiosk.errors import StorageError
from kiosk.journal import Journal, LoanRow
from kiosk.loans.mapper import ViewMapper
from kiosk.loans.queries import Queries
from kiosk.loans.rows import (
    ITEM_BY_TAG,
    OPEN_LOAN_OF_ITEM,
    STAFF_BY_BADGE,
    STAFF_BY_ID,
    ItemRow,
    StaffRow,
)
from kiosk.loans.state import Sessions, TapMemory, UndoSlot
from kiosk.settings import Settings
from kiosk.views import Outcome, TapResult


def _staff(sql: str, param: object) -> StaffRow | None:
    row = database.execute_sql(sql, (param,)).fetchone()
    return StaffRow.load(row) if row is not None else None


def _item_by_tag(uid: str) -> ItemRow | None:
    row = database.execute_sql(ITEM_BY_TAG, (uid,)).fetchone()
    return ItemRow.load(row) if row is not None else None


def _open_loan(item_id: int) -> LoanRow | None:
    row = database.execute_sql(OPEN_LOAN_OF_ITEM, (item_id,)).fetchone()
    return LoanRow.load(row) if row is not None else None


class Taps:
    """Decides and records taps. Not thread-safe: ``LoanService`` calls it under its lock."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        calendar: SchoolCalendar,
        queries: Queries,
        sessions: Sessions,
        seen: TapMemory,
        undo: UndoSlot,
    ) -> None:
        self.queries = queries
        self.settings = settings
        self.clock = clock
        self.calendar = calendar
        self.sessions = sessions
        self.seen = seen
        self.undo = undo
        self.journal = Journal(clock)
        self.views = ViewMapper(settings, calendar)

    def tap(self, uid: str, reader: str) -> TapResult:
        """Handle one tag presented to a reader, and say what happened."""
        try:
            uid = normalise_uid(uid)
        except InvalidUID:
            return TapResult(
                Outcome.REFUSED,
                "That is not a tag number.",
                "Tap a badge or an item on the reader.",
            )
        session, undo, seen = self.sessions.saved(), self.undo.saved(), self.seen.last_seen(uid)
        try:
            mono = self.clock.monotonic()
            if self.seen.repeated(uid, mono):
                return TapResult(Outcome.IGNORED, "", uid=uid)
            staff = _staff(STAFF_BY_BADGE, uid)
            if staff is not None:
                return self._badge(staff, reader, mono)
            item = _item_by_tag(uid)
            if item is not None:
                return self._item(item, reader, mono)
            return self._unknown(uid, reader)
        except StorageError:
            # Nothing was written (a full card, a busy or damaged file): nothing changes in
            # memory either. The session is as it was, and tapping again is a new tap, not
            # a double tap to ignore.
            self.sessions.restore(session)
            self.undo.restore(undo)
            self.seen.restore(uid, seen)
            raise

    # --- a badge ------------------------------------------------------------------------

    def _badge(self, staff: StaffRow, reader: str, mono: float) -> TapResult:
        sv = self.views.staff(staff)
        if not staff.active:
            self.sessions.end()
            with store.write():
                self.journal.event(
                    "refused", staff_id=staff.id, reader=reader, detail={"why": "inactive"}
                )
            return TapResult(
                Outcome.REFUSED, "This badge is switched off.", "Ask the office.", staff=sv
            )
        session = self.sessions.start(staff.id, mono)
        with store.write():
            self.journal.event("badge", staff_id=staff.id, reader=reader)
        return TapResult(
            Outcome.SESSION_STARTED,
            f"Hello, {sv.greeting}",
            "Tap an item.",
            staff=sv,
            loans=tuple(self.queries.loans_for(staff.id)),
            session_until=session.until,
        )

    # --- an item ------------------------------------------------------------------------

    def _item(self, item: ItemRow, reader: str, mono: float) -> TapResult:
        session = self.sessions.current(mono)
        holder = _staff(STAFF_BY_ID, session.staff_id) if session is not None else None
        if holder is not None:
            self.sessions.keep(mono)  # each tap keeps the session open
        open_loan = _open_loan(item.id)
        if item.status == "retired":
            return self._refuse(
                f"{item.name} is no longer in use.",
                "Give it to the office.",
                reader,
                staff=holder,
                item=item,
            )
        if open_loan is None and item.status == "lost":
            return self._found(item, holder, reader)
        if open_loan is not None:
            if holder is None or open_loan.borrower_id == holder.id:
                return self._return(open_loan, item, holder, reader, mono)
            why = self.why_not(holder, item)
            if why:
                return self._refuse(*why, reader, staff=holder, item=item)
            return self._hand_over(open_loan, item, holder, reader, mono)
        if holder is None:
            return self._refuse(
                "Tap your badge first,",
                f"then tap {item.name} again.",
                reader,
                item=item,
                record=False,
            )
        why = self.why_not(holder, item)
        if why:
            return self._refuse(*why, reader, staff=holder, item=item)
        return self._sign_out(item, holder, reader, mono)

    def why_not(self, staff: StaffRow, item: ItemRow) -> tuple[str, str] | None:
        """Why this person may not have this item, in words (and what to do), or None."""
        rule = self.settings.kind(item.kind)
        if rule.home_class_only and item.home_class and item.home_class not in staff.class_list:
            what = rule.label.lower().replace("class ", "")
            return (f"This {what} belongs to {item.home_class}.", "Ask the office.")
        return None

    def _refuse(
        self,
        message: str,
        detail: str,
        reader: str,
        *,
        staff: StaffRow | None = None,
        item: ItemRow | None = None,
        record: bool = True,
    ) -> TapResult:
        if record:
            with store.write():
                self.journal.event(
                    "refused",
                    staff_id=staff.id if staff else None,
                    item_id=item.id if item else None,
                    reader=reader,
                    detail={"why": message},
                )
        return TapResult(
            Outcome.REFUSED,
            message,
            detail,
            staff=self.views.staff(staff) if staff else None,
            item=self.views.item(item) if item else None,
        )

    def _sign_out(self, item: ItemRow, staff: StaffRow, reader: str, mono: float) -> TapResult:
        rule = self.settings.kind(item.kind)
        now = self.clock.now()
        due = self.calendar.due_for(rule, now)
        try:
            with store.write():
                loan = self.journal.open_loan(item.id, staff.id, due, off_site=rule.off_site)
                self.journal.event(
                    "sign_out", staff_id=staff.id, item_id=item.id, loan_id=loan.id, reader=reader
                )
        except pw.IntegrityError:
            # Another process (or a second kiosk) signed it out between our read and write.
            return TapResult(
                Outcome.REFUSED,
                f"{item.name} was just signed out.",
                "Tap it again.",
                item=self.views.item(item),
            )
        offer = self.undo.offer("sign_out", loan.id, item.id, mono)
        lv = self.views.loan(loan, item, staff, now)
        asks = rule.due == "choose"
        return TapResult(
            Outcome.SIGNED_OUT,
            f"{item.name} is yours.",
            "When will you be back?" if asks else f"Back by {lv.due_text}.",
            staff=lv.borrower,
            item=lv.item,
            loan=lv,
            asks_return_time=asks,
            undo_until=offer.until,
        )

    def _return(
        self, loan: LoanRow, item: ItemRow, by: StaffRow | None, reader: str, mono: float
    ) -> TapResult:
        borrower = by if by is not None and by.id == loan.borrower_id else None
        if borrower is None and loan.borrower_id is not None:
            borrower = _staff(STAFF_BY_ID, loan.borrower_id)
        with store.write():
            loan = self.journal.close_loan(loan, by.id if by else None, "returned")
            self.journal.event(
                "return",
                staff_id=by.id if by else loan.borrower_id,
                item_id=item.id,
                loan_id=loan.id,
                reader=reader,
                detail={"badge": by is not None},
            )
        offer = self.undo.offer("return", loan.id, item.id, mono)
        lv = self.views.loan(loan, item, borrower, self.clock.now())
        checklist = tuple(self.settings.kind(item.kind).checklist)
        return TapResult(
            Outcome.RETURNED,
            f"Thank you. {item.name} is back.",
            "A few quick checks:" if checklist else "",
            staff=lv.borrower,
            item=lv.item,
            loan=lv,
            checklist=checklist,
            undo_until=offer.until,
        )

    def _hand_over(
        self, old: LoanRow, item: ItemRow, to: StaffRow, reader: str, mono: float
    ) -> TapResult:
        rule = self.settings.kind(item.kind)
        now = self.clock.now()
        previous = _staff(STAFF_BY_ID, old.borrower_id) if old.borrower_id is not None else None
        with store.write():
            old = self.journal.close_loan(old, to.id, "handed_over")
            self.journal.event(
                "return",
                staff_id=to.id,
                item_id=item.id,
                loan_id=old.id,
                reader=reader,
                detail={"handed_over_to": to.staff_id},
            )
            due = old.due_at if rule.due == "choose" else self.calendar.due_for(rule, now)
            new = self.journal.open_loan(item.id, to.id, due, off_site=rule.off_site, trip=old.trip)
            self.journal.event(
                "sign_out",
                staff_id=to.id,
                item_id=item.id,
                loan_id=new.id,
                reader=reader,
                detail={"handed_over_from": previous.staff_id if previous else None},
            )
        offer = self.undo.offer("hand_over", new.id, item.id, mono, previous=old.id)
        iv = self.views.item(item)
        lv = self.views.loan(new, iv, to, now)
        prev = self.views.loan(old, iv, previous, now)
        from_name = prev.borrower.greeting if prev.borrower else "someone"
        return TapResult(
            Outcome.HANDED_OVER,
            f"{item.name} is yours now.",
            f"Passed on from {from_name}. Back by {lv.due_text}.",
            staff=lv.borrower,
            item=lv.item,
            loan=lv,
            previous=prev,
            asks_return_time=rule.due == "choose",
            undo_until=offer.until,
        )

    def _found(self, item: ItemRow, by: StaffRow | None, reader: str) -> TapResult:
        with store.write():
            Item.update(status="available").where(Item.id == item.id).execute()
            self.journal.event(
                "found", staff_id=by.id if by else None, item_id=item.id, reader=reader
            )
        return TapResult(
            Outcome.FOUND,
            f"{item.name} was reported lost: now marked as found.",
            "Thank you. Tap it again to borrow it.",
            item=self.views.item(item._replace(status="available")),
        )

    # --- an unknown tag -----------------------------------------------------------------

    def _unknown(self, uid: str, reader: str) -> TapResult:
        now = self.clock.now()
        quiet = self.settings.kiosk.unknown_tag_quiet_minutes * 60
        latest = (
            UnknownTag.select(pw.fn.MAX(UnknownTag.seen_at)).where(UnknownTag.uid == uid).scalar()
        )
        latest_at = UnknownTag.seen_at.python_value(latest)
        if latest_at is None or (now - latest_at).total_seconds() >= quiet:
            with store.write():
                UnknownTag.create(uid=uid, reader=reader, seen_at=now)
        return TapResult(
            Outcome.UNKNOWN_TAG,
            "This tag is not known here.",
            f"Ask the office to enrol it (tag {uid}).",
            uid=uid,
        )

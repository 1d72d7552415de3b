"""A tag on the reader: badge, item or unknown, and what the school's rules make of it.

The hot path of the kiosk. A badge opens a session; an item tapped in a session is
signed out to that person, and an item that is out is returned (by anyone: it is
back in the office) or handed over to the person in the session. Each tap is
committed at once with its event, and the result says what to show and what can
be undone. Reads and writes here are the fixed SQL of ``kiosk.loans.rows`` and
``kiosk.journal``: a tap must answer in milliseconds on a Pi with years of loans.

An item marked damaged is not lent at the tap: the tap asks first (``Outcome.WARNING``)
and ``confirm`` lends it if the person says yes within ``[kiosk] confirm_seconds``.
The office acting for someone (``kiosk.loans.office``) comes through here too, with
an ``Acting``, so its loans follow the same rules and say who did it.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from hardware.events import InvalidUID, normalise_uid
from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Item, UnknownTag, database
from kiosk.errors import Refused, StorageError
from kiosk.journal import Journal, LoanRow
from kiosk.loans import counts, problems
from kiosk.loans.acts import record_act
from kiosk.loans.cards import SpareCardRow, spare_by_uid, switched_off_owner, works_until
from kiosk.loans.mapper import ViewMapper
from kiosk.loans.queries import Queries
from kiosk.loans.rows import (
    ITEM_BY_ID,
    ITEM_BY_TAG,
    OPEN_LOAN_OF_ITEM,
    STAFF_BY_BADGE,
    STAFF_BY_ID,
    ItemRow,
    StaffRow,
)
from kiosk.loans.state import Pending, PendingSlot, Sessions, TapMemory, UndoSlot
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


def _item_by_id(item_id: int) -> ItemRow | None:
    row = database.execute_sql(ITEM_BY_ID, (item_id,)).fetchone()
    return ItemRow.load(row) if row is not None else None


@dataclass(frozen=True)
class Acting:
    """The office acting for someone: who (an office or admin member), what and why."""

    by: StaffRow
    act: str  # signed_out_for | returned_for | lent_to_class (kiosk.loans.acts)
    reason: str = ""

    def detail(self) -> dict[str, str]:
        """What the action's event says about it."""
        return {"by": self.by.staff_id, "act": self.act, "reason": self.reason}


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
        pending: PendingSlot,
    ) -> None:
        self.queries = queries
        self.pending = pending
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
        pending = self.pending.saved()
        try:
            mono = self.clock.monotonic()
            if self.seen.repeated(uid, mono):
                return TapResult(Outcome.IGNORED, "", uid=uid)
            self.pending.clear()  # a new tap is the answer to any question still on the screen
            staff = _staff(STAFF_BY_BADGE, uid)
            if staff is not None:
                return self._badge(staff, reader, mono)
            item = _item_by_tag(uid)
            if item is not None:
                return self._item(item, reader, mono)
            card = spare_by_uid(uid)
            if card is not None:
                return self._spare(card, reader, mono)
            return self._unknown(uid, reader)
        except StorageError:
            # Nothing was written (a full card, a busy or damaged file): nothing changes in
            # memory either. The session is as it was, a question on the screen still waits,
            # and tapping again is a new tap, not a double tap to ignore.
            self.sessions.restore(session)
            self.undo.restore(undo)
            self.seen.restore(uid, seen)
            self.pending.restore(pending)
            raise

    # --- a badge ------------------------------------------------------------------------

    def _badge(
        self, staff: StaffRow, reader: str, mono: float, card: str = "", until: str = ""
    ) -> TapResult:
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
            self.journal.event(
                "badge", staff_id=staff.id, reader=reader, detail={"card": card} if card else None
            )
        return TapResult(
            Outcome.SESSION_STARTED,
            f"Hello, {sv.greeting}",
            f"Tap an item. ({card} works until {until}.)" if card else "Tap an item.",
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
            if item.status == "damaged":
                return self._warn("hand_over", item, holder, reader, mono, open_loan)
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
        if item.status == "damaged":
            return self._warn("sign_out", item, holder, reader, mono)
        return self._sign_out(item, holder, reader, mono)

    def why_not(self, staff: StaffRow, item: ItemRow) -> tuple[str, str] | None:
        """Why this person may not have this item, in words (and what to do), or None."""
        rule = self.settings.kind(item.kind)
        if rule.home_class_only and item.home_class and item.home_class not in staff.class_list:
            what = rule.label.lower().replace("class ", "")
            return (f"This {what} belongs to {item.home_class}.", "Ask the office.")
        return None

    # --- an item marked damaged: ask first ----------------------------------------------

    def _warn(
        self,
        action: str,
        item: ItemRow,
        staff: StaffRow,
        reader: str,
        mono: float,
        open_loan: LoanRow | None = None,
        acting: Acting | None = None,
    ) -> TapResult:
        """Lend nothing yet: say what is wrong and wait for Yes (``confirm``)."""
        note = problems.damage_note(item.id) or item.notes.strip()
        pending = self.pending.ask(
            Pending(
                action,
                item.id,
                staff.id,
                open_loan.id if open_loan is not None else None,
                mono + self.settings.kiosk.confirm_seconds,
                reader,
                acting.by.id if acting else None,
                acting.act if acting else "",
                acting.reason if acting else "",
            )
        )
        with store.write():
            self.journal.event(
                "warned",
                staff_id=staff.id,
                item_id=item.id,
                reader=reader,
                detail={"why": "damaged", "note": note},
            )
        said = f"{item.name} is marked damaged" + (f": {note.rstrip('.')}." if note else ".")
        question = "Take it over anyway?" if action == "hand_over" else "Borrow it anyway?"
        if acting is not None:
            question = "Sign it out anyway?"
        return TapResult(
            Outcome.WARNING,
            said,
            question,
            staff=self.views.staff(staff),
            item=self.views.item(item),
            confirm_until=pending.until,
        )

    def confirm(self) -> TapResult:
        """Yes to the last warning: lend the item now, if it is still as it was."""
        mono = self.clock.monotonic()
        pending = self.pending.take(mono)
        if pending is None:
            raise Refused("Too late: nothing was lent. Tap the item again.")
        item = _item_by_id(pending.item_id)
        staff = _staff(STAFF_BY_ID, pending.staff_id)
        if item is None or staff is None:
            raise Refused("That item or person is no longer on the list: nothing was lent.")
        open_loan = _open_loan(item.id)
        if open_loan is not None and open_loan.id != pending.previous_loan_id:
            raise Refused(f"{item.name} has just been signed out by someone else.")
        if pending.action == "hand_over" and open_loan is None:
            raise Refused(f"{item.name} has just been returned. Tap it again to borrow it.")
        session, undo = self.sessions.saved(), self.undo.saved()
        self.sessions.keep(mono)
        acting = None
        if pending.by_id is not None:
            by = _staff(STAFF_BY_ID, pending.by_id)
            assert by is not None
            acting = Acting(by, pending.act, pending.reason)
        try:
            if open_loan is not None:
                return self._hand_over(open_loan, item, staff, pending.reader, mono, warned=True)
            return self._sign_out(item, staff, pending.reader, mono, acting=acting, warned=True)
        except StorageError:
            # Nothing was lent: the question waits as it was, so "Yes" can be pressed again.
            self.sessions.restore(session)
            self.undo.restore(undo)
            self.pending.restore(pending)
            raise

    def decline(self) -> None:
        """No to the last warning: nothing is lent."""
        self.pending.clear()

    # --- the office, for someone (kiosk.loans.office checks who and what first) -----------

    def sign_out_for(self, item: ItemRow, staff: StaffRow, acting: Acting) -> TapResult:
        """Sign ``item`` out to ``staff``, the office acting; a damaged item asks first."""
        mono = self.clock.monotonic()
        self.pending.clear()
        if item.status == "damaged":
            return self._warn("sign_out", item, staff, "office", mono, acting=acting)
        return self._sign_out(item, staff, "office", mono, acting=acting)

    def return_for(self, loan: LoanRow, item: ItemRow, acting: Acting) -> TapResult:
        """Return ``item`` for its borrower, the office acting."""
        self.pending.clear()
        return self._return(loan, item, None, "office", self.clock.monotonic(), acting=acting)

    def found(self, item: ItemRow, by: StaffRow) -> TapResult:
        """A lost item handed in at the office."""
        return self._found(item, by, "office")

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

    def _sign_out(
        self,
        item: ItemRow,
        staff: StaffRow,
        reader: str,
        mono: float,
        *,
        acting: Acting | None = None,
        warned: bool = False,
    ) -> TapResult:
        rule = self.settings.kind(item.kind)
        now = self.clock.now()
        due = self.calendar.due_for(rule, now)
        detail: dict[str, object] = {**acting.detail()} if acting is not None else {}
        if warned:
            detail["warned"] = "damaged"
        try:
            with store.write():
                loan = self.journal.open_loan(item.id, staff.id, due, off_site=rule.off_site)
                ev = self.journal.event(
                    "sign_out",
                    staff_id=staff.id,
                    item_id=item.id,
                    loan_id=loan.id,
                    reader=reader,
                    detail=detail or None,
                )
                if acting is not None:
                    record_act(loan.id, acting.act, acting.by.id, acting.reason, ev)
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
        message = f"{item.name} is yours."
        if acting is not None:
            to = lv.borrower.greeting if lv.borrower else staff.name
            message = f"{item.name} is signed out to {to}."
            if acting.act == "lent_to_class":
                message = f"{item.name} is lent once to {to}."
        return TapResult(
            Outcome.SIGNED_OUT,
            message,
            "When will it be back?"
            if asks and acting is not None
            else ("When will you be back?" if asks else f"Back by {lv.due_text}."),
            staff=lv.borrower,
            item=lv.item,
            loan=lv,
            asks_return_time=asks,
            undo_until=offer.until,
        )

    def _return(
        self,
        loan: LoanRow,
        item: ItemRow,
        by: StaffRow | None,
        reader: str,
        mono: float,
        *,
        acting: Acting | None = None,
    ) -> TapResult:
        borrower = by if by is not None and by.id == loan.borrower_id else None
        if borrower is None and loan.borrower_id is not None:
            borrower = _staff(STAFF_BY_ID, loan.borrower_id)
        closer = acting.by if acting is not None else by
        detail: dict[str, object] = {"badge": by is not None}
        if acting is not None:
            detail.update(acting.detail())
        with store.write():
            loan = self.journal.close_loan(loan, closer.id if closer else None, "returned")
            ev = self.journal.event(
                "return",
                staff_id=by.id if by else loan.borrower_id,
                item_id=item.id,
                loan_id=loan.id,
                reader=reader,
                detail=detail,
            )
            if acting is not None:
                record_act(loan.id, acting.act, acting.by.id, acting.reason, ev)
        offer = self.undo.offer("return", loan.id, item.id, mono)
        lv = self.views.loan(loan, item, borrower, self.clock.now())
        checklist = tuple(self.settings.kind(item.kind).checklist)
        message = f"Thank you. {item.name} is back."
        if acting is not None and lv.borrower is not None:
            message = f"{item.name} is back, returned for {lv.borrower.greeting}."
        return TapResult(
            Outcome.RETURNED,
            message,
            "A few quick checks:" if checklist else "",
            staff=lv.borrower,
            item=lv.item,
            loan=lv,
            checklist=checklist,
            undo_until=offer.until,
            expected=counts.expected(item.id, item.contents) if "count" in checklist else (),
        )

    def _hand_over(
        self,
        old: LoanRow,
        item: ItemRow,
        to: StaffRow,
        reader: str,
        mono: float,
        *,
        warned: bool = False,
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
                detail={"handed_over_from": previous.staff_id if previous else None}
                | ({"warned": "damaged"} if warned else {}),
            )
        offer = self.undo.offer("hand_over", new.id, item.id, mono, previous=old.id)
        iv = self.views.item(item)
        lv = self.views.loan(new, iv, to, now)
        prev = self.views.loan(old, iv, previous, now)
        from_name = prev.borrower.greeting if prev.borrower else "someone"
        # Counted now, so that a shortfall is put against the person who had it.
        count = "count" in rule.checklist and bool(item.contents)
        return TapResult(
            Outcome.HANDED_OVER,
            f"{item.name} is yours now.",
            f"Passed on from {from_name}. Back by {lv.due_text}.",
            staff=lv.borrower,
            item=lv.item,
            loan=lv,
            previous=prev,
            checklist=("count",) if count else (),
            asks_return_time=rule.due == "choose",
            undo_until=offer.until,
            expected=counts.expected(item.id, item.contents) if count else (),
        )

    def _found(self, item: ItemRow, by: StaffRow | None, reader: str) -> TapResult:
        with store.write():
            Item.update(status="available").where(Item.id == item.id).execute()
            ev = self.journal.event(
                "found", staff_id=by.id if by else None, item_id=item.id, reader=reader
            )
            problems.close_open("lost", item.id, "found", "tapped at the kiosk", ev)
        return TapResult(
            Outcome.FOUND,
            f"{item.name} was reported lost: now marked as found.",
            "Thank you. Tap it again to borrow it.",
            item=self.views.item(item._replace(status="available")),
        )

    # --- a spare card ------------------------------------------------------------------

    def _spare(self, card: SpareCardRow, reader: str, mono: float) -> TapResult:
        """A card of the office's pool: its holder's badge for the day, or refused in words."""
        if card.switched_off:
            return self._refuse(
                f"{card.label} is switched off: it was reported lost.",
                "Please give it to the office.",
                reader,
            )
        holder = _staff(STAFF_BY_ID, card.holder_id) if card.holder_id is not None else None
        if holder is None or card.given_at is None:
            return self._refuse(
                f"{card.label} is not given to anyone today.",
                "The office gives spare cards out for the day.",
                reader,
            )
        now = self.clock.now()
        until = works_until(self.calendar, card.given_at)
        if now >= until:
            self.sessions.end()
            return self._refuse(
                f"{card.label} switched itself off at {self.calendar.describe(until, now)}.",
                "A spare card works for one day only. Please give it back to the office.",
                reader,
                staff=holder,
            )
        return self._badge(holder, reader, mono, card.label, self.calendar.describe(until, now))

    # --- an unknown tag -----------------------------------------------------------------

    def _unknown(self, uid: str, reader: str) -> TapResult:
        badge = switched_off_owner(uid)
        if badge is not None:
            self.sessions.end()
            return self._refuse(
                "This badge is switched off: it was reported lost.",
                "Ask the office (they can sign out for you, or give a spare card).",
                reader,
            )
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

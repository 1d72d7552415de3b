"""The loan service: taps in, plain results out. No UI, hardware or HTTP here.

A tap is a UID seen by a reader. The service decides whether it is a badge, an
item or unknown, applies the school's rules, commits what happened (the loan,
its event, any alert, in one transaction) and returns a ``TapResult`` that says
what to show. Everything a physical tap settles is committed at the tap: a
returned item is back even if the person walks away before the checklist, and
a trip phone is signed out (due at the end of the day) even before its return
time is chosen. Follow-up calls refine the record.

Session, double-tap and undo state is in memory, timed with the monotonic
clock: it belongs to this kiosk's screen, not to the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

import peewee as pw

from hardware.events import InvalidUID, normalise_uid
from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Event, Item, Loan, Outbox, PersonalCall, Staff, UnknownTag
from kiosk.errors import NotFound, Refused, StorageError
from kiosk.settings import Settings
from kiosk.views import (
    ActionResult,
    AlertRaised,
    Checklist,
    ContentLine,
    ItemView,
    LoanView,
    Outcome,
    StaffView,
    TapResult,
)

log = logging.getLogger(__name__)

#: How many UIDs the double-tap memory holds before old ones are forgotten.
_SEEN_LIMIT = 512

_PIN_ITERATIONS = 60_000


@dataclass
class _Session:
    staff_id: int
    last: float


@dataclass
class _Undo:
    action: str  # sign_out | return | hand_over
    loan_id: int
    previous_loan_id: int | None
    until: float
    staff_id: int | None


def hash_pin(pin: str, *, iterations: int = _PIN_ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2${iterations}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2":
        return False
    got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(got.hex(), digest)


# --- the tap's hot path in plain SQL -------------------------------------------------------
# Building a Peewee query costs about 0.25 ms and Model.create about 0.75 ms here (more on a
# Pi), several times SQLite's own work. A tap runs a handful of statements, so the ones on
# its path are fixed SQL strings executed on the same connection and transaction; the
# models still describe the schema and everything off the hot path uses the ORM.

_STAFF_BY_BADGE = "SELECT * FROM staff WHERE badge_uid = ?"
_STAFF_BY_ID = "SELECT * FROM staff WHERE id = ?"
_ITEM_BY_TAG = "SELECT * FROM item WHERE tag_uid = ?"
_OPEN_LOAN_OF_ITEM = "SELECT * FROM loan WHERE item_id = ? AND closed_at IS NULL"
_INSERT_EVENT = (
    "INSERT INTO event (at, clock_synced, action, staff_id, item_id, loan_id, reader, detail)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_LOAN = (
    "INSERT INTO loan (item_id, borrower_id, out_at, out_clock_synced, due_at, trip, off_site,"
    " condition_note, anonymised) VALUES (?, ?, ?, ?, ?, ?, ?, '', 0)"
)
_CLOSE_LOAN = "UPDATE loan SET closed_at = ?, closed_by_id = ?, outcome = ? WHERE id = ?"
#: Open (or any) loans with their item and borrower, for views: one query, no lazy loads.
_LOAN_ROWS = (
    "SELECT l.id, l.out_at, l.due_at, l.trip, l.off_site, l.closed_at, l.outcome,"
    " l.checklist, l.condition_note,"
    " i.id, i.asset_tag, i.name, i.kind, i.status, i.home_class, i.phone_number, i.contents,"
    " i.tag_uid, i.notes,"
    " s.id, s.staff_id, s.name, s.known_as, s.role, s.classes, s.active, s.email, s.badge_uid"
    " FROM loan l JOIN item i ON i.id = l.item_id LEFT JOIN staff s ON s.id = l.borrower_id"
)


def _first(model: type[pw.Model], sql: str, *params: object) -> Any:
    return next(iter(model.raw(sql, *params)), None)


def _ts(value: datetime | None) -> str | None:
    return Loan.out_at.db_value(value)


class LoanService:
    """Everything the kiosk does to loans, for the screen, the CLI and the tests."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.calendar = SchoolCalendar(settings.school)
        self._lock = threading.RLock()
        self._session: _Session | None = None
        self._seen: dict[str, float] = {}
        self._undo: _Undo | None = None
        self._pin_failures = 0
        self._admin_locked_until = 0.0

    # --- views --------------------------------------------------------------------------

    def staff_view(self, staff: Staff) -> StaffView:
        return self._staff_view(
            staff.id,
            staff.staff_id,
            staff.name,
            staff.known_as,
            staff.role,
            staff.classes,
            staff.active,
            staff.email,
            staff.badge_uid,
        )

    @staticmethod
    def _staff_view(
        pk: int,
        staff_id: str,
        name: str,
        known_as: str,
        role: str,
        classes: str,
        active: bool,
        email: str,
        badge_uid: str | None,
    ) -> StaffView:
        return StaffView(
            id=pk,
            staff_id=staff_id,
            name=name,
            greeting=known_as or name,
            role=role,
            classes=tuple(classes.split()),
            active=bool(active),
            email=email,
            has_badge=bool(badge_uid),
        )

    def item_view(self, item: Item) -> ItemView:
        return self._item_view(
            item.id,
            item.asset_tag,
            item.name,
            item.kind,
            item.status,
            item.home_class,
            item.phone_number,
            item.contents,
            item.tag_uid,
            item.notes,
        )

    def _item_view(
        self,
        pk: int,
        asset_tag: str,
        name: str,
        kind: str,
        status: str,
        home_class: str,
        phone_number: str,
        contents: list[dict[str, Any]] | None,
        tag_uid: str | None,
        notes: str,
    ) -> ItemView:
        rule = self.settings.kind(kind)
        return ItemView(
            id=pk,
            asset_tag=asset_tag,
            name=name,
            kind=kind,
            kind_label=rule.label,
            status=status,
            home_class=home_class,
            phone_number=phone_number,
            contents=tuple(ContentLine(c["name"], int(c["count"])) for c in contents or []),
            off_site=rule.off_site,
            has_tag=bool(tag_uid),
            notes=notes,
        )

    def _view(
        self,
        *,
        loan_id: int,
        item: ItemView,
        borrower: StaffView | None,
        out_at: datetime,
        due: datetime | None,
        trip: str,
        off_site: bool,
        closed_at: datetime | None,
        outcome: str | None,
        checklist: dict[str, object] | None,
        condition_note: str,
        now: datetime,
    ) -> LoanView:
        return LoanView(
            id=loan_id,
            item=item,
            borrower=borrower,
            out_at=out_at,
            due_at=due,
            due_text=self.calendar.describe(due, now) if due else "no due time",
            overdue=bool(due and closed_at is None and now > due),
            trip=trip,
            off_site=bool(off_site),
            closed_at=closed_at,
            outcome=outcome,
            checklist=checklist,
            condition_note=condition_note,
        )

    def loan_view(self, loan: Loan, now: datetime | None = None) -> LoanView:
        return self._view(
            loan_id=loan.id,
            item=self.item_view(loan.item),
            borrower=self.staff_view(loan.borrower) if loan.borrower is not None else None,
            out_at=loan.out_at,
            due=loan.due_at,
            trip=loan.trip,
            off_site=loan.off_site,
            closed_at=loan.closed_at,
            outcome=loan.outcome,
            checklist=loan.checklist,
            condition_note=loan.condition_note,
            now=now or self.clock.now(),
        )

    def _loan_views(self, where: str, params: tuple[object, ...] = ()) -> list[LoanView]:
        """Loans with item and borrower from one joined query (``_LOAN_ROWS``)."""
        now = self.clock.now()
        ts, js = Loan.out_at.python_value, Loan.checklist.python_value
        views = []
        for r in store.database.execute_sql(f"{_LOAN_ROWS} WHERE {where}", params):
            item = self._item_view(
                r[9], r[10], r[11], r[12], r[13], r[14], r[15], js(r[16]), r[17], r[18]
            )
            borrower = self._staff_view(*r[19:28]) if r[19] is not None else None
            views.append(
                self._view(
                    loan_id=r[0],
                    item=item,
                    borrower=borrower,
                    out_at=cast(datetime, ts(r[1])),
                    due=ts(r[2]),
                    trip=r[3],
                    off_site=r[4],
                    closed_at=ts(r[5]),
                    outcome=r[6],
                    checklist=js(r[7]),
                    condition_note=r[8],
                    now=now,
                )
            )
        return views

    # --- taps ---------------------------------------------------------------------------

    @property
    def session_staff_id(self) -> int | None:
        with self._lock:
            self._expire_session(self.clock.monotonic())
            return self._session.staff_id if self._session else None

    def end_session(self) -> None:
        with self._lock:
            self._session = None

    def _expire_session(self, mono: float) -> None:
        s = self._session
        if s and mono - s.last > self.settings.kiosk.session_seconds:
            self._session = None

    def _is_double_tap(self, uid: str, mono: float) -> bool:
        last = self._seen.get(uid)
        self._seen[uid] = mono
        if len(self._seen) > _SEEN_LIMIT:
            window = self.settings.kiosk.double_tap_seconds
            self._seen = {u: t for u, t in self._seen.items() if mono - t < window}
        return last is not None and mono - last < self.settings.kiosk.double_tap_seconds

    def tap(self, uid: str, reader: str = "keyboard") -> TapResult:
        """Handle one tag presented to a reader, and say what happened."""
        try:
            uid = normalise_uid(uid)
        except InvalidUID:
            return TapResult(
                Outcome.REFUSED,
                "That is not a tag number.",
                "Tap a badge or an item on the reader.",
            )
        with self._lock:
            session = replace(self._session) if self._session else None
            undo, seen = self._undo, self._seen.get(uid)
            try:
                mono = self.clock.monotonic()
                if self._is_double_tap(uid, mono):
                    return TapResult(Outcome.IGNORED, "", uid=uid)
                self._expire_session(mono)
                staff = _first(Staff, _STAFF_BY_BADGE, uid)
                if staff is not None:
                    return self._badge(staff, reader, mono)
                item = _first(Item, _ITEM_BY_TAG, uid)
                if item is not None:
                    return self._item(item, reader, mono)
                return self._unknown(uid, reader)
            except StorageError:
                # Nothing was written (a full card, a busy or damaged file): nothing changes
                # in memory either. The session is as it was, and tapping again is a new
                # tap, not a double tap to ignore.
                self._session, self._undo = session, undo
                if seen is None:
                    self._seen.pop(uid, None)
                else:
                    self._seen[uid] = seen
                raise

    def _badge(self, staff: Staff, reader: str, mono: float) -> TapResult:
        sv = self.staff_view(staff)
        if not staff.active:
            self._session = None
            with store.write():
                self.record_event("refused", staff=staff, reader=reader, detail={"why": "inactive"})
            return TapResult(
                Outcome.REFUSED,
                "This badge is switched off.",
                "Ask the office.",
                staff=sv,
            )
        self._session = _Session(staff.id, mono)
        with store.write():
            self.record_event("badge", staff=staff, reader=reader)
        return TapResult(
            Outcome.SESSION_STARTED,
            f"Hello, {sv.greeting}",
            "Tap an item.",
            staff=sv,
            loans=tuple(self.loans_for(staff.id)),
        )

    def _item(self, item: Item, reader: str, mono: float) -> TapResult:
        iv = self.item_view(item)
        session_staff = (
            _first(Staff, _STAFF_BY_ID, self._session.staff_id) if self._session else None
        )
        if session_staff is not None and self._session is not None:
            self._session.last = mono  # each tap keeps the session open
        open_loan = _first(Loan, _OPEN_LOAN_OF_ITEM, item.id)
        if open_loan is not None:
            # Attach what we already hold, so that views need no further queries.
            open_loan.item = item
            if session_staff is not None and open_loan.borrower_id == session_staff.id:
                open_loan.borrower = session_staff
            elif open_loan.borrower_id is not None:
                open_loan.borrower = _first(Staff, _STAFF_BY_ID, open_loan.borrower_id)
        if item.status == "retired":
            return self._refuse(
                f"{item.name} is no longer in use.",
                "Give it to the office.",
                reader,
                staff=session_staff,
                item=item,
            )
        if open_loan is None and item.status == "lost":
            return self._found(item, session_staff, reader)
        if open_loan is not None:
            if session_staff is None or open_loan.borrower_id == session_staff.id:
                return self._return(open_loan, session_staff, reader, mono)
            why = self._why_not(session_staff, item)
            if why:
                return self._refuse(*why, reader, staff=session_staff, item=item)
            return self._hand_over(open_loan, session_staff, reader, mono)
        if session_staff is None:
            return self._refuse(
                "Tap your badge first,",
                f"then tap {item.name} again.",
                reader,
                item=item,
                record=False,
            )
        why = self._why_not(session_staff, item)
        if why:
            return self._refuse(*why, reader, staff=session_staff, item=item)
        return self._sign_out(item, session_staff, reader, mono, iv)

    def _why_not(self, staff: Staff, item: Item) -> tuple[str, str] | None:
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
        staff: Staff | None = None,
        item: Item | None = None,
        record: bool = True,
    ) -> TapResult:
        if record:
            with store.write():
                self.record_event(
                    "refused", staff=staff, item=item, reader=reader, detail={"why": message}
                )
        return TapResult(
            Outcome.REFUSED,
            message,
            detail,
            staff=self.staff_view(staff) if staff else None,
            item=self.item_view(item) if item else None,
        )

    def _sign_out(
        self, item: Item, staff: Staff, reader: str, mono: float, iv: ItemView
    ) -> TapResult:
        rule = self.settings.kind(item.kind)
        now, synced = self.clock.now(), self.clock.synchronised()
        due = self.calendar.due_for(rule, now)
        try:
            with store.write():
                loan = self._insert_loan(item, staff, now, synced, due, rule.off_site)
                self.record_event("sign_out", staff=staff, item=item, loan=loan, reader=reader)
        except pw.IntegrityError:
            # Another process (or a second kiosk) signed it out between our read and write.
            return TapResult(
                Outcome.REFUSED, f"{item.name} was just signed out.", "Tap it again.", item=iv
            )
        self._undo = _Undo(
            "sign_out", loan.id, None, mono + self.settings.kiosk.undo_seconds, staff.id
        )
        lv = self.loan_view(loan, now)
        asks = rule.due == "choose"
        detail = "When will you be back?" if asks else f"Back by {lv.due_text}."
        return TapResult(
            Outcome.SIGNED_OUT,
            f"{item.name} is yours.",
            detail,
            staff=lv.borrower,
            item=lv.item,
            loan=lv,
            asks_return_time=asks,
            undo_until=self._undo.until,
        )

    def _return(self, loan: Loan, by: Staff | None, reader: str, mono: float) -> TapResult:
        now = self.clock.now()
        with store.write():
            self._close_loan(loan, now, by, "returned")
            self.record_event(
                "return",
                staff=by or loan.borrower,
                item=loan.item,
                loan=loan,
                reader=reader,
                detail={"badge": by is not None},
            )
        self._undo = _Undo(
            "return", loan.id, None, mono + self.settings.kiosk.undo_seconds, by.id if by else None
        )
        lv = self.loan_view(loan, now)
        checklist = tuple(self.settings.kind(loan.item.kind).checklist)
        return TapResult(
            Outcome.RETURNED,
            f"Thank you. {loan.item.name} is back.",
            "A few quick checks:" if checklist else "",
            staff=lv.borrower,
            item=lv.item,
            loan=lv,
            checklist=checklist,
            undo_until=self._undo.until,
        )

    def _hand_over(self, old: Loan, to: Staff, reader: str, mono: float) -> TapResult:
        item = old.item
        rule = self.settings.kind(item.kind)
        now, synced = self.clock.now(), self.clock.synchronised()
        with store.write():
            self._close_loan(old, now, to, "handed_over")
            self.record_event(
                "return",
                staff=to,
                item=item,
                loan=old,
                reader=reader,
                detail={"handed_over_to": to.staff_id},
            )
            due = old.due_at if rule.due == "choose" else self.calendar.due_for(rule, now)
            new = self._insert_loan(item, to, now, synced, due, rule.off_site, old.trip)
            self.record_event(
                "sign_out",
                staff=to,
                item=item,
                loan=new,
                reader=reader,
                detail={"handed_over_from": old.borrower.staff_id if old.borrower else None},
            )
        self._undo = _Undo(
            "hand_over", new.id, old.id, mono + self.settings.kiosk.undo_seconds, to.id
        )
        lv = self.loan_view(new, now)
        prev = self.loan_view(old, now)
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
            undo_until=self._undo.until,
        )

    def _found(self, item: Item, by: Staff | None, reader: str) -> TapResult:
        with store.write():
            item.status = "available"
            item.save()
            self.record_event("found", staff=by, item=item, reader=reader)
        return TapResult(
            Outcome.FOUND,
            f"{item.name} was reported lost: now marked as found.",
            "Thank you. Tap it again to borrow it.",
            item=self.item_view(item),
        )

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

    # --- undo ---------------------------------------------------------------------------

    def can_undo(self) -> bool:
        with self._lock:
            return bool(self._undo and self.clock.monotonic() <= self._undo.until)

    def undo(self) -> TapResult:
        """Reverse the last sign-out, return or hand-over, within the undo window."""
        with self._lock:
            u = self._undo
            if u is None or self.clock.monotonic() > u.until:
                self._undo = None
                raise Refused("It is too late to undo that. Tap the item again instead.")
            now = self.clock.now()
            self._undo = None
            loan = Loan.get_by_id(u.loan_id)
            if u.action in ("return", "hand_over") and loan.item.status in ("lost", "retired"):
                # Reopening a loan would put a lost item back in someone's hands.
                raise Refused(f"{loan.item.name} has been reported {loan.item.status} since.")
            with store.write():
                if u.action in ("sign_out", "hand_over"):
                    loan.closed_at = now
                    loan.outcome = "undone"
                    loan.save()
                if u.action == "return":
                    loan.closed_at = None
                    loan.closed_by = None
                    loan.outcome = None
                    loan.save()
                if u.action == "hand_over" and u.previous_loan_id is not None:
                    prev = Loan.get_by_id(u.previous_loan_id)
                    prev.closed_at = None
                    prev.closed_by = None
                    prev.outcome = None
                    prev.save()
                    loan = prev
                self.record_event(
                    "undo",
                    staff=loan.borrower,
                    item=loan.item,
                    loan=loan,
                    detail={"undid": u.action, "loan": u.loan_id},
                )
            lv = self.loan_view(loan, now)
            message = {
                "sign_out": f"Undone: {lv.item.name} is not signed out.",
                "return": f"Undone: {lv.item.name} is still out.",
                "hand_over": f"Undone: {lv.item.name} stays with "
                + (lv.borrower.greeting if lv.borrower else "its borrower")
                + ".",
            }[u.action]
            return TapResult(Outcome.UNDONE, message, item=lv.item, loan=lv, staff=lv.borrower)

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file, while nobody is waiting.

        Call it on a thread of its own when the screen returns to idle: it opens and
        closes that thread's connection, and a passive checkpoint runs beside the taps'
        writes without blocking them.
        """
        db = store.database.obj
        try:
            with db.connection_context():
                busy, frames, done = db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            log.debug("checkpoint: %s of %s WAL frames copied (busy=%s)", done, frames, busy)
        except (pw.OperationalError, sqlite3.OperationalError) as exc:
            log.warning("checkpoint skipped: %s", exc)

    # --- follow-ups ---------------------------------------------------------------------

    def _open_or_closed_loan(self, loan_id: int) -> Loan:
        loan = Loan.get_or_none(Loan.id == loan_id)
        if loan is None:
            raise NotFound(f"There is no loan number {loan_id}.")
        return loan

    def _forget_undo_of(self, item_pk: int) -> None:
        """A later action on the same item settles it: the last tap can no longer be undone."""
        if self._undo is not None:
            loan = Loan.get_or_none(Loan.id == self._undo.loan_id)
            if loan is None or loan.item_id == item_pk:
                self._undo = None

    def save_checklist(self, loan_id: int, answers: Checklist) -> ActionResult:
        """Store the return checklist; raise the loss, damage or images alerts it calls for."""
        with self._lock:
            loan = self._open_or_closed_loan(loan_id)
            if loan.outcome != "returned":
                raise Refused(f"{loan.item.name} has not been returned, so there is no checklist.")
            item = loan.item
            alerts: list[AlertRaised] = []
            warnings: list[str] = []
            with store.write():
                loan.checklist = answers.as_dict()
                if answers.damage:
                    loan.condition_note = answers.damage
                loan.save()
                ev = self.record_event(
                    "checklist", staff=loan.borrower, item=item, loan=loan, detail=answers.as_dict()
                )
                short = self._short_counts(item, answers.counts or {})
                if short:
                    text = ", ".join(f"{got} of {want} {name}" for name, got, want in short)
                    alerts.append(
                        self._alert(
                            f"lost:loan:{loan.id}",
                            "lost",
                            "slt",
                            ev,
                            loan,
                            note=f"Counted back: {text}.",
                            summary=f"{item.name} came back short: {text}",
                        )
                    )
                    warnings.append(f"Counted back {text}. SLT have been told.")
                if answers.images_erased is False:
                    alerts.append(
                        self._alert(
                            f"images:loan:{loan.id}",
                            "images_not_erased",
                            "office",
                            ev,
                            loan,
                            note="Images were not moved and erased from the camera.",
                        )
                    )
                    warnings.append("Images still on the camera: the office has been told.")
                if answers.damage:
                    item.status = "damaged"
                    item.save()
                    alerts.append(
                        self._alert(
                            f"damaged:loan:{loan.id}",
                            "damaged",
                            "it",
                            ev,
                            loan,
                            note=answers.damage,
                        )
                    )
                    warnings.append("Damage reported to IT.")
            if self._undo and self._undo.loan_id == loan.id:
                self._undo = None  # the checklist settles the return
            message = "Thank you, all recorded." if not warnings else " ".join(warnings)
            return ActionResult(message, tuple(alerts), self.loan_view(loan), tuple(warnings))

    @staticmethod
    def _short_counts(item: Item, counts: dict[str, int]) -> list[tuple[str, int, int]]:
        short = []
        for line in item.contents or []:
            name, want = line["name"], int(line["count"])
            if name in counts and int(counts[name]) < want:
                short.append((name, int(counts[name]), want))
        return short

    def report_lost(self, item_id: int, by_staff_id: int | None, note: str = "") -> ActionResult:
        """Mark an item lost (from My Items, the office or a stock-take) and tell SLT at once."""
        with self._lock:
            item = Item.get_or_none(Item.id == item_id)
            if item is None:
                raise NotFound(f"There is no item number {item_id}.")
            by = Staff.get_by_id(by_staff_id) if by_staff_id else None
            now = self.clock.now()
            open_loan = Loan.select().where(Loan.item == item, Loan.closed_at.is_null()).first()
            with store.write():
                item.status = "lost"
                item.save()
                if open_loan is not None:
                    open_loan.closed_at = now
                    open_loan.closed_by = by
                    open_loan.outcome = "lost"
                    open_loan.condition_note = note
                    open_loan.save()
                ev = self.record_event(
                    "lost", staff=by, item=item, loan=open_loan, detail={"note": note}
                )
                key = (
                    f"lost:loan:{open_loan.id}"
                    if open_loan is not None
                    else f"lost:item:{item.id}:{ev.id}"
                )
                alert = self._alert(key, "lost", "slt", ev, open_loan, note=note, item=item)
            self._forget_undo_of(item.id)
            return ActionResult(f"{item.name} is recorded as lost. SLT have been told.", (alert,))

    def report_damage(self, loan_id: int, note: str) -> ActionResult:
        """Report damage to an item someone has out (My Items); IT are told."""
        if not note.strip():
            raise Refused("Say briefly what is damaged.")
        with self._lock:
            loan = self._open_or_closed_loan(loan_id)
            with store.write():
                loan.item.status = "damaged"
                loan.item.save()
                loan.condition_note = note.strip()
                loan.save()
                ev = self.record_event(
                    "damaged",
                    staff=loan.borrower,
                    item=loan.item,
                    loan=loan,
                    detail={"note": note.strip()},
                )
                alert = self._alert(
                    f"damaged:loan:{loan.id}", "damaged", "it", ev, loan, note=note.strip()
                )
            return ActionResult("Damage reported to IT. Thank you.", (alert,), self.loan_view(loan))

    def set_due(self, loan_id: int, due_at: datetime, trip: str | None = None) -> ActionResult:
        """Set or extend a loan's return time (a trip phone's, chosen at sign-out or later)."""
        with self._lock:
            loan = self._open_or_closed_loan(loan_id)
            if loan.closed_at is not None:
                raise Refused(f"{loan.item.name} has already been returned.")
            now = self.clock.now()
            if due_at <= now:
                raise Refused("That time has already passed. Choose a later time.")
            due = self.calendar.fit_to_school_day(due_at)
            with store.write():
                loan.due_at = due
                if trip is not None:
                    loan.trip = trip.strip()
                loan.save()
                self.record_event(
                    "due_changed",
                    staff=loan.borrower,
                    item=loan.item,
                    loan=loan,
                    detail={"due_at": due.isoformat(), "trip": loan.trip},
                )
            lv = self.loan_view(loan, now)
            return ActionResult(f"{lv.item.name}: back by {lv.due_text}.", loan=lv)

    def record_personal_call(
        self, loan_id: int, made_at: str, number: str, reason: str
    ) -> ActionResult:
        """Record a personal call, text or email made on a trip phone (Appendix 5)."""
        if not number.strip():
            raise Refused("Enter the number called or texted.")
        with self._lock:
            loan = self._open_or_closed_loan(loan_id)
            with store.write():
                PersonalCall.create(
                    loan=loan,
                    made_at=made_at.strip(),
                    number=number.strip(),
                    reason=reason.strip(),
                    recorded_at=self.clock.now(),
                )
                self.record_event("personal_call", staff=loan.borrower, item=loan.item, loan=loan)
            return ActionResult("Personal call recorded.")

    def set_staff_active(self, staff_pk: int, active: bool, reason: str = "") -> ActionResult:
        """Mark someone as left / on long absence (or back); alert the office if they hold items."""
        with self._lock:
            staff = Staff.get_or_none(Staff.id == staff_pk)
            if staff is None:
                raise NotFound(f"There is no member of staff number {staff_pk}.")
            alerts: list[AlertRaised] = []
            with store.write():
                staff.active = active
                staff.inactive_reason = "" if active else reason
                staff.save()
                ev = self.record_event(
                    "staff_active" if active else "staff_inactive",
                    staff=staff,
                    detail={"reason": reason},
                )
                if not active:
                    alerts.extend(self.leaver_alerts(staff, ev))
            if not active and self._session and self._session.staff_id == staff.id:
                self._session = None
            msg = f"{staff.name} is {'active' if active else 'inactive'}."
            if alerts:
                msg += " They still have items out: the office has been told."
            return ActionResult(msg, tuple(alerts))

    def leaver_alerts(self, staff: Staff, ev: Event) -> list[AlertRaised]:
        """Called inside a write transaction when someone becomes inactive."""
        open_loans = list(Loan.select().where(Loan.borrower == staff, Loan.closed_at.is_null()))
        if not open_loans:
            return []
        items = ", ".join(loan.item.name for loan in open_loans)
        return [
            self._alert(
                f"leaver:staff:{staff.id}:{ev.id}",
                "leaver_with_items",
                "office",
                ev,
                None,
                note=f"{staff.name} is now inactive ({staff.inactive_reason or 'no reason given'}) "
                f"and still has: {items}.",
                staff=staff,
            )
        ]

    # --- admin --------------------------------------------------------------------------

    def admin_locked_for(self) -> float:
        """Seconds admin stays locked after too many wrong PINs (0 when open)."""
        with self._lock:
            return max(0.0, self._admin_locked_until - self.clock.monotonic())

    def check_admin_pin(self, staff_pk: int, pin: str) -> bool:
        """True if ``pin`` is this admin's PIN. Five wrong PINs lock admin for five minutes."""
        with self._lock:
            if self.admin_locked_for() > 0:
                raise Refused(
                    f"Admin is locked for {int(self.admin_locked_for() // 60) + 1} more minutes."
                )
            staff = Staff.get_or_none(Staff.id == staff_pk)
            ok = bool(
                staff
                and staff.role == "admin"
                and staff.pin_hash
                and check_pin(pin, staff.pin_hash)
            )
            with store.write():
                self.record_event("admin_login" if ok else "admin_pin_wrong", staff=staff)
            if ok:
                self._pin_failures = 0
                return True
            self._pin_failures += 1
            if self._pin_failures >= self.settings.kiosk.admin_pin_attempts:
                self._pin_failures = 0
                self._admin_locked_until = (
                    self.clock.monotonic() + self.settings.kiosk.admin_lock_minutes * 60
                )
                raise Refused(
                    f"Wrong PIN. Admin is locked for {self.settings.kiosk.admin_lock_minutes} "
                    "minutes."
                )
            return False

    def set_pin(self, staff_pk: int, pin: str) -> None:
        if not (pin.isdigit() and 4 <= len(pin) <= 8):
            raise Refused("A PIN is 4 to 8 digits.")
        with self._lock, store.write():
            staff = Staff.get_by_id(staff_pk)
            staff.pin_hash = hash_pin(pin)
            staff.save()
            self.record_event("pin_set", staff=staff)

    def enrol_tag(
        self, uid: str, *, staff_pk: int | None = None, item_pk: int | None = None
    ) -> str:
        """Give a badge to a person or a tag to an item. Returns what to show."""
        try:
            uid = normalise_uid(uid)
        except InvalidUID as exc:
            raise Refused(str(exc)) from exc
        with self._lock:
            owner = self.tag_owner(uid)
            if staff_pk is not None:
                staff = Staff.get_by_id(staff_pk)
                if owner and owner != f"{staff.name}'s badge":
                    raise Refused(f"That tag is already {owner}.")
                with store.write():
                    staff.badge_uid = uid
                    staff.save()
                    self.record_event("enrol", staff=staff, detail={"uid": uid})
                return f"Badge enrolled for {staff.name}."
            if item_pk is not None:
                item = Item.get_by_id(item_pk)
                if owner and owner != f"the tag on {item.name}":
                    raise Refused(f"That tag is already {owner}.")
                with store.write():
                    item.tag_uid = uid
                    item.save()
                    self.record_event("enrol", item=item, detail={"uid": uid})
                return f"Tag enrolled for {item.name}."
            raise Refused("Choose a person or an item for this tag.")

    def tag_owner(self, uid: str) -> str | None:
        """Whose the tag is, in words ("Amira Khan's badge"), or None."""
        staff = Staff.get_or_none(Staff.badge_uid == uid)
        if staff:
            return f"{staff.name}'s badge"
        item = Item.get_or_none(Item.tag_uid == uid)
        if item:
            return f"the tag on {item.name}"
        return None

    # --- queries ------------------------------------------------------------------------

    def board(
        self, kind: str | None = None, overdue_only: bool = False, search: str = ""
    ) -> list[LoanView]:
        """What is out now: overdue first, then by due time."""
        where, params = ["l.closed_at IS NULL"], []
        if kind:
            where.append("i.kind = ?")
            params.append(kind)
        if search.strip():
            where.append(
                "(s.name LIKE ? OR s.known_as LIKE ? OR i.name LIKE ?"
                " OR i.asset_tag LIKE ? OR l.trip LIKE ?)"
            )
            params.extend([f"%{search.strip()}%"] * 5)
        views = self._loan_views(" AND ".join(where), tuple(params))
        if overdue_only:
            views = [v for v in views if v.overdue]
        far = datetime.max.replace(tzinfo=self.clock.now().tzinfo)
        views.sort(key=lambda v: (not v.overdue, v.due_at or far, v.item.name))
        return views

    def loans_for(self, staff_pk: int) -> list[LoanView]:
        """What one person has out now, oldest first."""
        return self._loan_views(
            "l.borrower_id = ? AND l.closed_at IS NULL ORDER BY l.out_at", (staff_pk,)
        )

    def item_history(self, item_pk: int, limit: int = 50) -> list[LoanView]:
        return self._loan_views("l.item_id = ? ORDER BY l.out_at DESC LIMIT ?", (item_pk, limit))

    def staff_history(self, staff_pk: int, limit: int = 50) -> list[LoanView]:
        return self._loan_views(
            "l.borrower_id = ? ORDER BY l.out_at DESC LIMIT ?", (staff_pk, limit)
        )

    def find_staff(self, text: str = "", limit: int = 50) -> list[StaffView]:
        query = Staff.select().order_by(Staff.name).limit(limit)
        if text.strip():
            like = f"%{text.strip()}%"
            query = query.where(Staff.name**like | Staff.known_as**like | Staff.staff_id**like)
        return [self.staff_view(s) for s in query]

    def find_items(self, text: str = "", limit: int = 100) -> list[ItemView]:
        query = Item.select().order_by(Item.kind, Item.name).limit(limit)
        if text.strip():
            like = f"%{text.strip()}%"
            query = query.where(Item.name**like | Item.asset_tag**like)
        return [self.item_view(i) for i in query]

    def staff(self, staff_pk: int) -> StaffView:
        staff = Staff.get_or_none(Staff.id == staff_pk)
        if staff is None:
            raise NotFound(f"There is no member of staff number {staff_pk}.")
        return self.staff_view(staff)

    def item(self, item_pk: int) -> ItemView:
        item = Item.get_or_none(Item.id == item_pk)
        if item is None:
            raise NotFound(f"There is no item number {item_pk}.")
        return self.item_view(item)

    def stock_take(self, seen_uids: set[str]) -> list[tuple[ItemView, LoanView | None]]:
        """Items in service whose tags were not seen, each with its last loan (who had it)."""
        missing = []
        query = Item.select().where(Item.status.in_(("available", "damaged")))
        for item in query:
            if item.tag_uid and item.tag_uid in seen_uids:
                continue
            last = Loan.select().where(Loan.item == item).order_by(Loan.out_at.desc()).first()
            missing.append((self.item_view(item), self.loan_view(last) if last else None))
        return missing

    def out_but_here(self, seen_uids: set[str]) -> list[LoanView]:
        """Items tapped in the cupboard that the records say are out: the record is wrong."""
        if not seen_uids:
            return []
        marks = ", ".join("?" * len(seen_uids))
        return self._loan_views(
            f"l.closed_at IS NULL AND i.tag_uid IN ({marks}) ORDER BY i.name", tuple(seen_uids)
        )

    # --- records ------------------------------------------------------------------------

    def record_event(
        self,
        action: str,
        *,
        staff: Staff | None = None,
        item: Item | None = None,
        loan: Loan | None = None,
        reader: str = "",
        detail: dict[str, Any] | None = None,
    ) -> Event:
        """Append one event (inside the caller's write transaction)."""
        at, synced = self.clock.now(), self.clock.synchronised()
        detail = detail or {}
        cursor = store.database.execute_sql(
            _INSERT_EVENT,
            (
                _ts(at),
                synced,
                action,
                staff.id if staff is not None else None,
                item.id if item is not None else None,
                loan.id if loan is not None else None,
                reader,
                Event.detail.db_value(detail),
            ),
        )
        return Event(
            id=cursor.lastrowid,
            at=at,
            clock_synced=synced,
            action=action,
            staff=staff,
            item=item,
            loan=loan,
            reader=reader,
            detail=detail,
        )

    @staticmethod
    def _insert_loan(
        item: Item,
        staff: Staff,
        now: datetime,
        synced: bool,
        due: datetime | None,
        off_site: bool,
        trip: str = "",
    ) -> Loan:
        cursor = store.database.execute_sql(
            _INSERT_LOAN, (item.id, staff.id, _ts(now), synced, _ts(due), trip, off_site)
        )
        return Loan(
            id=cursor.lastrowid,
            item=item,
            borrower=staff,
            out_at=now,
            out_clock_synced=synced,
            due_at=due,
            trip=trip,
            off_site=off_site,
            closed_at=None,
            closed_by=None,
            outcome=None,
            checklist=None,
            condition_note="",
            anonymised=False,
        )

    @staticmethod
    def _close_loan(loan: Loan, now: datetime, by: Staff | None, outcome: str) -> None:
        store.database.execute_sql(
            _CLOSE_LOAN, (_ts(now), by.id if by is not None else None, outcome, loan.id)
        )
        loan.closed_at, loan.closed_by, loan.outcome = now, by, outcome

    def _alert(
        self,
        key: str,
        kind: str,
        audience: str,
        event: Event,
        loan: Loan | None,
        *,
        note: str = "",
        item: Item | None = None,
        staff: Staff | None = None,
        summary: str = "",
    ) -> AlertRaised:
        """Queue an alert in the outbox (inside the caller's transaction); once per key."""
        payload = alert_payload(
            kind, loan=loan, item=item, staff=staff, note=note, school=self.settings.school.name
        )
        if summary:
            payload["summary"] = summary
        Outbox.insert(
            key=key,
            kind=kind,
            audience=audience,
            event=event,
            loan=loan,
            payload=payload,
            created_at=self.clock.now(),
            next_attempt_at=self.clock.now(),
        ).on_conflict_ignore().execute()
        return AlertRaised(kind, audience, payload["summary"])


_SUMMARIES = {
    "lost": "{item} is lost",
    "damaged": "{item} is damaged",
    "images_not_erased": "Images not erased from {item}",
    "leaver_with_items": "{person} is inactive and still has items",
    "overdue": "{item} is overdue",
    "overdue_escalated": "{item} is still overdue",
}


def alert_payload(
    kind: str,
    *,
    loan: Loan | None = None,
    item: Item | None = None,
    staff: Staff | None = None,
    note: str = "",
    school: str = "",
) -> dict[str, Any]:
    """The minimum an alert's reader needs: names, item, times. Never a badge or tag ID."""
    item = item or (loan.item if loan is not None else None)
    person = staff or (loan.borrower if loan is not None and loan.borrower_id else None)
    payload: dict[str, Any] = {"kind": kind, "school": school, "note": note}
    if item is not None:
        payload["item"] = {"name": item.name, "asset_tag": item.asset_tag, "kind": item.kind}
        if item.phone_number:
            payload["item"]["phone_number"] = item.phone_number
    if person is not None:
        payload["person"] = {"name": person.name, "email": person.email}
    if loan is not None:
        payload["loan"] = {
            "id": loan.id,
            "out_at": loan.out_at.isoformat(),
            "due_at": loan.due_at.isoformat() if loan.due_at else None,
            "trip": loan.trip,
        }
    summary = _SUMMARIES.get(kind, kind.replace("_", " ").capitalize())
    payload["summary"] = summary.format(
        item=item.name if item is not None else "An item",
        person=person.name if person is not None else "Someone",
    )
    return payload


def iter_open_loans() -> Iterator[Loan]:
    """Open loans with item and borrower loaded (for the CLI's status and the alert rules)."""
    yield from (
        Loan.select(Loan, Item, Staff)
        .join(Item, on=(Loan.item == Item.id))
        .switch(Loan)
        .join(Staff, pw.JOIN.LEFT_OUTER, on=(Loan.borrower == Staff.id))
        .where(Loan.closed_at.is_null())
        .order_by(Loan.due_at)
    )

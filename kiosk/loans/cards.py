"""Spare cards for supply and visiting staff, and badges switched off because they were lost.

The office keeps a small pool of cards enrolled as spare (``enrol_spare``, in admin).
Given to someone for the day with their name typed in (a supply teacher, a visitor,
or a member of staff who forgot their badge), a card works as that person's badge
until the end of that school day, then switches itself off: nothing has to be done
at 15:30. Their loans are theirs like anyone's, and an item still out at the end of
the day is overdue as usual. Visitors are kept as people (staff_id ``VISITOR-0001``),
so the next visit finds them by name and their history stays together.

When a card is given is its event's time, so a card given while the clock was not
set is corrected with it (``clockfix``), and "until when" is worked out from it.

A badge reported lost is switched off at once: it stops being the person's badge and
a tap on it is refused in words, until an admin enrols it (or a new one) again.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import NamedTuple

import peewee as pw

from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import SpareCard, Staff, SwitchedOffTag, database
from kiosk.errors import NotFound, Refused
from kiosk.journal import Journal
from kiosk.loans.desk import require_office
from kiosk.loans.mapper import ViewMapper
from kiosk.loans.rows import StaffRow
from kiosk.loans.state import Sessions
from kiosk.settings import Settings
from kiosk.views import ActionResult, SpareCardView

#: Visiting people's staff_id: the prefix, then a number.
VISITOR_PREFIX = "VISITOR-"

_stamp = store.UTCDateTimeField().python_value
_CLASS = re.compile(r"^[A-Z0-9]{1,8}$")


class SpareCardRow(NamedTuple):
    id: int
    label: str
    holder_id: int | None
    switched_off: bool
    given_at: datetime | None


SPARE_BY_UID = (
    "SELECT c.id, c.label, c.holder_id, c.switched_off, e.at FROM spare_card c"
    " LEFT JOIN event e ON e.id = c.given_event_id WHERE c.uid = ?"
)


def spare_by_uid(uid: str) -> SpareCardRow | None:
    """The spare card with this tag, if it is one (read on a tap no badge or item has)."""
    r = database.execute_sql(SPARE_BY_UID, (uid,)).fetchone()
    if r is None:
        return None
    return SpareCardRow(r[0], r[1], r[2], bool(r[3]), _stamp(r[4]))


def switched_off_owner(uid: str) -> str | None:
    """Whose badge this was, if it was switched off at the kiosk ("Amira Khan's badge")."""
    r = database.execute_sql(
        "SELECT s.name FROM switched_off_tag t LEFT JOIN staff s ON s.id = t.staff_id"
        " WHERE t.uid = ?",
        (uid,),
    ).fetchone()
    if r is None:
        return None
    return f"{r[0]}'s badge" if r[0] else "a badge"


def works_until(calendar: SchoolCalendar, given_at: datetime) -> datetime:
    """A spare card given at ``given_at`` works until the end of that school day.

    Given after the end of the school day (an evening event), it works until midnight.
    """
    day = calendar.local(given_at).date()
    end = calendar.end_of_day(day)
    if given_at < end:
        return end
    return calendar.at(day + timedelta(days=1), time(0, 0))


def classes_from(text: str) -> str:
    """ "5b, 4a" -> "5B 4A"; refused in words when it is not a list of class names."""
    names = [c for c in re.split(r"[\s,;]+", text.upper()) if c]
    for c in names:
        if not _CLASS.match(c):
            raise Refused(f"{c!r} is not a class name (like 5B).")
    return " ".join(dict.fromkeys(names))


def spare_cards(views: ViewMapper, calendar: SchoolCalendar, now: datetime) -> list[SpareCardView]:
    """The pool, in the order the cards were enrolled, with who has each card today."""
    cursor = database.execute_sql(
        "SELECT c.id, c.label, c.switched_off, e.at, "
        + ", ".join(f"s.{name}" for name in StaffRow._fields)
        + " FROM spare_card c LEFT JOIN event e ON e.id = c.given_event_id"
        " LEFT JOIN staff s ON s.id = c.holder_id ORDER BY c.id"
    )
    cards = []
    for r in cursor:
        card_id, label, switched_off, at = r[0], r[1], bool(r[2]), _stamp(r[3])
        holder = views.staff(StaffRow.load(r[4:])) if r[4] is not None else None
        until = works_until(calendar, at) if at is not None else None
        if switched_off:
            state, said = "switched_off", "switched off (reported lost)"
        elif holder is None or until is None:
            state, said = "free", "free"
        elif now < until:
            state, said = "in_use", f"with {holder.name} until {calendar.describe(until, now)}"
        else:
            state = "ended"
            said = f"{holder.name}'s, switched off at {calendar.describe(until, now)}"
        cards.append(SpareCardView(card_id, label, state, holder, until, said))
    return cards


class Cards:
    """Spare cards and switched-off badges. Not thread-safe: ``LoanService`` calls it locked."""

    def __init__(
        self, settings: Settings, clock: Clock, calendar: SchoolCalendar, sessions: Sessions
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.calendar = calendar
        self.sessions = sessions
        self.journal = Journal(clock)
        self.views = ViewMapper(settings, calendar)

    # --- admin: the pool ----------------------------------------------------------------

    def enrol_spare(self, uid: str) -> str:
        """Add a tag to the pool of spare cards (or switch a lost one back on); what to show.

        ``uid`` is already normalised and is no badge or item tag (``People.enrol_tag``
        checks that first).
        """
        card = SpareCard.get_or_none(SpareCard.uid == uid)
        with store.write():
            if card is not None:
                if not card.switched_off:
                    return f"That tag is already {card.label}."
                card.switched_off = False
                card.save()
                self.journal.event("enrol", detail={"uid": uid, "spare": card.label})
                return f"{card.label} is switched on again."
            database.execute_sql("DELETE FROM switched_off_tag WHERE uid = ?", (uid,))
            n = SpareCard.select().count() + 1
            while SpareCard.select().where(SpareCard.label == f"Spare card {n}").exists():
                n += 1
            label = f"Spare card {n}"
            SpareCard.create(uid=uid, label=label)
            self.journal.event("enrol", detail={"uid": uid, "spare": label})
        return f"Enrolled as {label}. Write {n} on the card."

    # --- the office -----------------------------------------------------------------------

    def _card(self, card_pk: int) -> SpareCard:
        card = SpareCard.get_or_none(SpareCard.id == card_pk)
        if card is None:
            raise NotFound(f"There is no spare card number {card_pk}.")
        return card

    def give(
        self,
        card_pk: int,
        by_pk: int,
        *,
        staff_pk: int | None = None,
        name: str = "",
        classes: str = "",
    ) -> ActionResult:
        """Give a spare card for today to someone on the list (``staff_pk``) or a visitor
        (``name``, and the classes they cover, if any)."""
        by = require_office(by_pk)
        card = self._card(card_pk)
        if card.switched_off:
            raise Refused(f"{card.label} is switched off (reported lost). Choose another card.")
        if staff_pk is not None:
            person = Staff.get_or_none(Staff.id == staff_pk)
            if person is None:
                raise NotFound(f"There is no member of staff number {staff_pk}.")
            if not person.active:
                why = person.inactive_reason or "no longer active"
                raise Refused(f"{person.name} is switched off ({why}): no card for them.")
        else:
            name = " ".join(name.split())
            if len(name) < 2:
                raise Refused("Type the person's name, first name and surname.")
            if len(name) > 80:
                raise Refused("That name is too long: type the first name and surname.")
            person = None
        covering = classes_from(classes)
        before = card.holder
        with store.write():
            if person is None:
                person = self._visitor(name, covering)
            ev = self.journal.event(
                "spare_card_given",
                staff_id=person.id,
                detail={"card": card.label, "by": by.staff_id},
            )
            card.holder = person
            card.given_event_id = ev
            card.save()
        if before is not None and before.id != person.id:
            self.sessions.end(before.id)
        until = works_until(self.calendar, self.clock.now())
        said = f"{card.label} now works for {person.name} until {self._when(until)}."
        if before is not None and before.id != person.id:
            said = f"{card.label} was {before.name}'s. " + said
        return ActionResult(said)

    def _visitor(self, name: str, classes: str) -> Staff:
        """The visitor of this name from an earlier visit, or a new one (inside the write)."""
        found = (
            Staff.select()
            .where(
                Staff.staff_id.startswith(VISITOR_PREFIX), pw.fn.lower(Staff.name) == name.lower()
            )
            .first()
        )
        if found is not None:
            if classes and found.classes != classes:
                found.classes = classes
                found.save()
            if not found.active:
                found.active = True
                found.inactive_reason = ""
                found.save()
            return found
        numbers = [
            int(s.staff_id.removeprefix(VISITOR_PREFIX))
            for s in Staff.select(Staff.staff_id).where(Staff.staff_id.startswith(VISITOR_PREFIX))
            if s.staff_id.removeprefix(VISITOR_PREFIX).isdigit()
        ]
        staff_id = f"{VISITOR_PREFIX}{max(numbers, default=0) + 1:04d}"
        person = Staff.create(staff_id=staff_id, name=name, role="staff", classes=classes)
        self.journal.event("visitor_added", staff_id=person.id)
        return person

    def _when(self, until: datetime) -> str:
        return self.calendar.describe(until, self.clock.now())

    def take_back(self, card_pk: int, by_pk: int) -> ActionResult:
        """The card is back in the office: it works for nobody until it is given again."""
        by = require_office(by_pk)
        card = self._card(card_pk)
        holder = card.holder if card.holder_id is not None else None
        if holder is None:
            return ActionResult(f"{card.label} is not given to anyone.")
        with store.write():
            self.journal.event(
                "spare_card_back",
                staff_id=holder.id,
                detail={"card": card.label, "by": by.staff_id},
            )
            card.holder = None
            card.given_event = None
            card.save()
        self.sessions.end(holder.id)
        return ActionResult(f"{card.label} is back from {holder.name} and free to give again.")

    def card_lost(self, card_pk: int, by_pk: int) -> ActionResult:
        """A spare card is lost: switched off at once (an admin can switch it on if found)."""
        by = require_office(by_pk)
        card = self._card(card_pk)
        holder = card.holder if card.holder_id is not None else None
        with store.write():
            self.journal.event(
                "spare_card_lost",
                staff_id=holder.id if holder is not None else None,
                detail={"card": card.label, "by": by.staff_id},
            )
            card.switched_off = True
            card.holder = None
            card.given_event = None
            card.save()
        if holder is not None:
            self.sessions.end(holder.id)
        return ActionResult(
            f"{card.label} is switched off. If it turns up, an admin switches it on again "
            "(Admin, Enrol a tag)."
        )

    def switch_off_badge(self, staff_pk: int, by_pk: int) -> ActionResult:
        """A badge reported lost: it stops working at once."""
        by = require_office(by_pk)
        staff = Staff.get_or_none(Staff.id == staff_pk)
        if staff is None:
            raise NotFound(f"There is no member of staff number {staff_pk}.")
        if not staff.badge_uid:
            raise Refused(f"{staff.name} has no badge to switch off.")
        uid = staff.badge_uid
        with store.write():
            ev = self.journal.event(
                "badge_switched_off", staff_id=staff.id, detail={"by": by.staff_id, "why": "lost"}
            )
            staff.badge_uid = None
            staff.save()
            SwitchedOffTag.delete().where(SwitchedOffTag.uid == uid).execute()
            SwitchedOffTag.create(uid=uid, staff=staff, event=ev)
        self.sessions.end(staff.id)
        return ActionResult(
            f"{staff.name}'s badge is switched off. Until a new one is enrolled (Admin, Enrol "
            f"a tag), the office can sign out for {staff.greeting_name} or give a spare card."
        )

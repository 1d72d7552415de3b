"""Personal calls, texts and emails on trip phones: the policy's Appendix 5, one row each.

The form asks for the date, the time, the number called or texted (with its dialling
code) and the reason. A trip may have several; they are entered when the phone comes
back (the return checklist) or afterwards by the office, and each is an instant: a day
of the trip (the day it went out unless another is chosen) and a time. A call is
refused, in words, when it cannot have been made on that trip (before the day the
phone went out, after it came back, or later than now).

Calls recorded before the kiosk kept exact times hold only the words typed ("23/11
12:10": the school's local time, no year). ``read_stated_times`` reads those words
once the school's time zone is known, and only where one reading fits the loan's own
days; the others keep their words and say so wherever they are shown.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta

import peewee as pw

from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Item, Loan, PersonalCall, Staff, database
from kiosk.errors import NotFound, Refused
from kiosk.journal import Journal
from kiosk.settings import Settings
from kiosk.views import ActionResult, CallView

log = logging.getLogger(__name__)

#: The most days offered for a call on one loan (a residential trip is a week at most;
#: a phone out for longer offers its last days).
MAX_DAYS = 31

#: A number as the Appendix 5 form wants it: digits with spaces, +, brackets or dashes.
_NUMBER = re.compile(r"^\+?[0-9][0-9 ()\-]{3,24}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: Longest reason kept (a line of the paper form, with room to spare).
MAX_REASON = 200

# Old words for a call's time: "23/11 12:10" (what the kiosk offered), "23/11/2026 12:10",
# or a time alone ("12:10").
_DAY_AND_TIME = re.compile(
    r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{2}|\d{4}))?\s+(?P<h>\d{1,2})[:.](?P<mi>\d{2})$"
)
_TIME_ONLY = re.compile(r"^(?P<h>\d{1,2})[:.](?P<mi>\d{2})$")


def _plain(text: str, what: str) -> str:
    # Only when a call is recorded: the board's reads (``kiosk status``) never need it.
    from kiosk.records import unsafe_character

    value = " ".join(text.split())
    bad = unsafe_character(value)
    if bad is not None:
        raise Refused(f"The {what} holds {bad[1]}: type it again as plain text.")
    return value


def check_number(text: str) -> str:
    """The number called or texted, tidied; Refused (saying what to type) when it is not one."""
    number = _plain(text, "number")
    if not number:
        raise Refused("Type the number called or texted, with its dialling code.")
    digits = sum(c.isdigit() for c in number)
    if _EMAIL.match(number) or (_NUMBER.match(number) and digits >= 4):
        return number
    raise Refused(
        f'"{number}" is not a phone number. Type the number called or texted with its '
        "dialling code (01234 567890), or the email address written to."
    )


def check_reason(text: str) -> str:
    reason = _plain(text, "reason")
    if not reason:
        raise Refused("Say briefly what the call was for (the Headteacher reviews these).")
    if len(reason) > MAX_REASON:
        raise Refused(f"Keep the reason under {MAX_REASON} characters.")
    return reason


def call_view(
    call: PersonalCall, loan: Loan, item: Item, person: Staff | None, by: Staff | None
) -> CallView:
    return CallView(
        id=call.id,
        loan_id=loan.id,
        made_at=call.made_at,
        stated=call.stated,
        number=call.number,
        reason=call.reason,
        recorded_at=call.recorded_at,
        phone=item.name,
        phone_number=item.phone_number,
        person=person.name if person is not None else "",
        recorded_by=by.name if by is not None else "",
    )


def select_calls() -> pw.ModelSelect[PersonalCall]:
    """Calls with their loan, phone, borrower and recorder, in one query (add ``.where``)."""
    borrower = Staff.alias("borrower")
    recorder = Staff.alias("recorder")
    return (
        PersonalCall.select(PersonalCall, Loan, Item, borrower, recorder)
        .join(Loan, on=(PersonalCall.loan == Loan.id))
        .join(Item, on=(Loan.item == Item.id))
        .switch(Loan)
        .join(borrower, pw.JOIN.LEFT_OUTER, on=(Loan.borrower == borrower.id), attr="borrower_row")
        .switch(PersonalCall)
        .join(
            recorder,
            pw.JOIN.LEFT_OUTER,
            on=(PersonalCall.recorded_by == recorder.id),
            attr="by_row",
        )
    )


def views_of(query: pw.ModelSelect[PersonalCall]) -> list[CallView]:
    """CallViews from ``select_calls()`` rows."""
    out = []
    for call in query:
        loan = call.loan
        person = getattr(loan, "borrower_row", None)
        by = getattr(call, "by_row", None)
        out.append(
            call_view(
                call,
                loan,
                loan.item,
                person if person is not None and person.id is not None else None,
                by if by is not None and by.id is not None else None,
            )
        )
    return out


def call_counts(loan_ids: list[int]) -> dict[int, int]:
    """How many calls each of these loans has (loans with none are left out)."""
    if not loan_ids:
        return {}
    marks = ", ".join("?" * len(loan_ids))
    rows = database.execute_sql(
        f"SELECT loan_id, COUNT(*) FROM personal_call WHERE loan_id IN ({marks}) GROUP BY loan_id",
        tuple(loan_ids),
    )
    return {int(loan): int(n) for loan, n in rows}


def order_key(view: CallView) -> tuple[datetime, int]:
    """Calls in the order they were made (old calls whose words were not read: when recorded)."""
    return (view.made_at or view.recorded_at, view.id)


class Calls:
    """Records and reads personal calls. ``LoanService`` calls it under its lock."""

    def __init__(self, settings: Settings, clock: Clock, calendar: SchoolCalendar) -> None:
        self.settings = settings
        self.clock = clock
        self.calendar = calendar
        self.journal = Journal(clock)

    def _phone_loan(self, loan_id: int) -> Loan:
        loan = Loan.get_or_none(Loan.id == loan_id)
        if loan is None:
            raise NotFound(f"There is no loan number {loan_id}.")
        if "personal_calls" not in self.settings.kind(loan.item.kind).checklist:
            label = self.settings.kind(loan.item.kind).label.lower()
            raise Refused(f"Personal calls are recorded for trip phones, not for a {label}.")
        if loan.outcome == "undone":
            raise Refused(f"That loan of {loan.item.name} was undone: it never happened.")
        return loan

    def days(self, loan_id: int) -> list[date]:
        """The days a call on this loan can have been made: from the day it went out to the
        day it came back (or today), the most recent ``MAX_DAYS``. The first is the trip's day."""
        loan = self._phone_loan(loan_id)
        first = self.calendar.local(loan.out_at).date()
        last = self.calendar.local(loan.closed_at or self.clock.now()).date()
        span = max(0, (last - first).days)
        start = max(0, span + 1 - MAX_DAYS)
        return [first + timedelta(days=n) for n in range(start, span + 1)]

    def add(
        self,
        loan_id: int,
        day: date,
        at: time,
        number: str,
        reason: str,
        by_staff_id: int | None = None,
    ) -> ActionResult:
        """Record one call made on ``day`` at ``at`` (the school's local time)."""
        loan = self._phone_loan(loan_id)
        number, reason = check_number(number), check_reason(reason)
        made_at = self.calendar.at(day, at)
        item = loan.item
        now = self.clock.now()
        first_day = self.calendar.local(loan.out_at).date()
        if day < first_day:
            raise Refused(
                f"{item.name} went out on {self._day(first_day)}: choose a day of this trip."
            )
        if loan.closed_at is not None and made_at > loan.closed_at + timedelta(minutes=1):
            back = self.calendar.describe(loan.closed_at, now)
            raise Refused(
                f"{item.name} came back at {back}: a call at {at:%H:%M} on "
                f"{self._day(day)} was not made on this trip."
            )
        if made_at > now + timedelta(minutes=1):
            raise Refused(f"{at:%H:%M} on {self._day(day)} has not come yet. Check the time.")
        repeat = PersonalCall.select().where(
            PersonalCall.loan == loan.id,
            PersonalCall.made_at == made_at,
            PersonalCall.number == number,
        )
        if repeat.exists():
            raise Refused(f"That call (at {at:%H:%M} to {number}) is already recorded.")
        with store.write():
            call = PersonalCall.create(
                loan=loan,
                made_at=made_at,
                number=number,
                reason=reason,
                recorded_at=now,
                recorded_by=by_staff_id,
            )
            # The number and reason are the call's own record; the journal says only that
            # one was recorded (a third party's number has no place in the audit log).
            self.journal.event(
                "personal_call",
                staff_id=loan.borrower_id,
                item_id=loan.item_id,
                loan_id=loan.id,
                detail={"call": call.id, "recorded_by": by_staff_id},
            )
        count = PersonalCall.select().where(PersonalCall.loan == loan.id).count()
        return ActionResult(
            f"Call at {at:%H:%M} on {self._day(day)} recorded ({count} for this trip)."
        )

    def _day(self, day: date) -> str:
        return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


# --- calls recorded before the _personal_call_instants step --------------------------------


def read_stated(
    stated: str, out_at: datetime, recorded_at: datetime, calendar: SchoolCalendar
) -> datetime | None:
    """The instant old words mean, when exactly one reading fits the loan; else None.

    "23/11 12:10" is day/month (the kiosk wrote it so), in the school's local time; the
    year is the one that puts the day between the day the phone went out and the day
    the call was recorded. A time alone is read only when those are the same day. The
    call must also have been made before it was recorded. Nothing else is guessed.
    """
    text = " ".join(stated.split())
    first = calendar.local(out_at).date()
    last = calendar.local(recorded_at).date()
    m = _DAY_AND_TIME.match(text)
    candidates: list[date] = []
    if m:
        years = (
            [int(m["y"]) + (2000 if len(m["y"]) == 2 else 0)]
            if m["y"]
            else sorted({first.year, last.year})
        )
        for year in years:
            try:
                candidates.append(date(year, int(m["m"]), int(m["d"])))
            except ValueError:
                continue
        hour, minute = int(m["h"]), int(m["mi"])
    else:
        t = _TIME_ONLY.match(text)
        if t is None or first != last:
            return None
        candidates = [first]
        hour, minute = int(t["h"]), int(t["mi"])
    if hour > 23 or minute > 59:
        return None
    fits = [d for d in candidates if first <= d <= last]
    if len(fits) != 1:
        return None
    made = calendar.at(fits[0], time(hour, minute))
    return made if made <= recorded_at else None


def read_stated_times(settings: Settings, clock: Clock) -> int:
    """Give old calls their instant where their words can be read (``read_stated``).

    Runs on every sync pass (cheap: a partial index holds only the rows without an
    instant, and there are never more than the calls of before the upgrade) and before
    ``kiosk export calls``. The words stay beside the instant; calls that cannot be
    read keep only their words, and are shown as written. Returns how many were read.
    """
    waiting = list(
        PersonalCall.select(PersonalCall, Loan)
        .join(Loan, on=(PersonalCall.loan == Loan.id))
        .where(PersonalCall.made_at.is_null(), PersonalCall.stated != "")
    )
    if not waiting:
        return 0
    calendar = SchoolCalendar(settings.school)
    read: dict[int, datetime] = {}
    for call in waiting:
        made = read_stated(call.stated, call.loan.out_at, call.recorded_at, calendar)
        if made is not None:
            read[call.id] = made
    if not read:
        log.debug("%d old personal call(s) keep only the words typed", len(waiting))
        return 0
    with store.write():
        for call_id, made in read.items():
            PersonalCall.update(made_at=made).where(
                PersonalCall.id == call_id, PersonalCall.made_at.is_null()
            ).execute()
        Journal(clock).event("call_times_read", detail={"calls": sorted(read)})
    log.info(
        "read the time of %d personal call(s) recorded before exact times; %d keep their words",
        len(read),
        len(waiting) - len(read),
    )
    return len(read)

"""School days and due times, in the school's own time zone.

Due times are "end of the school day", and a school day is a weekday inside a
term that is not an INSET day. Everything is computed in local time (the
school's clock on the wall, with British Summer Time) and returned in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.settings import KindRule, School

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: As staff read them (and as strftime's %a and %b write them in English).
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: How far ahead to look for the next school day before giving up (a summer holiday is ~6 weeks).
_SEARCH_DAYS = 400


class SchoolCalendar:
    def __init__(self, school: School) -> None:
        self.school = school
        self.tz = ZoneInfo(school.timezone)
        self._weekdays = {_WEEKDAYS.index(d) for d in school.school_days}
        self._inset = set(school.inset_days)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)

    def is_school_day(self, day: date) -> bool:
        if day.weekday() not in self._weekdays or day in self._inset:
            return False
        if not self.school.terms:
            return True
        return any(t.start <= day <= t.end for t in self.school.terms)

    def end_of_day(self, day: date) -> datetime:
        """The end of the school day on ``day``, in UTC."""
        return self.at(day, self.school.day_ends)

    def at(self, day: date, clock_time: time) -> datetime:
        """A local wall-clock time on ``day``, in UTC."""
        return datetime.combine(day, clock_time, tzinfo=self.tz).astimezone(UTC)

    def next_school_day(self, after: date) -> date | None:
        """The first school day strictly after ``after``, or None if none within a year."""
        day = after
        for _ in range(_SEARCH_DAYS):
            day += timedelta(days=1)
            if self.is_school_day(day):
                return day
        return None

    def default_due(self, now: datetime) -> datetime:
        """End of today's school day if it is still ahead, else of the next school day."""
        today = self.local(now).date()
        if self.is_school_day(today) and now < self.end_of_day(today):
            return self.end_of_day(today)
        nxt = self.next_school_day(today)
        # With no school day in the coming year (no terms set up yet), fall back to the
        # next calendar day so that the item still has a due time.
        return self.end_of_day(nxt or today + timedelta(days=1))

    def due_for(self, rule: KindRule, now: datetime) -> datetime | None:
        if rule.due == "none":
            return None
        return self.default_due(now)

    def fit_to_school_day(self, due: datetime) -> datetime:
        """A chosen due time that falls on a non-school day moves to the next school day's end."""
        day = self.local(due).date()
        if self.is_school_day(day):
            return due
        nxt = self.next_school_day(day)
        return self.end_of_day(nxt) if nxt else due

    def describe(self, due: datetime, now: datetime) -> str:
        """A due time as staff say it: "15:30 today", "09:00 tomorrow", "15:30 on Mon 24 Nov".

        Built from the fields, not strftime: a trust page says this of a couple of thousand
        loans, and three strftime calls each were a tenth of its time."""
        local_due = self.local(due)
        day = local_due.date()
        today = self.local(now).date()
        hhmm = f"{local_due.hour:02d}:{local_due.minute:02d}"
        if day == today:
            return f"{hhmm} today"
        if day == today + timedelta(days=1):
            return f"{hhmm} tomorrow"
        return f"{hhmm} on {_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]}"


#: Day-first dates as a UK office types them: 23/11/2026, 23-11-2026, 23.11.26.
_UK_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")

DAY_EXAMPLES = "today, yesterday, 2026-11-23 or 23/11/2026"


def parse_day(text: str, today: date) -> date:
    """A date as typed at a shell: today, yesterday, 2026-11-23 or 23/11/2026.

    ``today`` is the school's date (its time zone). Raises ValueError with a message
    a person can act on. Slashed dates are day first, as in the UK: 03/04/2026 is
    3 April.
    """
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    m = _UK_DATE.match(word)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
        year, month, day = (int(part) for part in word.split("-"))
    elif m:
        day, month, year = (int(g) for g in m.groups())
        year += 2000 if year < 100 else 0
        if month > 12 >= day:
            raise ValueError(f"{text!r}: dates are day first, as in 23/11/2026")
    else:
        raise ValueError(f"{text!r} is not a date: write {DAY_EXAMPLES}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date (write {DAY_EXAMPLES})") from None

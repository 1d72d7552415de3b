"""Return times a person can choose in one press, and typed times read the way staff write them.

Kept apart from the screens (no Textual import) so the rules are easy to test:
"end of day" is the end of today's school day (or the next one after hours),
"+2 h" is two hours from now, "tomorrow" the end of the next school day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from kiosk.calendar import SchoolCalendar


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    due: datetime


def presets(calendar: SchoolCalendar, now: datetime) -> list[Preset]:
    """The three one-press choices, labelled with the time they mean."""
    end = calendar.default_due(now)
    two = now + timedelta(hours=2)
    today = calendar.local(now).date()
    nxt = calendar.next_school_day(today) or today + timedelta(days=1)
    tomorrow = calendar.end_of_day(nxt)
    if tomorrow <= end:  # after hours "end of day" already is the next school day
        nxt = calendar.next_school_day(nxt) or nxt + timedelta(days=1)
        tomorrow = calendar.end_of_day(nxt)
    next_label = "Tomorrow" if nxt == today + timedelta(days=1) else "Next school day"
    return [
        Preset("end_of_day", f"End of day, {calendar.describe(end, now)}", end),
        Preset("plus_2h", f"In 2 hours, {calendar.describe(two, now)}", two),
        Preset("tomorrow", f"{next_label}, {calendar.describe(tomorrow, now)}", tomorrow),
    ]


_TIME = re.compile(
    r"^(?:(?P<day>today|tomorrow|tmrw)\s*)?(?:at\s*)?"
    r"(?P<h>\d{1,2})(?:[:.]?(?P<m>\d{2}))?\s*(?P<ampm>am|pm)?$"
)


class BadTime(ValueError):
    """Typed text that is not a time; the message says what to type."""


def parse_time(text: str, calendar: SchoolCalendar, now: datetime) -> datetime:
    """Read "14:30", "2:30pm", "1430", "tomorrow 9:00" or "tomorrow" as a UTC instant.

    A bare time means today. The result may be in the past: the service refuses
    that with its own message.
    """
    raw = " ".join(text.lower().split())
    if not raw:
        raise BadTime("Type a time, for example 14:30 or tomorrow 12:00.")
    today = calendar.local(now).date()
    if raw in ("tomorrow", "tmrw"):
        return calendar.end_of_day(today + timedelta(days=1))
    m = _TIME.match(raw)
    if not m:
        raise BadTime(f'"{text.strip()}" is not a time. Type it like 14:30 or tomorrow 12:00.')
    day = today + timedelta(days=1) if m["day"] in ("tomorrow", "tmrw") else today
    return calendar.at(day, _clock_time(m, text))


def _clock_time(m: re.Match[str], text: str) -> time:
    """The hour, minutes and am/pm a pattern matched, as a time; BadTime when impossible."""
    hour, minute = int(m["h"]), int(m["m"] or 0)
    if m["ampm"] and not 1 <= hour <= 12:
        raise BadTime(f'"{text.strip()}" is not a time of day. Type it like 14:30.')
    if m["ampm"] == "pm" and hour < 12:
        hour += 12
    if m["ampm"] == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise BadTime(f'"{text.strip()}" is not a time of day. Type it like 14:30.')
    return time(hour, minute)


_TIME_OF_DAY = re.compile(r"^(?P<h>\d{1,2})(?:[:.]?(?P<m>\d{2}))?\s*(?P<ampm>am|pm)?$")


def parse_time_of_day(text: str) -> time:
    """Read "14:30", "2:30pm", "1430" or "9am" as a time of day (a personal call's time)."""
    raw = "".join(text.lower().split())
    if not raw:
        raise BadTime("Type the time of the call, for example 14:30.")
    m = _TIME_OF_DAY.match(raw)
    if not m:
        raise BadTime(f'"{text.strip()}" is not a time. Type it like 14:30.')
    return _clock_time(m, text)

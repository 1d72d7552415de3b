"""The office's day, as one read: loans and returns, short counts, damage, losses, personal
calls, what is overdue, and the stock-take.

The kiosk's "Today" view, ``kiosk export day`` and the end-of-day summary alert all
read ``day_report``, so they never disagree; ``kiosk web``'s Today page reads it too
(kiosk.web.sections). Only reads. A day is the school's local day (midnight to midnight,
British Summer Time included); "overdue" is judged at the end of that day, or now for
today. Each part is one indexed query on a database with years of loans: loans by
``out_at`` and ``closed_at``, open loans by due time, loans returned late by when they
came back, damage and loss events through a partial index, calls by ``made_at``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import peewee as pw

from kiosk.calendar import SchoolCalendar
from kiosk.db import Event, Item, PersonalCall, Staff, database
from kiosk.errors import Refused
from kiosk.journal import stamp
from kiosk.loans.calls import order_key, select_calls, views_of
from kiosk.loans.queries import Queries
from kiosk.loans.stocktake import StockTakes, holder
from kiosk.views import CallView, DayReport, Incident, LoanView, ShortCount

#: Loans that happened: an undone sign-out never did.
_REAL = "(l.outcome IS NULL OR l.outcome != 'undone')"


def bounds(calendar: SchoolCalendar, day: date) -> tuple[datetime, datetime]:
    """The local day as a UTC interval [start, end)."""
    return calendar.at(day, time(0, 0)), calendar.at(day + timedelta(days=1), time(0, 0))


def day_report(queries: Queries, day: date | None = None) -> DayReport:
    """Everything that happened on ``day`` (default today), as plain views."""
    calendar, now = queries.calendar, queries.clock.now()
    today = calendar.local(now).date()
    day = day or today
    if day > today:
        raise Refused(f"{day:%a} {day.day} {day:%b %Y} has not happened yet.")
    start, end = bounds(calendar, day)
    as_of = min(now, end)
    s, e, a = stamp(start), stamp(end), stamp(as_of)
    signed_out = queries.loans(
        f"l.out_at >= ? AND l.out_at < ? AND {_REAL} ORDER BY l.out_at, l.id", (s, e)
    )
    returned = queries.loans(
        "l.closed_at >= ? AND l.closed_at < ? AND l.outcome IN ('returned', 'handed_over')"
        " ORDER BY l.closed_at, l.id",
        (s, e),
    )
    # Overdue at ``as_of``: still out (the open loans' due-time index), or out then and
    # back since (the closed loans' index).
    overdue = queries.loans(
        "l.closed_at IS NULL AND l.due_at < ? AND l.out_at < ? ORDER BY l.due_at, l.id", (a, a)
    )
    if as_of < now:
        # "l.closed_at > l.due_at" is the partial index loan_closed_late's own condition;
        # "+l.out_at" keeps SQLite from walking every earlier loan of each item instead.
        overdue += queries.loans(
            f"l.closed_at > l.due_at AND l.closed_at > ? AND l.due_at < ? AND +l.out_at < ?"
            f" AND {_REAL} ORDER BY l.due_at, l.id",
            (a, a, a),
        )
        overdue.sort(key=lambda v: (v.due_at or as_of, v.id))
    short = _short(returned)
    damaged = _damage_on_return(returned) + _incidents("damaged", start, end, queries)
    damaged.sort(key=lambda i: (i.at, i.item.name))
    stock = StockTakes(queries.settings, queries.clock, calendar, queries)
    return DayReport(
        day=day,
        as_of=as_of,
        signed_out=tuple(signed_out),
        returned=tuple(returned),
        short=tuple(short),
        damaged=tuple(damaged),
        lost=tuple(_incidents("lost", start, end, queries)),
        calls=tuple(_calls(start, end)),
        overdue=tuple(overdue),
        stock_take=stock.latest_between(start, end),
    )


def _short(returned: list[LoanView]) -> list[ShortCount]:
    """Returns whose checklist counted fewer than the item holds."""
    out = []
    for loan in returned:
        counts = (loan.checklist or {}).get("counts")
        if not isinstance(counts, dict):
            continue
        lines = tuple(
            (c.name, int(counts[c.name]), c.count)
            for c in loan.item.contents
            if c.name in counts and int(counts[c.name]) < c.count
        )
        if lines:
            out.append(ShortCount(loan, lines))
    return out


def _damage_on_return(returned: list[LoanView]) -> list[Incident]:
    """Damage written on the return checklist of the day's returns."""
    out = []
    for loan in returned:
        note = (loan.checklist or {}).get("damage")
        if isinstance(note, str) and note.strip() and loan.closed_at is not None:
            who = loan.borrower.name if loan.borrower else ""
            out.append(Incident(loan.item, loan.closed_at, note.strip(), who, loan.id))
    return out


#: Events of the day's problems, through the partial index ``event_day_problems`` (its
#: condition is repeated word for word, with constants: SQLite matches it only so).
_PROBLEM_EVENTS = (
    "SELECT id FROM event WHERE action IN ('damaged', 'lost') AND action = ?"
    " AND at >= ? AND at < ? ORDER BY at, id"
)


def _incidents(action: str, start: datetime, end: datetime, queries: Queries) -> list[Incident]:
    """Damage reported on a loan (My items), or items reported lost, from their events."""
    ids = [r[0] for r in database.execute_sql(_PROBLEM_EVENTS, (action, stamp(start), stamp(end)))]
    if not ids:
        return []
    rows = (
        Event.select(Event, Item, Staff)
        .join(Item, on=(Event.item == Item.id))
        .switch(Event)
        .join(Staff, pw.JOIN.LEFT_OUTER, on=(Event.staff == Staff.id))
        .where(Event.id.in_(ids))
        .order_by(Event.at, Event.id)
    )
    out = []
    for event in rows:
        who = event.staff.name if event.staff is not None else ""
        note = str((event.detail or {}).get("note", ""))
        assert event.item is not None  # both actions are about an item
        out.append(Incident(queries.views.item(event.item), event.at, note, who, event.loan_id))
    return out


def _calls(start: datetime, end: datetime) -> list[CallView]:
    """Calls made that day; old calls whose time was never read, by the day they were
    recorded (their words say the rest)."""
    made = select_calls().where(PersonalCall.made_at >= start, PersonalCall.made_at < end)
    old = select_calls().where(
        PersonalCall.made_at.is_null(),
        PersonalCall.recorded_at >= start,
        PersonalCall.recorded_at < end,
    )
    return sorted(views_of(made) + views_of(old), key=order_key)


# --- the same facts for an alert ----------------------------------------------------------


def day_facts(report: DayReport, calendar: SchoolCalendar) -> dict[str, Any]:
    """The day's facts for the end-of-day summary alert: the minimum personal data.

    Names, items and times, as the Today view shows them. A personal call is given as
    the phone, its holder and the time: the number called and the reason stay in the
    kiosk (``kiosk export calls``), as they stay on the paper form in the office.
    """

    def hhmm(at: datetime | None) -> str:
        return calendar.local(at).strftime("%H:%M") if at else ""

    def who(loan: LoanView) -> str | None:
        return loan.borrower.name if loan.borrower else None

    facts: dict[str, Any] = {
        "day": report.day.isoformat(),
        "counts": dict(report.counts),
        "headline": report.headline,
        "short": [
            {"item": s.loan.item.name, "person": who(s.loan), "counted": s.text}
            for s in report.short
        ],
        "damaged": [
            {"item": d.item.name, "person": d.person or None, "note": d.note, "at": hhmm(d.at)}
            for d in report.damaged
        ],
        "lost": [
            {"item": d.item.name, "person": d.person or None, "note": d.note, "at": hhmm(d.at)}
            for d in report.lost
        ],
        "calls": [
            {"phone": c.phone, "person": c.person or None, "at": hhmm(c.made_at) or c.stated}
            for c in report.calls
        ],
        "overdue": [
            {
                "item": v.item.name,
                "person": who(v),
                "due_at": v.due_at.isoformat() if v.due_at else None,
            }
            for v in report.overdue
        ],
        "stock_take": None,
    }
    take = report.stock_take
    if take is not None:
        facts["stock_take"] = {
            "at": hhmm(take.at),
            "summary": take.summary,
            "missing": [
                {"item": x.item.name, "last_with": holder(x) or None} for x in take.missing
            ],
            "here_but_shown_out": [
                {"item": x.item.name, "shown_with": holder(x) or None} for x in take.here
            ],
        }
    return facts

"""Exports: loans to CSV for the office, and everything about one person for a SAR.

A CSV opened in Excel runs any cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula ("CSV injection"); a name or a trip typed at the kiosk could
do that. Such cells are written with a leading apostrophe, which Excel and
LibreOffice show as plain text.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import peewee as pw

from kiosk.calendar import SchoolCalendar
from kiosk.db import Event, Item, Loan, OfficeAct, Outbox, PersonalCall, Staff
from kiosk.errors import KioskError, NotFound
from kiosk.loans.calls import order_key, select_calls, views_of
from kiosk.settings import Retention
from kiosk.views import DayReport, ItemView, LoanView

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

LOAN_COLUMNS = [
    "loan",
    "item",
    "asset_tag",
    "kind",
    "borrower",
    "staff_id",
    "out_at",
    "due_at",
    "closed_at",
    "outcome",
    "closed_by",
    "trip",
    "off_site",
    "checklist",
    "condition_note",
]


def safe_cell(value: object) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _local(calendar: SchoolCalendar, value: datetime | None) -> str:
    return calendar.local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _loan_rows(calendar: SchoolCalendar, since: datetime | None) -> Iterator[list[str]]:
    """The CSV rows of loans out on or after ``since`` (all when None), oldest first."""
    closer = Staff.alias()
    query = (
        Loan.select(Loan, Item, Staff, closer)
        .join(Item, on=(Loan.item == Item.id))
        .switch(Loan)
        .join(Staff, pw.JOIN.LEFT_OUTER, on=(Loan.borrower == Staff.id))
        .switch(Loan)
        .join(closer, pw.JOIN.LEFT_OUTER, on=(Loan.closed_by == closer.id))
        .order_by(Loan.out_at)
    )
    if since is not None:
        query = query.where(Loan.out_at >= since)
    for loan in query.iterator():
        borrower = loan.borrower if loan.borrower_id else None
        closed_by = loan.closed_by if loan.closed_by_id else None
        yield [
            safe_cell(v)
            for v in (
                loan.id,
                loan.item.name,
                loan.item.asset_tag,
                loan.item.kind,
                borrower.name if borrower else "(anonymised)" if loan.anonymised else "",
                borrower.staff_id if borrower else "",
                _local(calendar, loan.out_at),
                _local(calendar, loan.due_at),
                _local(calendar, loan.closed_at),
                loan.outcome or "",
                closed_by.name if closed_by else "",
                loan.trip,
                "yes" if loan.off_site else "no",
                "; ".join(f"{k}={v}" for k, v in (loan.checklist or {}).items()),
                loan.condition_note,
            )
        ]


def _write_loans(fh: IO[str], calendar: SchoolCalendar, since: datetime | None) -> int:
    writer = csv.writer(fh)
    writer.writerow(LOAN_COLUMNS)
    count = 0
    for row in _loan_rows(calendar, since):
        writer.writerow(row)
        count += 1
    return count


def iter_loans_csv(
    calendar: SchoolCalendar, since: datetime | None = None, rows_per_chunk: int = 500
) -> Iterator[str]:
    """The same CSV as ``export_loans``, in pieces of text: for a download streamed as it
    is read, so that a million loans never sit in memory at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(LOAN_COLUMNS)
    for n, row in enumerate(_loan_rows(calendar, since), start=1):
        writer.writerow(row)
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_csv(path: Path, rows: Callable[[IO[str]], int]) -> int:
    """Run ``rows`` (which writes the CSV and returns how many rows) into ``path``.

    "-" is stdout. A file appears complete or not at all: rows go to a temporary file
    that is renamed into place. Excel opens a UTF-8 CSV correctly only with a BOM.
    """
    if str(path) == "-":
        return rows(sys.stdout)
    tmp = path.with_name(path.name + ".partial")
    try:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            count = rows(fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise KioskError(f"Cannot write {path}: {exc.strerror}") from exc
    return count


def export_loans(path: Path, calendar: SchoolCalendar, since: datetime | None = None) -> int:
    """Write loans as CSV to ``path`` ("-" for stdout); returns how many were written."""
    return write_csv(path, lambda fh: _write_loans(fh, calendar, since))


#: The Appendix 5 form's columns first, then what the office needs to act on a row.
CALL_COLUMNS = [
    "date",
    "time",
    "number called or texted",
    "reason",
    "member of staff",
    "phone",
    "phone number",
    "trip",
    "as written",
    "recorded at",
    "recorded by",
]


def _write_calls(fh: IO[str], calendar: SchoolCalendar, since: datetime | None) -> int:
    """Every personal call made since ``since`` (all when None), in the order made.

    A call recorded before the kiosk kept exact times, whose words could not be read
    without guessing, has no date or time: its words are in "as written".
    """
    writer = csv.writer(fh)
    writer.writerow(CALL_COLUMNS)
    query = select_calls()
    if since is not None:
        query = query.where(
            (PersonalCall.made_at >= since)
            | (PersonalCall.made_at.is_null() & (PersonalCall.recorded_at >= since))
        )
    trips = {}
    count = 0
    for call in sorted(views_of(query), key=order_key):
        if call.loan_id not in trips:
            trips[call.loan_id] = Loan.get_by_id(call.loan_id).trip
        local = calendar.local(call.made_at) if call.made_at else None
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    local.strftime("%Y-%m-%d") if local else "",
                    local.strftime("%H:%M") if local else "",
                    call.number,
                    call.reason,
                    call.person or "(removed)",
                    call.phone,
                    call.phone_number,
                    trips[call.loan_id],
                    call.stated,
                    _local(calendar, call.recorded_at),
                    call.recorded_by,
                )
            ]
        )
        count += 1
    return count


def export_calls(path: Path, calendar: SchoolCalendar, since: datetime | None = None) -> int:
    """Write personal calls (Appendix 5) as CSV to ``path`` ("-" for stdout)."""
    return write_csv(path, lambda fh: _write_calls(fh, calendar, since))


DAY_COLUMNS = ["day", "what", "time", "item", "asset_tag", "person", "detail"]


def day_rows(report: DayReport, calendar: SchoolCalendar) -> list[list[str]]:
    """The day as rows of ``DAY_COLUMNS``, in the order the Today view shows it."""
    day = report.day.isoformat()

    def hhmm(at: datetime | None) -> str:
        return calendar.local(at).strftime("%H:%M") if at else ""

    def who(loan: LoanView | None) -> str:
        if loan is None or loan.borrower is None:
            return ""
        return loan.borrower.name

    def due(loan: LoanView) -> str:
        return f"due {_local(calendar, loan.due_at)}" if loan.due_at else "no due time"

    rows: list[list[str]] = []

    def add(what: str, at: datetime | None, item: ItemView, person: str, detail: str) -> None:
        rows.append([day, what, hhmm(at), item.name, item.asset_tag, person, detail])

    for v in report.signed_out:
        add(
            "signed out", v.out_at, v.item, who(v), due(v) + (f"; trip: {v.trip}" if v.trip else "")
        )
    for v in report.returned:
        how = "passed on" if v.outcome == "handed_over" else "returned"
        add(how, v.closed_at, v.item, who(v), "")
    for s in report.short:
        add("short count", s.loan.closed_at, s.loan.item, who(s.loan), s.text)
    for d in report.damaged:
        add("damaged", d.at, d.item, d.person, d.note)
    for d in report.lost:
        add("lost", d.at, d.item, d.person, d.note)
    for c in report.calls:
        rows.append(
            [
                day,
                "personal call",
                hhmm(c.made_at),
                c.phone,
                "",
                c.person,
                f"as written: {c.stated}" if c.made_at is None else "",
            ]
        )
    for v in report.overdue:
        add("overdue", v.due_at, v.item, who(v), due(v))
    take = report.stock_take
    if take is not None:
        for line in take.missing:
            last = f"last with {who(line.loan)}" if line.loan else "never borrowed"
            add("stock-take: missing", take.at, line.item, who(line.loan), last)
        for line in take.here:
            add("stock-take: here, shown as out", take.at, line.item, who(line.loan), "")
        for line in take.out:
            add("stock-take: out on loan", take.at, line.item, who(line.loan), "")
    return rows


def _write_day(fh: IO[str], report: DayReport, calendar: SchoolCalendar) -> int:
    writer = csv.writer(fh)
    writer.writerow(DAY_COLUMNS)
    rows = day_rows(report, calendar)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return len(rows)


def export_day(path: Path, report: DayReport, calendar: SchoolCalendar) -> int:
    """Write the day's report as CSV to ``path`` ("-" for stdout); returns the rows."""
    return write_csv(path, lambda fh: _write_day(fh, report, calendar))


def day_csv(report: DayReport, calendar: SchoolCalendar) -> str:
    """The same CSV as ``export_day``, as text (a day is small): for the web's download."""
    buffer = io.StringIO(newline="")
    _write_day(buffer, report, calendar)
    return buffer.getvalue()


def find_person(ref: str) -> Staff:
    staff = Staff.get_or_none(Staff.staff_id == ref)
    if staff is None:
        matches = list(Staff.select().where(pw.fn.LOWER(Staff.name) == ref.lower()))
        if len(matches) > 1:
            raise NotFound(f"More than one person is called {ref!r}: use their staff_id.")
        staff = matches[0] if matches else None
    if staff is None:
        raise NotFound(f"No member of staff has staff_id or name {ref!r}.")
    return staff


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_person(ref: str, retention: Retention) -> dict[str, Any]:
    """Everything the kiosk holds about one member of staff, for a subject access request."""
    staff = find_person(ref)
    loans = Loan.select().where((Loan.borrower == staff) | (Loan.closed_by == staff))
    loan_rows = []
    for loan in loans.order_by(Loan.out_at):
        loan_rows.append(
            {
                "loan": loan.id,
                "item": loan.item.name,
                "borrowed_by_them": loan.borrower_id == staff.id,
                "closed_by_them": loan.closed_by_id == staff.id,
                "out_at": _iso(loan.out_at),
                "due_at": _iso(loan.due_at),
                "closed_at": _iso(loan.closed_at),
                "outcome": loan.outcome,
                "trip": loan.trip,
                "checklist": loan.checklist,
                "condition_note": loan.condition_note,
                "personal_calls": [
                    {
                        "made_at": _iso(c.made_at),
                        "as_written": c.stated,
                        "number": c.number,
                        "reason": c.reason,
                        "recorded_at": _iso(c.recorded_at),
                    }
                    for c in PersonalCall.select().where(PersonalCall.loan == loan)
                ]
                if loan.borrower_id == staff.id
                else [],
            }
        )
    events = [
        {"at": _iso(e.at), "action": e.action, "reader": e.reader, "detail": e.detail}
        for e in Event.select().where(Event.staff == staff).order_by(Event.at)
    ]
    loan_ids = [row["loan"] for row in loan_rows]
    alerts = [
        {
            "kind": o.kind,
            "to": o.audience,
            "created_at": _iso(o.created_at),
            "delivered_at": _iso(o.delivered_at),
            "payload": o.payload,
        }
        for o in (Outbox.select().where(Outbox.loan.in_(loan_ids)) if loan_ids else [])
    ]
    # What they did as the office on someone else's behalf (kiosk.loans.acts).
    office_acts = [
        {
            "loan": a.loan_id,
            "item": a.loan.item.name,
            "act": a.act,
            "reason": a.reason,
            "at": _iso(a.event.at),
        }
        for a in OfficeAct.select().where(OfficeAct.by == staff).order_by(OfficeAct.id)
    ]
    return {
        "person": {
            "staff_id": staff.staff_id,
            "name": staff.name,
            "known_as": staff.known_as,
            "role": staff.role,
            "classes": staff.class_list,
            "email": staff.email,
            "has_badge": bool(staff.badge_uid),
            "badge_uid": staff.badge_uid,
            "active": staff.active,
            "inactive_reason": staff.inactive_reason,
            "has_admin_pin": bool(staff.pin_hash),
        },
        "loans": loan_rows,
        "office_acts": office_acts,
        "events": events,
        "alerts": alerts,
        "retention": {
            "closed_loans_days": retention.loans_days,
            "delivered_alerts_days": retention.delivered_alerts_days,
        },
    }

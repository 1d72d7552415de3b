"""Reminders to the borrower: one a set time before the due time, one when it is overdue.

Switched on by ``[reminders] enabled``; only for a borrower who is active and has an
email address (the staff list's email column). Each is an alert like any other (the
outbox, a channel, retries), for the audience "borrower": the email channel marked
``to_borrower`` sends it to that person's own address and nowhere else.

- Before: when the due time is at most ``before_minutes`` away, if the item went out
  before that moment (no reminder for something borrowed a minute ago).
- Overdue: once the due time has passed, while the office has not been told yet
  (``overdue`` is raised after the grace period, in the same pass after this rule):
  a reminder is worth sending only before the office acts.

Only on school days, never in the quiet hours, never for a loan whose times are
uncertain (signed out while the clock was not set), and each at most once per due
time: a trip phone's new return time may be reminded of again (``alerts.due_key``).
A reminder whose moment passed in the quiet hours is not sent late; an overdue one
waits for the quiet hours to end, if the office has still not been told.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from kiosk import alerts
from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Loan, database
from kiosk.loans.queries import open_loans_among
from kiosk.settings import Settings

log = logging.getLogger(__name__)

# Open loans due by a time, whose borrower can be reminded, through the open loans'
# due-time index; the outbox's unique key says whether the office was told already.
_CANDIDATES = (
    "SELECT l.id FROM loan AS l JOIN staff AS s ON s.id = l.borrower_id "
    "WHERE l.closed_at IS NULL AND l.due_at <= ? {after}"
    "AND NOT (l.out_clock_synced = 0 AND l.out_corrected IS NULL) "
    "AND s.active = 1 AND s.email LIKE '%_@_%' "
    "AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.key = ? || l.id) "
    "ORDER BY l.due_at, l.id"
)


def raise_reminders(
    settings: Settings, clock: Clock, calendar: SchoolCalendar, now: datetime
) -> int:
    """Raise the reminders that are due now; returns how many (0 when switched off)."""
    r = settings.reminders
    if not r.enabled:
        return 0
    local = calendar.local(now)
    if not calendar.is_school_day(local.date()) or r.quiet(local.time()):
        return 0
    office = alerts.loan_key_prefix("overdue")
    raised = 0
    if r.before_minutes:
        soon = now + timedelta(minutes=r.before_minutes)
        ids = _ids(soon, now, office)
        raised += _raise(settings, clock, calendar, "reminder", ids, now, before=True)
    if r.when_overdue:
        # Overdue, and the office not told yet: a week-old loan has long been told.
        ids = _ids(now, None, office)
        raised += _raise(settings, clock, calendar, "reminder_overdue", ids, now, before=False)
    if raised:
        log.info("raised %d reminder(s) to borrowers", raised)
    return raised


def _ids(due_by: datetime, due_after: datetime | None, office_prefix: str) -> list[int]:
    """Open loans due by ``due_by`` (and after ``due_after``) the office was not told of."""
    params: list[object] = [Loan.due_at.db_value(due_by)]
    if due_after is not None:
        params.append(Loan.due_at.db_value(due_after))
    sql = _CANDIDATES.format(after="AND l.due_at > ? " if due_after is not None else "")
    cursor = database.execute_sql(sql, (*params, office_prefix))
    return [row[0] for row in cursor.fetchall()]


def _raise(
    settings: Settings,
    clock: Clock,
    calendar: SchoolCalendar,
    kind: str,
    ids: list[int],
    now: datetime,
    *,
    before: bool,
) -> int:
    if not ids:
        return 0
    raised = 0
    channels = settings.sync.channels_for(kind, "borrower")
    with store.write():
        for loan in open_loans_among(ids):
            due = loan.due_at
            assert due is not None  # the query asks for a due time
            if before and loan.out_at > due - timedelta(minutes=settings.reminders.before_minutes):
                continue  # borrowed inside the reminder's window: they know when it is due
            key = alerts.due_key(kind, loan.id, due)
            if alerts.exists(key):
                continue
            body = alerts.reminder_payload(
                kind, loan, school=settings.school.name, due_text=calendar.describe(due, now)
            )
            if alerts.raise_alert(
                clock,
                kind=kind,
                audience="borrower",
                key=key,
                body=body,
                channels=channels,
                loan=loan,
            ):
                raised += 1
    return raised

"""The alert rules that depend on time: overdue, escalation, the end-of-day summary.

Lost, damaged, images-not-erased and leaver alerts are raised by the loan
service at the moment they happen, in the transaction that records them. The
rules here are raised by the passage of time, so ``kiosk sync`` runs them on
every pass. Each alert has a logical key ("overdue:loan:42", "summary:2026-11-23";
``kiosk.alerts`` writes every alert and says how keys differ from wire ids):
running the rules twice raises nothing new, and two sync processes cannot both
raise one (the check and the insert share a BEGIN IMMEDIATE transaction).

Time rules only fire on school days and only while the clock is synchronised:
a Pi that booted without network thinks it is some other day, and an SLT
escalation based on that would be wrong. Alerts skipped that way are raised on
the first pass once the clock is right.

A pass must be cheap on a database with years of loans, so the overdue query
reads only open loans through the partial index ``loan_open_due`` (at most one
open loan per item) and checks for an existing alert by its unique key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kiosk import alerts
from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Loan, database
from kiosk.loans.calls import read_stated_times
from kiosk.loans.clockfix import correct_times
from kiosk.loans.day import day_facts, day_report
from kiosk.loans.queries import Queries, iter_open_loans, open_loans_among
from kiosk.settings import Settings
from sync.reminders import raise_reminders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Level:
    kind: str
    audience: str
    minutes: int
    certain_only: bool
    """Only loans whose times are known (an escalation never rests on an uncertain time)."""


def _levels(settings: Settings) -> list[_Level]:
    a = settings.alerts
    return [
        _Level("overdue", "office", a.overdue_grace_minutes, certain_only=False),
        _Level("overdue_escalated", "slt", a.escalate_after_minutes, certain_only=True),
    ]


def run_rules(settings: Settings, clock: Clock) -> int:
    """Raise every time-based alert that is due now; returns how many were raised.

    First, times recorded before the clock was set in this boot are corrected
    (``kiosk.loans.clockfix``), so that no rule ever reads a wrong one.
    """
    if not clock.synchronised():
        log.info("clock not synchronised: overdue and summary alerts wait until it is")
        return 0
    correct_times(settings, clock)
    read_stated_times(settings, clock)
    now = clock.now()
    calendar = SchoolCalendar(settings.school)
    today = calendar.local(now).date()
    if not calendar.is_school_day(today):
        return 0
    # The borrower first: an overdue reminder goes before the office is told.
    raised = raise_reminders(settings, clock, calendar, now)
    for level in _levels(settings):
        raised += _raise_overdue(settings, clock, calendar, level)
    raised += _raise_summary(settings, clock, calendar, today)
    if raised:
        log.info("raised %d alert(s)", raised)
    return raised


def _overdue_loan_ids(kind: str, threshold: datetime, certain_only: bool) -> list[int]:
    # Raw SQL so that the plan is plain: the partial index on open loans' due time,
    # then one probe of the outbox's unique key per candidate.
    certain = "AND NOT (l.out_clock_synced = 0 AND l.out_corrected IS NULL) "
    cursor = database.execute_sql(
        "SELECT l.id FROM loan AS l "
        "WHERE l.closed_at IS NULL AND l.due_at <= ? "
        + (certain if certain_only else "")
        + "AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.key = ? || l.id) "
        "ORDER BY l.due_at, l.id",
        (Loan.due_at.db_value(threshold), alerts.loan_key_prefix(kind)),
    )
    return [row[0] for row in cursor.fetchall()]


def _raise_overdue(
    settings: Settings, clock: Clock, calendar: SchoolCalendar, level: _Level
) -> int:
    now = clock.now()
    ids = _overdue_loan_ids(level.kind, now - timedelta(minutes=level.minutes), level.certain_only)
    if not ids:
        return 0
    raised = 0
    with store.write():
        for loan in open_loans_among(ids):
            note = f"Due back {calendar.describe(loan.due_at, now)}."
            if loan.trip:
                note += f" Trip: {loan.trip}."
            if not loan.out_clock_synced and loan.out_corrected is None:
                note += " Signed out while the kiosk's clock was not set: times may be wrong."
            body = alerts.payload(level.kind, loan=loan, note=note, school=settings.school.name)
            if alerts.raise_alert(
                clock,
                kind=level.kind,
                audience=level.audience,
                key=alerts.loan_key(level.kind, loan.id),
                body=body,
                channels=settings.sync.channels_for(level.kind, level.audience),
                loan=loan,
            ):
                raised += 1
    return raised


def _raise_summary(settings: Settings, clock: Clock, calendar: SchoolCalendar, today: date) -> int:
    now = clock.now()
    at = calendar.at(today, settings.alerts.summary_at)
    if now < at:
        return 0
    key = alerts.day_key("summary", today)
    if alerts.exists(key):
        return 0
    with store.write():
        items: list[dict[str, Any]] = []
        for loan in iter_open_loans():
            items.append(
                {
                    "item": loan.item.name,
                    "kind": settings.kind(loan.item.kind).label,
                    "person": loan.borrower.name if loan.borrower is not None else None,
                    "out_at": loan.out_at.isoformat(),
                    "due_at": loan.due_at.isoformat() if loan.due_at else None,
                    "due": calendar.describe(loan.due_at, now) if loan.due_at else "no due time",
                    "overdue": bool(loan.due_at and loan.due_at < now),
                    "trip": loan.trip,
                    "phone_number": loan.item.phone_number,
                }
            )
        hhmm = settings.alerts.summary_at.strftime("%H:%M")
        overdue = sum(1 for i in items if i["overdue"])
        if items:
            noun = "item" if len(items) == 1 else "items"
            summary = f"{len(items)} {noun} still out at {hhmm}" + (
                f" ({overdue} overdue)" if overdue else ""
            )
        else:
            summary = f"Everything is back at {hhmm}"
        # The same facts as the office's Today view (kiosk.loans.day).
        report = day_report(Queries(settings, clock, calendar), today)
        body = alerts.payload("summary", school=settings.school.name, summary=summary)
        body["items"] = items
        body["day"] = today.isoformat()
        body["today"] = day_facts(report, calendar)
        raised = alerts.raise_alert(
            clock,
            kind="summary",
            audience="office",
            key=key,
            body=body,
            channels=settings.sync.channels_for("summary", "office"),
        )
        return int(raised is not None)

"""Times taken while the clock was not set, corrected once it is, in the same boot.

A Pi has no battery clock: after a power cut it may start days or a year out until
NTP answers. Everything recorded meanwhile keeps its boot id and monotonic time
(``kiosk.journal``). Once the clock is synchronised, the true time of each such record
is known exactly: the monotonic clock ran on steadily, so

    true time = monotonic time of the record + (now - monotonic now).

``correct_times`` rewrites those times (events, loans out and back, due times worked
out from a wrong "now", personal calls, alerts still to send) and says in the audit
log that they were corrected, and by how much. A record from an earlier boot cannot
be corrected this way: it stays marked uncertain (``LoanView.time_uncertain``), and
the alert rules never escalate on it alone.

Run before the alert rules (``sync``) and by the kiosk screen when its status is
refreshed; it does nothing when there is nothing to correct (two indexed probes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk import alerts
from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Event, Item, Loan, Outbox, PersonalCall, database
from kiosk.journal import Journal, stamp
from kiosk.settings import Settings

log = logging.getLogger(__name__)

#: Events that close a loan: its ``closed_at`` was taken with them.
_CLOSING = ("return", "lost", "undo")
#: A loan time and its event's time agree to within this (they are taken one after another).
_SAME_MOMENT = timedelta(seconds=2)


@dataclass(frozen=True)
class Correction:
    events: int
    loans: int
    seconds: float
    """The correction applied (the first one, when several differ), in seconds."""

    def describe(self) -> str:
        return (
            f"{self.events} records and {self.loans} loans taken while the clock was not set "
            f"were corrected by {_duration(self.seconds)}"
        )


def _duration(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    s = abs(seconds)
    days, rest = divmod(round(s), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} days"] if days else []
    parts += [f"{hours} h"] if hours or days else []
    parts.append(f"{minutes} min")
    return sign + " ".join(parts)


def needs_correcting(clock: Clock) -> bool:
    """Whether anything of this boot waits to be corrected and the clock is now set."""
    if not clock.synchronised():
        return False
    boot = clock.boot_id()
    row = database.execute_sql(
        "SELECT EXISTS (SELECT 1 FROM event WHERE clock_synced = 0 AND corrected IS NULL"
        " AND boot_id = ?) OR EXISTS (SELECT 1 FROM loan WHERE out_clock_synced = 0"
        " AND out_corrected IS NULL AND out_boot_id = ?)",
        (boot, boot),
    ).fetchone()
    return bool(row[0])


def correct_times(settings: Settings, clock: Clock) -> Correction | None:
    """Correct what this boot recorded before the clock was set; None if nothing to do."""
    if not needs_correcting(clock):
        return None
    calendar = SchoolCalendar(settings.school)
    offset = clock.now() - timedelta(seconds=clock.monotonic())
    boot = clock.boot_id()
    with store.write():
        if not needs_correcting(clock):  # another process did it while we waited
            return None
        shifted = _events(boot, offset)
        loans = _loans(settings, calendar, boot, offset, shifted)
        _calls_and_alerts(settings, shifted)
        seconds = next(iter(shifted.values()), (None, 0.0))[1] if shifted else 0.0
        fix = Correction(len(shifted), loans, seconds)
        Journal(clock).event(
            "clock_corrected",
            detail={"events": fix.events, "loans": fix.loans, "by_seconds": round(seconds, 3)},
        )
    log.warning("clock set: %s", fix.describe())
    return fix


def _true(offset: datetime, mono: float) -> datetime:
    return offset + timedelta(seconds=mono)


def _events(boot: str, offset: datetime) -> dict[int, tuple[Event, float]]:
    """Correct each event of this boot; returns {id: (event as it was, seconds added)}."""
    shifted: dict[int, tuple[Event, float]] = {}
    query = Event.select().where(
        Event.clock_synced == False,  # noqa: E712 (peewee expression)
        Event.corrected.is_null(),
        Event.boot_id == boot,
        Event.mono.is_null(False),
    )
    for event in query:
        assert event.mono is not None  # the query asks for it
        true_at = _true(offset, event.mono)
        seconds = (true_at - event.at).total_seconds()
        database.execute_sql(
            "UPDATE event SET at = ?, corrected = ? WHERE id = ?",
            (stamp(true_at), seconds, event.id),
        )
        shifted[event.id] = (event, seconds)
    return shifted


def _loan_events(
    shifted: dict[int, tuple[Event, float]], loan_id: int
) -> list[tuple[Event, float]]:
    return sorted((v for v in shifted.values() if v[0].loan_id == loan_id), key=lambda v: v[0].id)


def _loans(
    settings: Settings,
    calendar: SchoolCalendar,
    boot: str,
    offset: datetime,
    shifted: dict[int, tuple[Event, float]],
) -> int:
    """Correct loans out, back and due; returns how many loans changed."""
    changed: set[int] = set()
    query = Loan.select().where(
        Loan.out_clock_synced == False,  # noqa: E712 (peewee expression)
        Loan.out_corrected.is_null(),
        Loan.out_boot_id == boot,
        Loan.out_mono.is_null(False),
    )
    for loan in query:
        assert loan.out_mono is not None  # the query asks for it
        true_out = _true(offset, loan.out_mono)
        seconds = (true_out - loan.out_at).total_seconds()
        updates: dict[str, Any] = {"out_at": true_out, "out_corrected": seconds}
        updates["due_at"] = _due(settings, calendar, loan, true_out, seconds, shifted)
        Loan.update(updates).where(Loan.id == loan.id).execute()
        changed.add(loan.id)
    # Loans closed while the clock was not set (whenever they went out).
    loan_ids = {e.loan_id for e, _ in shifted.values() if e.action in _CLOSING and e.loan_id}
    for loan in Loan.select().where(Loan.id.in_(list(loan_ids)), Loan.closed_at.is_null(False)):
        for event, seconds in _loan_events(shifted, loan.id):
            if event.action in _CLOSING and abs(loan.closed_at - event.at) <= _SAME_MOMENT:
                closed = loan.closed_at + timedelta(seconds=seconds)
                Loan.update(closed_at=closed).where(Loan.id == loan.id).execute()
                changed.add(loan.id)
                break
    # Due times chosen while the clock was not set, on loans signed out when it was.
    for event, seconds in shifted.values():
        if event.action == "due_changed" and event.loan_id and event.loan_id not in changed:
            chosen = Loan.get_or_none(Loan.id == event.loan_id)
            if chosen is not None and chosen.due_at is not None:
                due = chosen.due_at + timedelta(seconds=seconds)
                Loan.update(due_at=due).where(Loan.id == chosen.id).execute()
                changed.add(chosen.id)
    return len(changed)


def _due(
    settings: Settings,
    calendar: SchoolCalendar,
    loan: Loan,
    true_out: datetime,
    seconds: float,
    shifted: dict[int, tuple[Event, float]],
) -> datetime | None:
    """The due time as it would have been worked out had the clock been right."""
    if loan.due_at is None:
        return None
    events = _loan_events(shifted, loan.id)
    due_changes = Event.select().where(Event.loan == loan.id, Event.action == "due_changed")
    if due_changes.exists():
        # Chosen by a person: "in 2 hours" then means 2 hours after the true time, moved
        # to a school day as the true calendar has it...
        last = due_changes.order_by(Event.id.desc()).first()
        shift = next((s for e, s in events if last is not None and e.id == last.id), None)
        if shift is None or last is None:
            return loan.due_at
        asked = last.detail.get("asked")
        chosen = datetime.fromisoformat(asked) if asked else loan.due_at
        return calendar.fit_to_school_day(chosen + timedelta(seconds=shift))
    sign_out = next((e for e, _ in events if e.action == "sign_out"), None)
    if sign_out is not None and sign_out.detail.get("handed_over_from") is not None:
        rule = settings.kind(Item.get_by_id(loan.item_id).kind)
        if rule.due == "choose":  # a trip phone passed on keeps the trip's time
            return loan.due_at + timedelta(seconds=seconds)
    # ...and the end of the school day is that of the true day.
    rule = settings.kind(Item.get_by_id(loan.item_id).kind)
    return calendar.due_for(rule, true_out)


def _calls_and_alerts(settings: Settings, shifted: dict[int, tuple[Event, float]]) -> None:
    """Personal calls recorded, and alerts raised, while the clock was not set."""
    for event, seconds in shifted.values():
        delta = timedelta(seconds=seconds)
        if event.action == "personal_call" and event.loan_id:
            for call in PersonalCall.select().where(PersonalCall.loan == event.loan_id):
                if abs(call.recorded_at - event.at) <= _SAME_MOMENT:
                    PersonalCall.update(recorded_at=call.recorded_at + delta).where(
                        PersonalCall.id == call.id
                    ).execute()
        if event.action == "alert_raised":
            outbox = Outbox.get_or_none(Outbox.uid == event.detail.get("uid"))
            if outbox is not None:
                Outbox.update(
                    created_at=outbox.created_at + delta,
                    next_attempt_at=(outbox.next_attempt_at or outbox.created_at) + delta,
                ).where(Outbox.id == outbox.id).execute()
    # What an alert still waiting to be sent says about its loan's times: the true ones.
    waiting = Outbox.select().where(
        Outbox.delivered_at.is_null(), Outbox.loan.is_null(False), Outbox.dead_at.is_null()
    )
    for outbox in waiting:
        loan = Loan.get_or_none(Loan.id == outbox.loan_id)
        body = dict(outbox.payload or {})
        if loan is None or "loan" not in body:
            continue
        fresh = alerts.payload(outbox.kind, loan=loan, school=settings.school.name)["loan"]
        if body["loan"] != fresh:
            body["loan"] = fresh
            Outbox.update(payload=body).where(Outbox.id == outbox.id).execute()

"""The append-only record: events, and loans opened and closed, written inside a transaction.

Every action leaves one ``event`` row with the time and whether the clock was
synchronised, so the office can always reconstruct what happened. Loans are opened
and closed here too. A tap writes a loan and its event in a couple of statements, so
these are fixed SQL strings, not Peewee queries (see ``kiosk.loans.rows`` for why),
and a loan comes back as a typed ``LoanRow``.

Storage level: the loan rules, the alert writer, the importer and retention all
record through here. Callers open the write transaction (``kiosk.db.write``);
nothing here commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from kiosk.clock import Clock
from kiosk.db import Event, UTCDateTimeField, database

_stamp = UTCDateTimeField().python_value


def stamp(value: datetime | None) -> str | None:
    """A UTC instant as stored (fixed-width text that sorts)."""
    return UTCDateTimeField().db_value(value)


def load_json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


class LoanRow(NamedTuple):
    id: int
    item_id: int
    borrower_id: int | None
    out_at: datetime
    out_clock_synced: bool
    due_at: datetime | None
    trip: str
    off_site: bool
    closed_at: datetime | None
    closed_by_id: int | None
    outcome: str | None
    checklist: dict[str, object] | None
    condition_note: str
    out_corrected: float | None

    @classmethod
    def load(cls, r: Sequence[Any]) -> LoanRow:
        return cls(
            r[0],
            r[1],
            r[2],
            cast(datetime, _stamp(r[3])),
            bool(r[4]),
            _stamp(r[5]),
            r[6],
            bool(r[7]),
            _stamp(r[8]),
            r[9],
            r[10],
            load_json(r[11]),
            r[12],
            r[13],
        )


INSERT_EVENT = (
    "INSERT INTO event (at, clock_synced, boot_id, mono, action, staff_id, item_id, loan_id,"
    " reader, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_LOAN = (
    "INSERT INTO loan (item_id, borrower_id, out_at, out_clock_synced, out_boot_id, out_mono,"
    " due_at, trip, off_site, condition_note, anonymised)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0)"
)
CLOSE_LOAN = "UPDATE loan SET closed_at = ?, closed_by_id = ?, outcome = ? WHERE id = ?"


class Journal:
    """Writes events and loans on the current connection, in the caller's transaction."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def event(
        self,
        action: str,
        *,
        staff_id: int | None = None,
        item_id: int | None = None,
        loan_id: int | None = None,
        reader: str = "",
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append one event; returns its id."""
        synced = self.clock.synchronised()
        cursor = database.execute_sql(
            INSERT_EVENT,
            (
                stamp(self.clock.now()),
                synced,
                *self.when_unsynced(synced),
                action,
                staff_id,
                item_id,
                loan_id,
                reader,
                Event.detail.db_value(detail or {}),
            ),
        )
        return int(cursor.lastrowid)

    def open_loan(
        self,
        item_id: int,
        borrower_id: int,
        due: datetime | None,
        *,
        off_site: bool,
        trip: str = "",
    ) -> LoanRow:
        """A new open loan, out now."""
        now, synced = self.clock.now(), self.clock.synchronised()
        boot, mono = self.when_unsynced(synced)
        cursor = database.execute_sql(
            INSERT_LOAN,
            (item_id, borrower_id, stamp(now), synced, boot, mono, stamp(due), trip, off_site),
        )
        return LoanRow(
            id=int(cursor.lastrowid),
            item_id=item_id,
            borrower_id=borrower_id,
            out_at=now,
            out_clock_synced=synced,
            due_at=due,
            trip=trip,
            off_site=off_site,
            closed_at=None,
            closed_by_id=None,
            outcome=None,
            checklist=None,
            condition_note="",
            out_corrected=None,
        )

    def when_unsynced(self, synced: bool) -> tuple[str | None, float | None]:
        """(boot id, monotonic time) to keep with a time taken while the clock is not set."""
        return (None, None) if synced else (self.clock.boot_id(), self.clock.monotonic())

    def close_loan(self, loan: LoanRow, by_id: int | None, outcome: str) -> LoanRow:
        """Close an open loan now (returned, handed over); returns it as it now is."""
        now = self.clock.now()
        database.execute_sql(CLOSE_LOAN, (stamp(now), by_id, outcome, loan.id))
        return loan._replace(closed_at=now, closed_by_id=by_id, outcome=outcome)

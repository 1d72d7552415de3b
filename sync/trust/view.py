"""The trust's view, for ``kiosk web``'s trust pages: plain frozen results, no driver types.

Two pages read through here:

- the all-schools page (``TrustView.overview``): what is overdue across the trust,
  the trust's trip phones out now, and per school how much is out and overdue and
  when its kiosks were last heard from;
- a school's board (``TrustView.school_board``): what is out, overdue first, with
  the borrower, since when and due when; its trip phones with number and trip.

What a login sees is decided inside PostgreSQL by row-level security: an office
reader's view has only its own school in it, a trust reader's every school. A
school the login may not see is "not found", exactly like one that does not exist.
The web's own login (``trust_web``, ``kiosk trust add-reader NAME --web``) sees, in
each transaction, only the schools of its ``scope``: every read here names one (the
signed-in account's: a school id, or ``"*"`` for the whole trust), so a page can show
no more than its account may see even if the web asked for more.

Time is passed in (``now``): the web's clock, pinned in tests. Errors reaching the
server raise ``TrustUnavailable`` with a message for the page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from kiosk.errors import NotFound
from sync.trust.connect import TrustUnavailable, connect, explain, read_credentials

#: What a trip phone is, as the kiosks' default kinds name it.
TRIP_PHONE = "trip_phone"
#: The scope that takes in every school (a trust account's).
WHOLE_TRUST = "*"
#: The group roles a login may be in, as ``TrustView.login`` names them.
LOGIN_KINDS = {
    "trust_kiosks": "kiosk",
    "trust_web": "web",
    "trust_readers": "trust",
    "trust_office": "office",
}


@dataclass(frozen=True)
class OutLoan:
    """One item out now, at one school."""

    school_id: str
    school_name: str
    kiosk_id: str
    loan_id: int
    item_name: str
    asset_tag: str
    kind: str
    borrower: str | None
    """Full name; None once the kiosk's retention has anonymised the loan."""
    borrower_known_as: str | None
    out_at: datetime
    due_at: datetime | None
    overdue: bool
    trip: str
    off_site: bool
    phone_number: str
    clock_uncertain: bool
    """The kiosk's clock was not synchronised when it was signed out: times may be off."""

    @property
    def is_trip_phone(self) -> bool:
        return self.kind == TRIP_PHONE


@dataclass(frozen=True)
class SchoolSummary:
    school_id: str
    name: str
    out: int
    overdue: int
    trip_phones_out: int
    kiosks: int
    last_heard: datetime | None
    """When the school's least recently heard kiosk last sent its changes (None: never)."""


@dataclass(frozen=True)
class TrustOverview:
    as_of: datetime
    schools: tuple[SchoolSummary, ...]
    overdue: tuple[OutLoan, ...]
    """Overdue across the trust, longest overdue first (at most ``limit``)."""
    overdue_total: int
    trip_phones: tuple[OutLoan, ...]


@dataclass(frozen=True)
class SchoolBoard:
    as_of: datetime
    school: SchoolSummary
    out: tuple[OutLoan, ...]
    """Everything out, overdue first, then by due time."""
    trip_phones: tuple[OutLoan, ...]


_OPEN = """
SELECT l.school_id, sc.name, l.kiosk_id, l.id, coalesce(i.name, ''), coalesce(i.asset_tag, ''),
       coalesce(i.kind, ''), st.name, st.known_as, l.out_at, l.due_at,
       (l.due_at IS NOT NULL AND l.due_at < %(now)s), l.trip, l.off_site,
       coalesce(i.phone_number, ''), NOT l.out_clock_synced
FROM trust.loan l
JOIN trust.school sc ON sc.school_id = l.school_id
LEFT JOIN trust.item i ON i.kiosk_id = l.kiosk_id AND i.id = l.item_id
LEFT JOIN trust.staff st ON st.kiosk_id = l.kiosk_id AND st.id = l.borrower_id
WHERE l.closed_at IS NULL
"""

# Trip phones are counted from the trust's trip phones to the loan each has out
# (loan_open_by_item, migration 0003), not by joining every loan out now to its item.
_SUMMARY = """
WITH counts AS (
    SELECT l.school_id, count(*) AS out, count(*) FILTER (WHERE l.due_at < %(now)s) AS overdue
    FROM trust.loan l
    WHERE l.closed_at IS NULL {school_filter}
    GROUP BY l.school_id
), trips AS (
    SELECT l.school_id, count(*) AS trip
    FROM trust.item i
    JOIN trust.loan l ON l.kiosk_id = i.kiosk_id AND l.item_id = i.id AND l.closed_at IS NULL
    WHERE i.kind = %(trip)s {school_filter}
    GROUP BY l.school_id
), heard AS (
    SELECT school_id, count(*) AS kiosks, min(pushed_at) AS last_heard
    FROM trust.kiosk GROUP BY school_id
)
SELECT sc.school_id, sc.name, coalesce(c.out, 0), coalesce(c.overdue, 0), coalesce(t.trip, 0),
       coalesce(h.kiosks, 0), h.last_heard
FROM trust.school sc
LEFT JOIN counts c ON c.school_id = sc.school_id
LEFT JOIN trips t ON t.school_id = sc.school_id
LEFT JOIN heard h ON h.school_id = sc.school_id
WHERE true {sc_filter}
ORDER BY sc.name, sc.school_id
"""


def _loan(row: tuple[Any, ...]) -> OutLoan:
    return OutLoan(
        school_id=row[0],
        school_name=row[1],
        kiosk_id=row[2],
        loan_id=int(row[3]),
        item_name=row[4],
        asset_tag=row[5],
        kind=row[6],
        borrower=row[7],
        borrower_known_as=row[8] or None,
        out_at=row[9],
        due_at=row[10],
        overdue=bool(row[11]),
        trip=row[12],
        off_site=bool(row[13]),
        phone_number=row[14],
        clock_uncertain=bool(row[15]),
    )


def _summary(row: tuple[Any, ...]) -> SchoolSummary:
    return SchoolSummary(row[0], row[1], int(row[2]), int(row[3]), int(row[4]), int(row[5]), row[6])


class TrustView:
    """Reads the trust's database as one login (the web's, an office or a trust reader)."""

    def __init__(
        self, conninfo: str, *, connect_timeout: int = 5, statement_timeout: float = 5.0
    ) -> None:
        self._conninfo = conninfo
        self._timeouts = (connect_timeout, statement_timeout)
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_credentials(cls, path: Path, **kwargs: Any) -> TrustView:
        """From a credentials file (checked like a kiosk's: mode, TLS)."""
        return cls(read_credentials(path), **kwargs)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _query(
        self, statements: list[tuple[str, dict[str, Any]]], scope: str = WHOLE_TRUST
    ) -> list[list[tuple[Any, ...]]]:
        """Run read-only statements in one snapshot, for the schools of ``scope`` (a school
        id, or WHOLE_TRUST); one reconnect if the connection had dropped."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed or self._conn.broken:
                        self._conn = connect(
                            self._conninfo,
                            connect_timeout=self._timeouts[0],
                            statement_timeout=self._timeouts[1],
                            application_name="kiosk web (trust)",
                        )
                    conn = self._conn
                    with conn.transaction():
                        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        # Read by the web login's policies (0002_web.sql); for this
                        # transaction only, so a reused connection never keeps a scope.
                        conn.execute("SELECT set_config('kiosk.web_scope', %s, true)", (scope,))
                        return [conn.execute(q, p).fetchall() for q, p in statements]
                except psycopg.OperationalError as exc:
                    if self._conn is not None:
                        self._conn.close()
                    self._conn = None
                    if attempt == 2:
                        raise TrustUnavailable(explain(exc)) from exc
                except psycopg.Error as exc:
                    raise TrustUnavailable(explain(exc)) from exc
        raise AssertionError("unreachable")

    def login(self) -> str:
        """What this login is: "kiosk", "web", "trust", "office" (its group role), or "other"."""
        (rows,) = self._query(
            [
                (
                    "SELECT rolname FROM pg_roles WHERE rolname = ANY(%(groups)s) "
                    "AND pg_has_role(current_user, oid, 'MEMBER') ORDER BY rolname",
                    {"groups": list(LOGIN_KINDS)},
                )
            ]
        )
        found = {LOGIN_KINDS[r[0]] for r in rows}
        for kind in ("kiosk", "web", "trust", "office"):  # the one that can do most first
            if kind in found:
                return kind
        return "other"

    def changes(self) -> tuple[int, int, datetime | None]:
        """A value that moves whenever a kiosk has sent changes: cheap to ask every second.

        (kiosks, the sum of how far their journals are applied, the latest push): a push
        moves ``pushed_seq`` and ``pushed_at``; a reconcile after a restore moves
        ``pushed_at``; a kiosk added or removed moves the count.
        """
        (rows,) = self._query(
            [
                (
                    "SELECT count(*), coalesce(sum(pushed_seq), 0), max(pushed_at) "
                    "FROM trust.kiosk",
                    {},
                )
            ]
        )
        count, seq, latest = rows[0]
        return int(count), int(seq), latest

    def overview(
        self, now: datetime, *, scope: str = WHOLE_TRUST, limit: int = 200
    ) -> TrustOverview:
        """The all-schools page, of the schools in ``scope`` (WHOLE_TRUST: all)."""
        args = {"now": now, "trip": TRIP_PHONE, "limit": limit}
        schools, overdue, phones = self._query(
            [
                (_SUMMARY.format(school_filter="", sc_filter=""), args),
                (
                    _OPEN + " AND l.due_at < %(now)s ORDER BY l.due_at, sc.name, l.id "
                    "LIMIT %(limit)s",
                    args,
                ),
                (
                    _OPEN + " AND i.kind = %(trip)s ORDER BY l.due_at NULLS LAST, sc.name, l.id",
                    args,
                ),
            ],
            scope,
        )
        summaries = tuple(_summary(r) for r in schools)
        return TrustOverview(
            as_of=now,
            schools=summaries,
            overdue=tuple(_loan(r) for r in overdue),
            overdue_total=sum(s.overdue for s in summaries),
            trip_phones=tuple(_loan(r) for r in phones),
        )

    def school_board(
        self, school_id: str, now: datetime, *, scope: str | None = None
    ) -> SchoolBoard:
        """One school's board, read within ``scope`` (default: that school alone); a school
        outside the scope is NotFound, like one that does not exist."""
        scope = school_id if scope is None else scope
        if scope not in (WHOLE_TRUST, school_id):
            raise NotFound(f"There is no school {school_id!r} in the trust's view.")
        args = {"now": now, "trip": TRIP_PHONE, "school": school_id}
        summary, out = self._query(
            [
                (
                    _SUMMARY.format(
                        school_filter="AND l.school_id = %(school)s",
                        sc_filter="AND sc.school_id = %(school)s",
                    ),
                    args,
                ),
                (
                    _OPEN + " AND l.school_id = %(school)s ORDER BY "
                    "(l.due_at IS NOT NULL AND l.due_at < %(now)s) DESC, l.due_at NULLS LAST, "
                    "i.name, l.id",
                    args,
                ),
            ],
            scope,
        )
        if not summary:
            raise NotFound(f"There is no school {school_id!r} in the trust's view.")
        loans = tuple(_loan(r) for r in out)
        return SchoolBoard(
            as_of=now,
            school=_summary(summary[0]),
            out=loans,
            trip_phones=tuple(v for v in loans if v.is_trip_phone),
        )

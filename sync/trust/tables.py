"""What leaves the kiosk for the trust: an explicit list of columns per table.

Minimum personal data (docs/data-protection.md): the trust's view needs what is
out, where, with whom (a name) and since when. So badge and tag UIDs, PIN hashes,
email addresses, the school's own staff references and free text (notes,
reasons, condition notes, event details, which can hold anything) never leave.
Every column of every model is either replicated here or withheld with a reason;
``tests/sync/trust/test_tables.py`` fails when a model gains a column that is
neither, so a new column cannot leak by default.

This module imports neither psycopg nor Peewee models at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a SQLite value becomes a PostgreSQL one."""

    INT = "bigint"
    TEXT = "text"
    BOOL = "boolean"
    TS = "timestamptz"  # kiosk.db UTCDateTimeField text, always UTC
    JSON = "jsonb"  # kiosk.db JSONField text


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    """One replicated table: its columns (``id`` first) and what it keeps back, and why."""

    name: str
    columns: tuple[Column, ...]
    withheld: dict[str, str]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, kind: Kind, nullable: bool = False) -> Column:
    return Column(name, kind, nullable)


_I, _T, _B, _TS, _J = Kind.INT, Kind.TEXT, Kind.BOOL, Kind.TS, Kind.JSON
_FREE_TEXT = "free text: can hold anything about a person; the trust's view does not show it"
_CLOCK = (
    "the kiosk's own clock bookkeeping (boot id, monotonic time); a corrected time is sent "
    "as the time itself, updated in place"
)

STAFF = Table(
    "staff",
    (_c("id", _I), _c("name", _T), _c("known_as", _T), _c("role", _T), _c("active", _B)),
    {
        "staff_id": "the school's own (MIS) reference: not needed to show a name",
        "classes": "which classes a person teaches: not needed by the trust's view",
        "email": "not needed: the trust's alerts come from each kiosk",
        "badge_uid": "a badge UID: never leaves the kiosk",
        "inactive_reason": _FREE_TEXT + " (long absence may be health)",
        "pin_hash": "an admin PIN hash: never leaves the kiosk",
    },
)

ITEM = Table(
    "item",
    (
        _c("id", _I),
        _c("asset_tag", _T),
        _c("name", _T),
        _c("kind", _T),
        _c("home_class", _T),
        _c("contents", _J),
        _c("phone_number", _T),
        _c("status", _T),
    ),
    {"tag_uid": "a tag UID: never leaves the kiosk", "notes": _FREE_TEXT},
)

LOAN = Table(
    "loan",
    (
        _c("id", _I),
        _c("item_id", _I),
        _c("borrower_id", _I, nullable=True),
        _c("out_at", _TS),
        _c("out_clock_synced", _B),
        _c("due_at", _TS, nullable=True),
        _c("trip", _T),
        _c("off_site", _B),
        _c("closed_at", _TS, nullable=True),
        _c("closed_by_id", _I, nullable=True),
        _c("outcome", _T, nullable=True),
        _c("checklist", _J, nullable=True),
        _c("anonymised", _B),
    ),
    {
        "condition_note": _FREE_TEXT,
        "out_boot_id": _CLOCK,
        "out_mono": _CLOCK,
        "out_corrected": _CLOCK,
    },
)

EVENT = Table(
    "event",
    (
        _c("id", _I),
        _c("at", _TS),
        _c("clock_synced", _B),
        _c("action", _T),
        _c("staff_id", _I, nullable=True),
        _c("item_id", _I, nullable=True),
        _c("loan_id", _I, nullable=True),
        _c("reader", _T),
    ),
    {
        "detail": _FREE_TEXT + "; enrol events carry tag UIDs",
        "boot_id": _CLOCK,
        "mono": _CLOCK,
        "corrected": _CLOCK,
    },
)

#: Replicated tables, in the order rows are sent (a row's references usually come first).
TABLES: tuple[Table, ...] = (STAFF, ITEM, LOAN, EVENT)
BY_NAME = {t.name: t for t in TABLES}

#: Kiosk tables that are not replicated at all, and why.
NOT_REPLICATED: dict[str, str] = {
    "outbox": "alerts are delivered by each kiosk; the trust sees the loans they are about",
    "delivery": "per-channel delivery state of the kiosk's own alerts",
    "personal_call": "numbers called from trip phones: personal data of third parties",
    "stock_take": (
        "the kiosk's own end-of-day check of its shelf; the trust sees that it happened "
        "(its event) and every item's loans, and its view shows no stock-takes"
    ),
    "stock_take_line": "one item a stock-take found missing or back: see stock_take",
    "unknown_tag": "tag UIDs",
    # The office's tables (kiosk.loans.problems, acts, cards): each action in them also
    # writes an event, which replicates (its action, who, which item and loan, reader
    # "office"); what is kept back is the school office's own working detail.
    "problem": (
        "the office's own list of things to deal with; the facts behind each (a short count, "
        "damage, a loss) reach the trust as the loan's checklist and outcome, the item's "
        "status and the events; its detail and resolution note are free text"
    ),
    "office_act": (
        "who in the office acted for a borrower, and the reason typed (free text); the loan "
        "and its event (reader 'office') replicate as the borrower's"
    ),
    "spare_card": "tag UIDs of the office's spare cards; the visitor holding one is a staff row",
    "switched_off_tag": "tag UIDs of badges switched off as lost",
}

"""The tap's hot path in plain SQL: named statements and the typed rows they return.

Building a Peewee query costs about 0.25 ms and ``Model.create`` about 0.75 ms here
(more on a Pi), several times SQLite's own work. A tap runs a handful of statements,
so the ones on its path are fixed SQL strings executed on the same connection and
transaction, and their results are small typed rows, not model instances. The models
in ``kiosk.db`` still define the schema; ``tests/kiosk/loans/test_rows.py`` checks that
every column named here is one of theirs. Everything off the hot path uses the ORM.

Each row type lists its columns in the order its SQL selects them (``COLUMNS``), and
turns stored values (0/1, timestamp text, JSON text) into Python ones (``load``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from kiosk.journal import LoanRow, load_json


class StaffRow(NamedTuple):
    id: int
    staff_id: str
    name: str
    known_as: str
    role: str
    classes: str
    email: str
    badge_uid: str | None
    active: bool

    @classmethod
    def load(cls, r: Sequence[Any]) -> StaffRow:
        return cls(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]))

    @property
    def class_list(self) -> list[str]:
        return self.classes.split()


class ItemRow(NamedTuple):
    id: int
    asset_tag: str
    name: str
    kind: str
    status: str
    home_class: str
    phone_number: str
    contents: list[dict[str, Any]]
    tag_uid: str | None
    notes: str

    @classmethod
    def load(cls, r: Sequence[Any]) -> ItemRow:
        return cls(r[0], r[1], r[2], r[3], r[4], r[5], r[6], load_json(r[7]) or [], r[8], r[9])


def _cols(row: type[NamedTuple], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + name for name in row._fields)


STAFF_BY_BADGE = f"SELECT {_cols(StaffRow)} FROM staff WHERE badge_uid = ?"
STAFF_BY_ID = f"SELECT {_cols(StaffRow)} FROM staff WHERE id = ?"
ITEM_BY_TAG = f"SELECT {_cols(ItemRow)} FROM item WHERE tag_uid = ?"
ITEM_BY_ID = f"SELECT {_cols(ItemRow)} FROM item WHERE id = ?"
OPEN_LOAN_OF_ITEM = f"SELECT {_cols(LoanRow)} FROM loan WHERE item_id = ? AND closed_at IS NULL"
#: Loans with their item and (if not anonymised) borrower, for views: one query, no lazy
#: loads. Add ``WHERE ...`` (with ``l.``, ``i.``, ``s.`` names); split rows with ``loan_with``.
LOANS_WITH_ITEM_AND_BORROWER = (
    f"SELECT {_cols(LoanRow, 'l')}, {_cols(ItemRow, 'i')}, {_cols(StaffRow, 's')}"
    " FROM loan l JOIN item i ON i.id = l.item_id LEFT JOIN staff s ON s.id = l.borrower_id"
)

_LOAN_END = len(LoanRow._fields)
_ITEM_END = _LOAN_END + len(ItemRow._fields)


def loan_with(r: Sequence[Any]) -> tuple[LoanRow, ItemRow, StaffRow | None]:
    """One row of ``LOANS_WITH_ITEM_AND_BORROWER``, split into its three parts."""
    staff = StaffRow.load(r[_ITEM_END:]) if r[_ITEM_END] is not None else None
    return LoanRow.load(r[:_LOAN_END]), ItemRow.load(r[_LOAN_END:_ITEM_END]), staff


#: Each statement's table and the row type it selects, for the column check.
SELECTS: dict[str, tuple[str, type[NamedTuple]]] = {
    "STAFF_BY_BADGE": ("staff", StaffRow),
    "STAFF_BY_ID": ("staff", StaffRow),
    "ITEM_BY_TAG": ("item", ItemRow),
    "ITEM_BY_ID": ("item", ItemRow),
    "OPEN_LOAN_OF_ITEM": ("loan", LoanRow),
}

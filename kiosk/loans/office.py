"""The office acting for someone: sign out for a forgotten badge, return a found item,
lend a class camera once to another class, change what a trolley holds.

The office has the item in hand (its tag is tapped while the office screen collects
tags) and finds the person by name. The loan is the borrower's like any other and
follows the same rules (``Taps``: an item marked damaged asks first); the event and
the history say who in the office did it and why (``kiosk.loans.acts``).
"""

from __future__ import annotations

from collections.abc import Mapping

from hardware.events import InvalidUID, normalise_uid
from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import Item, database
from kiosk.errors import NotFound, Refused
from kiosk.journal import Journal, LoanRow
from kiosk.loans.desk import contents_text, require_office, write_contents
from kiosk.loans.rows import (
    ITEM_BY_ID,
    ITEM_BY_TAG,
    OPEN_LOAN_OF_ITEM,
    STAFF_BY_ID,
    ItemRow,
    StaffRow,
)
from kiosk.loans.taps import Acting, Taps
from kiosk.settings import Settings
from kiosk.views import ActionResult, TapResult


def _staff_row(staff_pk: int) -> StaffRow:
    row = database.execute_sql(STAFF_BY_ID, (staff_pk,)).fetchone()
    if row is None:
        raise NotFound(f"There is no member of staff number {staff_pk}.")
    return StaffRow.load(row)


def _item_row(uid: str | None, item_pk: int | None) -> ItemRow:
    """The item by its tag (tapped) or its number (chosen from a list)."""
    if uid is not None:
        try:
            uid = normalise_uid(uid)
        except InvalidUID as exc:
            raise Refused("That is not a tag number. Tap the item on the reader.") from exc
        row = database.execute_sql(ITEM_BY_TAG, (uid,)).fetchone()
        if row is None:
            raise Refused("That tag is not an item's. Tap the item's own tag.")
    elif item_pk is not None:
        row = database.execute_sql(ITEM_BY_ID, (item_pk,)).fetchone()
        if row is None:
            raise NotFound(f"There is no item number {item_pk}.")
    else:
        raise Refused("Tap the item on the reader first.")
    return ItemRow.load(row)


def _open_loan(item_id: int) -> LoanRow | None:
    row = database.execute_sql(OPEN_LOAN_OF_ITEM, (item_id,)).fetchone()
    return LoanRow.load(row) if row is not None else None


class OfficeActs:
    """What the office does for someone. Not thread-safe: ``LoanService`` calls it locked."""

    def __init__(self, settings: Settings, clock: Clock, taps: Taps) -> None:
        self.settings = settings
        self.clock = clock
        self.taps = taps
        self.journal = Journal(clock)

    def _by(self, by_pk: int) -> StaffRow:
        return _staff_row(require_office(by_pk).id)

    def sign_out_for(
        self,
        staff_pk: int,
        by_pk: int,
        *,
        uid: str | None = None,
        item_pk: int | None = None,
        lend_once: bool = False,
        reason: str = "",
    ) -> TapResult:
        """Sign an item out to someone who has no badge with them (or lend a class camera
        once to another class, ``lend_once`` with a ``reason``)."""
        by = self._by(by_pk)
        staff = _staff_row(staff_pk)
        item = _item_row(uid, item_pk)
        reason = " ".join(reason.split())
        who = staff.known_as or staff.name
        if not staff.active:
            raise Refused(f"{staff.name} is switched off (no longer active): nothing was lent.")
        if item.status == "retired":
            raise Refused(f"{item.name} is no longer in use.")
        if item.status == "lost":
            raise Refused(
                f"{item.name} is recorded as lost. If it has turned up, use Return for "
                "someone to mark it found first."
            )
        loan = _open_loan(item.id)
        if loan is not None:
            if loan.borrower_id == staff.id:
                raise Refused(f"{item.name} is already signed out to {who}.")
            holder = _staff_row(loan.borrower_id) if loan.borrower_id else None
            holder_name = holder.name if holder else "someone"
            raise Refused(f"{item.name} is out with {holder_name}. Return it for them first.")
        why = self.taps.why_not(staff, item)
        act = "signed_out_for"
        if why is not None:
            if not lend_once:
                raise Refused(f"{why[0]} To lend it to {who} once, choose Lend a class camera.")
            if not reason:
                raise Refused("Say why it is lent to another class, in a few words.")
            act = "lent_to_class"
        return self.taps.sign_out_for(item, staff, Acting(by, act, reason))

    def return_for(
        self, by_pk: int, *, uid: str | None = None, item_pk: int | None = None, reason: str = ""
    ) -> TapResult:
        """Return an item for whoever has it (found in the staffroom); a lost one is found."""
        by = self._by(by_pk)
        item = _item_row(uid, item_pk)
        loan = _open_loan(item.id)
        if loan is None:
            if item.status == "lost":
                return self.taps.found(item, by)
            raise Refused(f"{item.name} is not out: there is nothing to return.")
        return self.taps.return_for(
            loan, item, Acting(by, "returned_for", " ".join(reason.split()))
        )

    def change_contents(
        self, item_pk: int, counts: Mapping[str, int], reason: str, by_pk: int
    ) -> ActionResult:
        """What a trolley holds now (29 iPads), and why; recorded as an event."""
        by = require_office(by_pk)
        item = Item.get_or_none(Item.id == item_pk)
        if item is None:
            raise NotFound(f"There is no item number {item_pk}.")
        lines = {line["name"]: int(line["count"]) for line in item.contents or []}
        if not lines:
            raise Refused(f"{item.name} has no contents to count.")
        reason = " ".join(reason.split())
        if not reason:
            raise Refused("Say why it changes, in a few words (2 iPads sent for repair).")
        for name, n in counts.items():
            if name not in lines:
                raise Refused(f"{item.name} holds no {name}.")
            if not 0 <= int(n) <= 999:
                raise Refused(f"Type how many {name} it holds now (0 to 999).")
        if all(int(counts.get(name, n)) == n for name, n in lines.items()):
            raise Refused(f"That is what {item.name} holds already: nothing changed.")
        with store.write():
            write_contents(self.journal, item, counts, reason, by.id)
        return ActionResult(f"{item.name} now holds {contents_text(item.contents)}.")

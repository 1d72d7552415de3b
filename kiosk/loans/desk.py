"""What every office action shares: who may act as the office, and contents changed with a reason.

Office actions (signing out for someone, spare cards, open problems) are taken with an
office or admin badge at the kiosk; the screen only offers them to those people, and
the loan rules check again here, so no other caller can act as the office either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.db import Item, Staff
from kiosk.errors import NotFound, Refused
from kiosk.journal import Journal

#: Roles that may act as the office.
OFFICE_ROLES = ("office", "admin")


def require_office(staff_pk: int) -> Staff:
    """The office or admin member acting; refused for anyone else."""
    staff = Staff.get_or_none(Staff.id == staff_pk)
    if staff is None:
        raise NotFound(f"There is no member of staff number {staff_pk}.")
    if staff.role not in OFFICE_ROLES or not staff.active:
        raise Refused("Only the office can do that. Ask the office.")
    return staff


def contents_text(contents: list[dict[str, Any]]) -> str:
    """ "29 iPads and 30 headphones"."""
    parts = [f"{int(line['count'])} {line['name']}" for line in contents]
    if len(parts) <= 1:
        return "".join(parts) or "nothing"
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def write_contents(
    journal: Journal, item: Item, counts: Mapping[str, int], reason: str, by_id: int | None
) -> int:
    """Inside the caller's write transaction: set the counts of an item's contents lines.

    Only lines the item has are changed; the event says what they were, what they are
    and why. Returns the event's id.
    """
    before = [dict(line) for line in item.contents or []]
    after = [
        {"name": line["name"], "count": int(counts.get(line["name"], line["count"]))}
        for line in before
    ]
    item.contents = after
    item.save()
    return journal.event(
        "contents_changed",
        staff_id=by_id,
        item_id=item.id,
        detail={"from": before, "to": after, "reason": reason},
    )

"""The school never loses its last way into admin: an active admin who has a PIN.

Admin at the kiosk opens with an admin's badge and PIN. If an import renames the only
such person into someone else with the role ``staff``, or an edit switches them off,
nobody can enrol a tag or import the corrected list at the kiosk any more. So every
change to people (CSV import, the admin screen's form, switching someone off) asks
``keep_an_admin`` first, inside its write transaction.

A school that has no admin with a PIN yet (a new database, before ``kiosk set-pin``) is
not refused anything: there is nothing to lose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.db import Staff
from kiosk.errors import Refused

#: The fields of a person that decide whether they can open admin.
ADMIN_FIELDS = ("role", "active", "pin_hash")

NO_ADMIN_LEFT = "This would leave no active admin with a PIN"


@dataclass(frozen=True)
class AdminLoss:
    """One admin who could open admin before the change and could not after it."""

    pk: int
    staff_id: str
    name: str
    why: str  # "would no longer be an admin (role staff)"

    def __str__(self) -> str:
        return f"{self.name} ({self.staff_id}) {self.why}"


class NoAdminLeft(Refused):
    """A change that would leave the school without an active admin who has a PIN."""

    def __init__(self, losses: list[AdminLoss]) -> None:
        self.losses = losses
        super().__init__(
            f"{NO_ADMIN_LEFT}: {'; '.join(str(loss) for loss in losses)}. "
            "Nobody could open admin at the kiosk. Make another person an admin and give "
            "them a PIN first (kiosk set-pin STAFF_ID), then try again."
        )


def _can_open_admin(role: object, active: object, pin_hash: object) -> bool:
    return role == "admin" and bool(active) and bool(pin_hash)


def _why(before: Staff, after: Mapping[str, object]) -> str:
    if after.get("role", before.role) != "admin":
        return f"would no longer be an admin (role {after['role']})"
    if not after.get("active", before.active):
        return "would be switched off (inactive)"
    return "would have no PIN"


def admin_losses(changes: Mapping[int, Mapping[str, object]]) -> list[AdminLoss]:
    """What ``changes`` (staff primary key -> new field values) would cost, if it leaves no
    active admin with a PIN; an empty list when one remains or none existed before.

    New people are not in ``changes``: they never arrive with a PIN.
    """
    relevant = {pk: values for pk, values in changes.items() if set(values) & set(ADMIN_FIELDS)}
    able = list(
        Staff.select(Staff.id, Staff.staff_id, Staff.name, Staff.role, Staff.active, Staff.pin_hash)
        .where((Staff.role == "admin") & (Staff.active == True) & (Staff.pin_hash != ""))  # noqa: E712
        .order_by(Staff.id)
    )
    if not able:
        return []
    losses: list[AdminLoss] = []
    for person in able:
        after = relevant.get(person.id)
        if after is None:
            return []  # this admin is untouched and can still open admin
        merged = {f: after.get(f, getattr(person, f)) for f in ADMIN_FIELDS}
        if _can_open_admin(merged["role"], merged["active"], merged["pin_hash"]):
            return []
        losses.append(AdminLoss(person.id, person.staff_id, person.name, _why(person, after)))
    already = {person.id for person in able}
    # Someone else may become able in the same change (an admin with a PIN switched back on).
    if any(_gains_admin(pk, after) for pk, after in relevant.items() if pk not in already):
        return []
    return losses


def _gains_admin(pk: int, after: Mapping[str, object]) -> bool:
    person = Staff.get_or_none(Staff.id == pk)
    if person is None:
        return False
    merged = {f: after.get(f, getattr(person, f)) for f in ADMIN_FIELDS}
    return _can_open_admin(merged["role"], merged["active"], merged["pin_hash"])


def keep_an_admin(changes: Mapping[int, Mapping[str, object]]) -> None:
    """Refuse (``NoAdminLeft``) changes that would leave no active admin with a PIN.

    Call it inside the write transaction that makes the changes, so that nothing can
    come between the check and the write. ``changes``: staff primary key -> the new
    values of any of its fields (only role, active and pin_hash matter here).
    """
    losses = admin_losses(changes)
    if losses:
        raise NoAdminLeft(losses)

"""People and tags: someone leaving or back, and a badge or tag given to its owner.

A member of staff marked inactive (left, long absence) with items still out is the
office's business at once: the leaver alert goes out in the same transaction. The
importer marks leavers the same way (``leaver_alerts``).
"""

from __future__ import annotations

from hardware.events import InvalidUID, normalise_uid
from kiosk import alerts
from kiosk import db as store
from kiosk.admins import keep_an_admin
from kiosk.clock import Clock
from kiosk.db import Item, Loan, Staff
from kiosk.errors import NotFound, Refused
from kiosk.journal import Journal
from kiosk.loans.queries import Queries
from kiosk.loans.state import Sessions
from kiosk.settings import Settings
from kiosk.views import ActionResult, AlertRaised


def leaver_alerts(
    settings: Settings, clock: Clock, staff: Staff, event_id: int
) -> list[AlertRaised]:
    """Inside a write transaction, when someone becomes inactive: tell the office what they hold."""
    open_loans = list(Loan.select().where(Loan.borrower == staff, Loan.closed_at.is_null()))
    if not open_loans:
        return []
    items = ", ".join(loan.item.name for loan in open_loans)
    note = (
        f"{staff.name} is now inactive ({staff.inactive_reason or 'no reason given'}) "
        f"and still has: {items}."
    )
    raised = alerts.raise_alert(
        clock,
        kind="leaver_with_items",
        audience="office",
        key=alerts.event_key("leaver_with_items", "staff", staff.id, event_id),
        body=alerts.payload(
            "leaver_with_items", staff=staff, note=note, school=settings.school.name
        ),
        channels=settings.sync.channels_for("leaver_with_items", "office"),
        cause_event_id=event_id,
    )
    return [raised] if raised is not None else []


class People:
    def __init__(
        self, settings: Settings, clock: Clock, queries: Queries, sessions: Sessions
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.queries = queries
        self.sessions = sessions
        self.journal = Journal(clock)

    def set_staff_active(self, staff_pk: int, active: bool, reason: str = "") -> ActionResult:
        """Mark someone as left / on long absence (or back); alert the office if they hold items."""
        staff = Staff.get_or_none(Staff.id == staff_pk)
        if staff is None:
            raise NotFound(f"There is no member of staff number {staff_pk}.")
        raised: list[AlertRaised] = []
        with store.write():
            keep_an_admin({staff.id: {"active": active}})
            staff.active = active
            staff.inactive_reason = "" if active else reason
            staff.save()
            ev = self.journal.event(
                "staff_active" if active else "staff_inactive",
                staff_id=staff.id,
                detail={"reason": reason},
            )
            if not active:
                raised.extend(leaver_alerts(self.settings, self.clock, staff, ev))
        if not active:
            self.sessions.end(staff.id)
        msg = f"{staff.name} is {'active' if active else 'inactive'}."
        if raised:
            told = alerts.promise(raised[0], self.clock.synchronised())
            msg += f" They still have items out. {told}"
        return ActionResult(msg, tuple(raised))

    def enrol_tag(
        self,
        uid: str,
        *,
        staff_pk: int | None = None,
        item_pk: int | None = None,
        move: bool = False,
    ) -> str:
        """Give a badge to a person or a tag to an item. Returns what to show.

        A tag that already belongs to someone or something is moved only when asked
        (``move``); otherwise ``TagInUse`` says whose it is and asks.
        """
        try:
            uid = normalise_uid(uid)
        except InvalidUID as exc:
            raise Refused(str(exc)) from exc
        if staff_pk is None and item_pk is None:
            raise Refused("Choose a person or an item for this tag.")
        staff = Staff.get_by_id(staff_pk) if staff_pk is not None else None
        item = Item.get_by_id(item_pk) if item_pk is not None else None
        target = staff.name if staff is not None else item.name if item is not None else ""
        holder = Staff.get_or_none(Staff.badge_uid == uid)
        tagged = Item.get_or_none(Item.tag_uid == uid)
        mine = (staff is not None and holder is not None and holder.id == staff.id) or (
            item is not None and tagged is not None and tagged.id == item.id
        )
        if mine:
            return (
                f"That tag is already {target}'s." if staff else f"That tag is already on {target}."
            )
        owner = (
            f"{holder.name}'s badge" if holder else f"the tag on {tagged.name}" if tagged else ""
        )
        if owner and not move:
            raise TagInUse(f"This is {owner}. Give it to {target} instead?", owner)
        with store.write():
            moved_from = ""
            if holder is not None:
                holder.badge_uid = None
                holder.save()
                moved_from = f"staff {holder.staff_id}"
            if tagged is not None:
                tagged.tag_uid = None
                tagged.save()
                moved_from = f"item {tagged.asset_tag}"
            detail = {"uid": uid, **({"moved_from": moved_from} if moved_from else {})}
            if staff is not None:
                staff.badge_uid = uid
                staff.save()
                self.journal.event("enrol", staff_id=staff.id, detail=detail)
            elif item is not None:
                item.tag_uid = uid
                item.save()
                self.journal.event("enrol", item_id=item.id, detail=detail)
        done = f"Badge enrolled for {target}." if staff else f"Tag enrolled for {target}."
        return f"{done} It is no longer {owner}." if owner else done


class TagInUse(Refused):
    """The tag already belongs to someone or something; ``str()`` asks whether to move it."""

    def __init__(self, question: str, owner: str) -> None:
        super().__init__(question)
        self.owner = owner

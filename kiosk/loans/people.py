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
from kiosk.db import Item, Loan, Staff, SwitchedOffTag
from kiosk.errors import NotFound, Refused
from kiosk.journal import Journal
from kiosk.loans.cards import Cards, spare_by_uid
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
        self,
        settings: Settings,
        clock: Clock,
        queries: Queries,
        sessions: Sessions,
        cards: Cards,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.queries = queries
        self.sessions = sessions
        self.cards = cards
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
        self, uid: str, *, staff_pk: int | None = None, item_pk: int | None = None
    ) -> str:
        """Give a badge to a person or a tag to an item. Returns what to show."""
        try:
            uid = normalise_uid(uid)
        except InvalidUID as exc:
            raise Refused(str(exc)) from exc
        owner = self.queries.tag_owner(uid)
        if staff_pk is not None:
            staff = Staff.get_by_id(staff_pk)
            if owner and owner != f"{staff.name}'s badge":
                raise Refused(f"That tag is already {owner}.")
            with store.write():
                staff.badge_uid = uid
                staff.save()
                # A badge switched off as lost, found again (or given anew): it works again.
                SwitchedOffTag.delete().where(SwitchedOffTag.uid == uid).execute()
                self.journal.event("enrol", staff_id=staff.id, detail={"uid": uid})
            return f"Badge enrolled for {staff.name}."
        if item_pk is not None:
            item = Item.get_by_id(item_pk)
            if owner and owner != f"the tag on {item.name}":
                raise Refused(f"That tag is already {owner}.")
            with store.write():
                item.tag_uid = uid
                item.save()
                SwitchedOffTag.delete().where(SwitchedOffTag.uid == uid).execute()
                self.journal.event("enrol", item_id=item.id, detail={"uid": uid})
            return f"Tag enrolled for {item.name}."
        raise Refused("Choose a person or an item for this tag.")

    def enrol_spare(self, uid: str) -> str:
        """Add a tag to the office's pool of spare cards (or switch a lost one on again)."""
        try:
            uid = normalise_uid(uid)
        except InvalidUID as exc:
            raise Refused(str(exc)) from exc
        owner = self.queries.tag_owner(uid)
        if owner and spare_by_uid(uid) is None:
            raise Refused(f"That tag is already {owner}.")
        return self.cards.enrol_spare(uid)

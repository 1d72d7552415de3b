"""After the tap: the return checklist, a loss or damage reported, a return time.

Everything a tap settles is already committed (the item is back, the phone is
out until the end of the day); these refine the record. Short counts and losses
tell SLT, damage tells IT, images left on a camera tell the office: each through
``kiosk.alerts``, in the same transaction as the fact it reports, and each goes on
the office's list of open problems (``kiosk.loans.problems``) until dealt with.
"""

from __future__ import annotations

from datetime import datetime

from kiosk import alerts
from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Item, Loan, Staff
from kiosk.errors import NotFound, Refused
from kiosk.journal import Journal
from kiosk.loans.counts import record_short
from kiosk.loans.problems import open_problem
from kiosk.loans.queries import Queries
from kiosk.loans.state import UndoSlot
from kiosk.settings import Settings
from kiosk.views import ActionResult, AlertRaised, Checklist


def words(*sentences: str) -> str:
    """Sentences side by side, leaving out empty ones."""
    return " ".join(s for s in sentences if s)


class FollowUps:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        calendar: SchoolCalendar,
        queries: Queries,
        undo: UndoSlot,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.calendar = calendar
        self.queries = queries
        self.undo = undo
        self.journal = Journal(clock)

    def _loan(self, loan_id: int) -> Loan:
        loan = Loan.get_or_none(Loan.id == loan_id)
        if loan is None:
            raise NotFound(f"There is no loan number {loan_id}.")
        return loan

    def _alert(
        self,
        kind: str,
        audience: str,
        key: str,
        event_id: int,
        loan: Loan | None,
        *,
        note: str = "",
        item: Item | None = None,
        summary: str = "",
    ) -> AlertRaised | None:
        body = alerts.payload(
            kind,
            loan=loan,
            item=item,
            note=note,
            school=self.settings.school.name,
            summary=summary,
        )
        return alerts.raise_alert(
            self.clock,
            kind=kind,
            audience=audience,
            key=key,
            body=body,
            channels=self.settings.sync.channels_for(kind, audience),
            loan=loan,
            cause_event_id=event_id,
        )

    def _promise(self, raised: AlertRaised | None) -> str:
        return alerts.promise(raised, self.clock.synchronised())

    def save_checklist(self, loan_id: int, answers: Checklist) -> ActionResult:
        """Store the return checklist; raise the loss, damage or images alerts it calls for."""
        loan = self._loan(loan_id)
        if loan.outcome != "returned":
            raise Refused(f"{loan.item.name} has not been returned, so there is no checklist.")
        item = loan.item
        raised: list[AlertRaised | None] = []
        warnings: list[str] = []
        with store.write():
            loan.checklist = answers.as_dict()
            if answers.damage:
                loan.condition_note = answers.damage
            loan.save()
            ev = self.journal.event(
                "checklist",
                staff_id=loan.borrower_id,
                item_id=item.id,
                loan_id=loan.id,
                detail=answers.as_dict(),
            )
            # Against what should be there now (the contents less what is already known
            # missing), so that a shortfall is put against one loan only.
            lost, said = record_short(self.settings, self.clock, loan, answers.counts or {}, ev)
            if said:
                raised.append(lost)
                warnings.append(said)
            if answers.images_erased is False:
                images = self._alert(
                    "images_not_erased",
                    "office",
                    alerts.loan_key("images_not_erased", loan.id),
                    ev,
                    loan,
                    note="Images were not moved and erased from the camera.",
                )
                raised.append(images)
                warnings.append(words("Images still on the camera.", self._promise(images)))
                open_problem("images", item.id, loan.id, ev, {})
            if answers.damage:
                item.status = "damaged"
                item.save()
                damaged = self._alert(
                    "damaged",
                    "it",
                    alerts.loan_key("damaged", loan.id),
                    ev,
                    loan,
                    note=answers.damage,
                )
                raised.append(damaged)
                warnings.append(words("Damage recorded.", self._promise(damaged)))
                open_problem("damaged", item.id, loan.id, ev, {"note": answers.damage})
        self.undo.settle(loan_id=loan.id)  # the checklist settles the return
        message = "Thank you, all recorded." if not warnings else " ".join(warnings)
        return ActionResult(
            message,
            tuple(a for a in raised if a is not None),
            self.queries.loan_view(loan),
            tuple(warnings),
        )

    def report_lost(self, item_id: int, by_staff_id: int | None, note: str = "") -> ActionResult:
        """Mark an item lost (from My Items, the office or a stock-take) and tell SLT at once."""
        item = Item.get_or_none(Item.id == item_id)
        if item is None:
            raise NotFound(f"There is no item number {item_id}.")
        by = Staff.get_by_id(by_staff_id) if by_staff_id else None
        now = self.clock.now()
        open_loan = Loan.select().where(Loan.item == item, Loan.closed_at.is_null()).first()
        with store.write():
            item.status = "lost"
            item.save()
            if open_loan is not None:
                open_loan.closed_at = now
                open_loan.closed_by = by
                open_loan.outcome = "lost"
                open_loan.condition_note = note
                open_loan.save()
            ev = self.journal.event(
                "lost",
                staff_id=by.id if by else None,
                item_id=item.id,
                loan_id=open_loan.id if open_loan is not None else None,
                detail={"note": note},
            )
            key = (
                alerts.loan_key("lost", open_loan.id)
                if open_loan is not None
                else alerts.event_key("lost", "item", item.id, ev)
            )
            alert = self._alert("lost", "slt", key, ev, open_loan, note=note, item=item)
            # Against the loan it was lost on, or the last one (who had it last).
            last = open_loan or (
                Loan.select().where(Loan.item == item).order_by(Loan.out_at.desc()).first()
            )
            open_problem("lost", item.id, last.id if last else None, ev, {"note": note})
        self.undo.settle(item_id=item.id)
        return ActionResult(
            words(f"{item.name} is recorded as lost.", self._promise(alert)),
            (alert,) if alert is not None else (),
        )

    def report_damage(self, loan_id: int, note: str) -> ActionResult:
        """Report damage to an item someone has out (My Items); IT are told."""
        if not note.strip():
            raise Refused("Say briefly what is damaged.")
        loan = self._loan(loan_id)
        with store.write():
            loan.item.status = "damaged"
            loan.item.save()
            loan.condition_note = note.strip()
            loan.save()
            ev = self.journal.event(
                "damaged",
                staff_id=loan.borrower_id,
                item_id=loan.item_id,
                loan_id=loan.id,
                detail={"note": note.strip()},
            )
            alert = self._alert(
                "damaged", "it", alerts.loan_key("damaged", loan.id), ev, loan, note=note.strip()
            )
            open_problem("damaged", loan.item_id, loan.id, ev, {"note": note.strip()})
        return ActionResult(
            words("Damage recorded.", self._promise(alert), "Thank you."),
            (alert,) if alert is not None else (),
            self.queries.loan_view(loan),
        )

    def set_due(self, loan_id: int, due_at: datetime, trip: str | None = None) -> ActionResult:
        """Set or extend a loan's return time (a trip phone's, chosen at sign-out or later)."""
        loan = self._loan(loan_id)
        if loan.closed_at is not None:
            raise Refused(f"{loan.item.name} has already been returned.")
        now = self.clock.now()
        if due_at <= now:
            raise Refused("That time has already passed. Choose a later time.")
        due = self.calendar.fit_to_school_day(due_at)
        with store.write():
            loan.due_at = due
            if trip is not None:
                loan.trip = trip.strip()
            loan.save()
            self.journal.event(
                "due_changed",
                staff_id=loan.borrower_id,
                item_id=loan.item_id,
                loan_id=loan.id,
                # What was asked, too: a time chosen on a wrong clock is chosen again
                # from the true time once the clock is set (kiosk.loans.clockfix).
                detail={"due_at": due.isoformat(), "asked": due_at.isoformat(), "trip": loan.trip},
            )
        lv = self.queries.loan_view(loan, now)
        return ActionResult(f"{lv.item.name}: back by {lv.due_text}.", loan=lv)

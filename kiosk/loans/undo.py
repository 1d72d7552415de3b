"""Undo: the last sign-out, return or hand-over, taken back within a few seconds.

A person who tapped the wrong item, or tapped an item that was only being moved,
presses Undo on the confirmation. The slot (``kiosk.loans.state.UndoSlot``) knows
until when; this puts the records back as they were and says so in words.
"""

from __future__ import annotations

from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import Loan
from kiosk.errors import Refused
from kiosk.journal import Journal
from kiosk.loans.queries import Queries
from kiosk.loans.state import UndoSlot
from kiosk.views import Outcome, TapResult


def _reopen(loan: Loan) -> None:
    loan.closed_at = None
    loan.closed_by = None
    loan.outcome = None
    loan.save()


def undo_last(slot: UndoSlot, clock: Clock, queries: Queries) -> TapResult:
    """Reverse the last sign-out, return or hand-over, within the undo window."""
    u = slot.take(clock.monotonic())
    if u is None:
        raise Refused("It is too late to undo that. Tap the item again instead.")
    now = clock.now()
    loan = Loan.get_by_id(u.loan_id)
    if u.action in ("return", "hand_over") and loan.item.status in ("lost", "retired"):
        # Reopening a loan would put a lost item back in someone's hands.
        raise Refused(f"{loan.item.name} has been reported {loan.item.status} since.")
    with store.write():
        if u.action in ("sign_out", "hand_over"):
            loan.closed_at = now
            loan.outcome = "undone"
            loan.save()
        if u.action == "return":
            _reopen(loan)
        if u.action == "hand_over" and u.previous_loan_id is not None:
            loan = Loan.get_by_id(u.previous_loan_id)
            _reopen(loan)
        Journal(clock).event(
            "undo",
            staff_id=loan.borrower_id,
            item_id=loan.item_id,
            loan_id=loan.id,
            detail={"undid": u.action, "loan": u.loan_id},
        )
    lv = queries.loan_view(loan, now)
    message = {
        "sign_out": f"Undone: {lv.item.name} is not signed out.",
        "return": f"Undone: {lv.item.name} is still out.",
        "hand_over": f"Undone: {lv.item.name} stays with "
        + (lv.borrower.greeting if lv.borrower else "its borrower")
        + ".",
    }[u.action]
    return TapResult(Outcome.UNDONE, message, item=lv.item, loan=lv, staff=lv.borrower)

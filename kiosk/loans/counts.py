"""Counting a trolley's contents: what should be there, and a shortfall put against the right loan.

What the next person should find is the trolley's contents (30 iPads) less what is
already known missing (the open "short" problems): a shortfall is counted once,
against the loan it was found on, and never again against everyone after. It is
counted on return (the checklist) and when a trolley is handed from one teacher to
the next without coming back (``save_handover_count``), so it is put against the
teacher who had it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kiosk import alerts
from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import Loan
from kiosk.errors import NotFound, Refused
from kiosk.journal import Journal
from kiosk.loans.problems import close_for_loan, missing_now, open_problem, told_missing
from kiosk.loans.queries import Queries
from kiosk.loans.state import UndoSlot
from kiosk.settings import Settings
from kiosk.views import ActionResult, AlertRaised, ContentLine


def expected(
    item_id: int, contents: Sequence[Mapping[str, Any]] | None, except_loan: int | None = None
) -> tuple[ContentLine, ...]:
    """Each contents line with the count that should be there now; with ``except_loan``,
    as if that loan's own shortfall were not yet known (it is being counted again)."""
    if not contents:
        return ()
    missing = missing_now(item_id, except_loan)
    return tuple(
        ContentLine(str(c["name"]), max(0, int(c["count"]) - missing.get(str(c["name"]), 0)))
        for c in contents
    )


def shortfall(
    item_id: int,
    contents: Sequence[Mapping[str, Any]] | None,
    counts: Mapping[str, int],
    except_loan: int | None = None,
) -> list[tuple[str, int, int]]:
    """(what, counted, expected) for each line counted below what should be there now."""
    return [
        (line.name, int(counts[line.name]), line.count)
        for line in expected(item_id, contents, except_loan)
        if line.name in counts and int(counts[line.name]) < line.count
    ]


def record_short(
    settings: Settings,
    clock: Clock,
    loan: Loan,
    counts: Mapping[str, int],
    event_id: int,
    *,
    when: str = "Counted back",
) -> tuple[AlertRaised | None, str]:
    """Inside the caller's write transaction: a count below what should be there.

    Tells SLT (a loss alert about ``loan``) and puts the shortfall on the office's list
    against ``loan``. Returns the alert (None if none was raised) and what to say, or
    (None, "") when nothing is short.
    """
    item = loan.item
    # Against what should be there without this loan's own shortfall: a count made again
    # for the same loan (a checklist corrected, the next teacher's count at a hand-over)
    # replaces what the loan's earlier count said, instead of adding to it.
    short = shortfall(item.id, item.contents, counts, except_loan=loan.id)
    if not short:
        if counts:  # counted again and all there: what an earlier count said missing is not
            close_for_loan("short", loan.id, "found", f"{when}: all there.", event_id)
        return None, ""
    text = ", ".join(f"{got} of {want} {name}" for name, got, want in short)
    missing = {name: want - got for name, got, want in short}
    key = alerts.loan_key("lost", loan.id)
    summary = f"{item.name} came back short: {text}"
    if alerts.exists(key) and (told := told_missing(loan.id)) != missing:
        # SLT were told other figures about this loan (a checklist corrected, the count
        # at a hand-over): the new count is a fact of its own, so they hear it too, and
        # what they were told before is never left standing as the truth.
        key = f"{key}:count:{event_id}"
        earlier = ", ".join(f"{n} {name}" for name, n in told.items()) or "none"
        summary = (
            f"{item.name}, counted again: {text}. This replaces the earlier count "
            f"(missing then: {earlier})"
        )
    body = alerts.payload(
        "lost",
        loan=loan,
        note=f"{when}: {text}.",
        school=settings.school.name,
        summary=summary,
    )
    raised = alerts.raise_alert(
        clock,
        kind="lost",
        audience="slt",
        key=key,
        body=body,
        channels=settings.sync.channels_for("lost", "slt"),
        loan=loan,
        cause_event_id=event_id,
    )
    open_problem("short", item.id, loan.id, event_id, {"missing": missing})
    said = f"{when} {text}."
    return raised, " ".join(s for s in (said, alerts.promise(raised, clock.synchronised())) if s)


def read_counts(contents: Sequence[ContentLine], counts: Mapping[str, int]) -> dict[str, int]:
    """The counts for an item's lines, checked: every line counted, none above its total."""
    checked: dict[str, int] = {}
    for line in contents:
        if line.name not in counts:
            raise Refused(f"Count the {line.name} too.")
        n = int(counts[line.name])
        if n < 0 or n > line.count:
            raise Refused(f"There should be 0 to {line.count} {line.name}.")
        checked[line.name] = n
    return checked


class HandoverCounts:
    """The count asked of the next teacher when a trolley is handed on without coming back."""

    def __init__(self, settings: Settings, clock: Clock, queries: Queries, undo: UndoSlot) -> None:
        self.settings = settings
        self.clock = clock
        self.queries = queries
        self.undo = undo
        self.journal = Journal(clock)

    def save(self, previous_loan_id: int, counts: Mapping[str, int]) -> ActionResult:
        """Record what the next teacher found in it; a shortfall goes against the previous loan."""
        loan = Loan.get_or_none(Loan.id == previous_loan_id)
        if loan is None:
            raise NotFound(f"There is no loan number {previous_loan_id}.")
        if loan.outcome != "handed_over":
            raise Refused(f"{loan.item.name} was not passed on, so there is nothing to count.")
        item = loan.item
        lines = tuple(ContentLine(c["name"], int(c["count"])) for c in item.contents or [])
        checked = read_counts(lines, counts)
        taker = Loan.get_or_none(Loan.item == item, Loan.closed_at.is_null())
        with store.write():
            loan.checklist = {**(loan.checklist or {}), "counts": checked}
            loan.save()
            ev = self.journal.event(
                "handover_count",
                staff_id=taker.borrower_id if taker is not None else None,
                item_id=item.id,
                loan_id=loan.id,
                detail={"counts": checked},
            )
            raised, said = record_short(
                self.settings, self.clock, loan, checked, ev, when="Counted when passed on"
            )
        self.undo.settle(item_id=item.id)  # the count settles the hand-over
        who = self.queries.loan_view(loan)
        if not said:
            return ActionResult("Thank you: all there.", loan=who)
        if who.borrower is not None:
            said += f" Put down to {who.borrower.greeting}, who had it."
        return ActionResult(said, (raised,) if raised else (), who, (said,))

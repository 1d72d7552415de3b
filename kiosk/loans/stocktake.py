"""The end-of-day stock-take, saved: what was missing, what was out, what was here but shown out.

An admin taps every item in the cupboard (the admin screen collects the tags); saving
compares them with the records. Each item not seen is either out on loan (where the
records say) or missing, with its last holder; each item seen that the records show
as out means the records are wrong. The result is kept (its event gives the time),
shown in the office's day, and sent to the office as a ``stock_take`` alert in the
same transaction. Names are read through the loans, so retention reaches them.
"""

from __future__ import annotations

from datetime import datetime

from kiosk import alerts
from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Event, Item, Loan, StockTake, StockTakeLine
from kiosk.journal import Journal
from kiosk.loans.queries import Queries
from kiosk.settings import Settings
from kiosk.views import AlertRaised, LoanView, StockLine, StockTakeSaved, StockTakeView

STATES = ("missing", "out", "here")


class StockTakes:
    def __init__(
        self, settings: Settings, clock: Clock, calendar: SchoolCalendar, queries: Queries
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.calendar = calendar
        self.queries = queries
        self.journal = Journal(clock)

    def save(self, seen_uids: set[str], by_staff_id: int | None = None) -> StockTakeSaved:
        """Compare the tags seen with the records, keep the result and tell the office."""
        found = self.queries.stock_take(seen_uids)
        lines: list[tuple[int, str, int | None]] = []
        for item, last in found:
            state = "out" if last is not None and last.is_open else "missing"
            lines.append((item.id, state, last.id if last is not None else None))
        for loan in self.queries.out_but_here(seen_uids):
            lines.append((loan.item.id, "here", loan.id))
        counts = {s: sum(1 for _, state, _ in lines if state == s) for s in STATES}
        with store.write():
            event = self.journal.event(
                "stock_take", staff_id=by_staff_id, detail={"seen": len(seen_uids), **counts}
            )
            take = StockTake.create(event=event, seen=len(seen_uids))
            if lines:
                StockTakeLine.insert_many(
                    [
                        {"stock_take": take.id, "item": item, "state": state, "loan": loan}
                        for item, state, loan in lines
                    ]
                ).execute()
            view = self.view(take.id)
            raised = self._alert(view, event)
        message = f"Stock-take saved: {view.summary}."
        promise = alerts.promise(raised, self.clock.synchronised())
        return StockTakeSaved(
            view,
            f"{message} {promise}" if promise else message,
            (raised,) if raised is not None else (),
        )

    def _alert(self, take: StockTakeView, event_id: int) -> AlertRaised | None:
        hhmm = self.calendar.local(take.at).strftime("%H:%M")
        body = alerts.payload(
            "stock_take",
            school=self.settings.school.name,
            summary=f"Stock-take at {hhmm}: {take.summary}",
            note=f"{take.seen} tags seen.",
        )
        body["items"] = stock_rows(take, self.calendar, self.clock.now())
        return alerts.raise_alert(
            self.clock,
            kind="stock_take",
            audience="office",
            key=alerts.event_key("stock_take", "stock_take", take.id, event_id),
            body=body,
            channels=self.settings.sync.channels_for("stock_take", "office"),
            cause_event_id=event_id,
        )

    def view(self, take_id: int) -> StockTakeView:
        take = StockTake.get_by_id(take_id)
        return read_stock_take(take, self.queries)

    def latest_between(self, start: datetime, end: datetime) -> StockTakeView | None:
        """The last stock-take saved in [start, end)."""
        take = (
            StockTake.select(StockTake, Event)
            .join(Event, on=(StockTake.event == Event.id))
            .where(Event.at >= start, Event.at < end)
            .order_by(Event.at.desc(), StockTake.id.desc())
            .first()
        )
        return read_stock_take(take, self.queries) if take is not None else None


def read_stock_take(take: StockTake, queries: Queries) -> StockTakeView:
    event = take.event
    by = ""
    if event.staff_id is not None:
        by = queries.staff(event.staff_id).name
    now = queries.clock.now()
    grouped: dict[str, list[StockLine]] = {s: [] for s in STATES}
    rows = (
        StockTakeLine.select(StockTakeLine, Item)
        .join(Item, on=(StockTakeLine.item == Item.id))
        .where(StockTakeLine.stock_take == take.id)
        .order_by(Item.name)
    )
    for line in rows:
        loan: LoanView | None = None
        if line.loan_id is not None:
            loan = queries.loan_view(Loan.get_by_id(line.loan_id), now)
        grouped.setdefault(line.state, []).append(StockLine(queries.views.item(line.item), loan))
    return StockTakeView(
        id=take.id,
        at=event.at,
        by=by,
        seen=take.seen,
        missing=tuple(grouped["missing"]),
        out=tuple(grouped["out"]),
        here=tuple(grouped["here"]),
    )


def holder(line: StockLine) -> str:
    """Who had it (missing: last), or who the records say has it (out, here)."""
    if line.loan is None:
        return ""
    return line.loan.borrower.name if line.loan.borrower else "(removed)"


def stock_rows(
    take: StockTakeView, calendar: SchoolCalendar, now: datetime
) -> list[dict[str, object]]:
    """A stock-take's lines as alert rows: the item, its holder and what it means.

    The minimum an office reader needs: names and times, never a tag number.
    """
    rows: list[dict[str, object]] = []
    for line in take.missing:
        when = ""
        if line.loan is not None:
            when = "back " + calendar.describe(line.loan.closed_at or line.loan.out_at, now)
        rows.append(
            {
                "item": line.item.name,
                "person": holder(line) or None,
                "due": when or "never borrowed",
                "state": "MISSING",
            }
        )
    for line in take.here:
        rows.append(
            {
                "item": line.item.name,
                "person": holder(line) or None,
                "due": "",
                "state": "HERE, shown as out",
            }
        )
    for line in take.out:
        due = line.loan.due_at if line.loan is not None else None
        rows.append(
            {
                "item": line.item.name,
                "person": holder(line) or None,
                "due_at": due.isoformat() if due else None,
                "overdue": bool(line.loan and line.loan.overdue),
                "state": "out on loan",
            }
        )
    return rows

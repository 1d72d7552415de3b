"""The end-of-day stock-take: tap what is in the cupboard; then what is missing, who had it.

Finishing saves the result (``LoanService.save_stock_take``): it is shown in the office's
day and sent to the office as an alert; the screen says what is true about that alert.
"""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from kiosk.tui.screens.admin.page import AdminPage
from kiosk.tui.widgets.tables import more_below, rows_out_of_sight
from kiosk.views import StaffView, StockTakeSaved


class StockTakeScreen(AdminPage):
    """Tap every item in the cupboard; then what is missing, and who had it last."""

    wants_tag_entry = True

    def __init__(self, until: float | None, staff: StaffView | None = None) -> None:
        super().__init__(until)
        self.staff = staff  # who is doing it (the admin)
        self.seen: set[str] = set()

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: stock-take")
        yield Static("Tap every item in the cupboard, one by one.", id="count", classes="big")
        yield Static("", id="last", classes="prompt")
        yield DataTable(cursor_type="row", id="missing")
        with Horizontal(classes="buttons"):
            yield Button("Finished: save the result", id="finish", variant="primary")
            yield Button("Start again", id="again")
            yield Button("Back", id="back")
        yield from self.tag_entry()
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#missing", DataTable).add_columns("Item", "Where it is", "Who had it last")
        self.query_one("#missing").display = False
        self.say("last", "")
        self.focus_tag_entry()
        self.host.capture_tags(self, self._tag_seen)

    def on_unmount(self) -> None:
        self.host.release_tags(self)

    def _tag_seen(self, uid: str, reader: str) -> None:
        """A tag tapped while this screen is in front is counted, not signed out."""
        self.touch()
        self.seen.add(uid)
        self.query_one("#finish", Button).disabled = False
        self.host.feedback.accepted()
        self.query_one("#count", Static).update(f"{len(self.seen)} tags seen. Keep tapping.")
        self.host.call(lambda: self.host.service.tag_owner(uid), self._owner)

    def _owner(self, owner: str | None) -> None:
        self.say("last", f"Last: {owner}" if owner else "Last: a tag that is not enrolled")

    @on(Button.Pressed, "#finish")
    def _finish(self) -> None:
        seen = set(self.seen)
        service = self.host.service
        by = self.staff.id if self.staff is not None else None
        self.host.call(lambda: service.save_stock_take(seen, by), self._saved, self._failed)

    def _saved(self, saved: StockTakeSaved) -> None:
        take = saved.stock_take
        table = self.query_one("#missing", DataTable)
        table.clear()
        table.display = True
        for line in take.missing:
            who = "never borrowed"
            if line.loan is not None:
                name = line.loan.borrower.name if line.loan.borrower else "(removed)"
                who = f"{name}, back {self._day(line.loan.closed_at or line.loan.out_at)}"
            table.add_row(line.item.name, "MISSING", who)
        for line in take.out:
            last = line.loan
            who = last.borrower.name if last and last.borrower else "-"
            where = "OVERDUE" if last and last.overdue else "out on loan"
            table.add_row(
                line.item.name, where, f"{who}, due {self._day(last.due_at if last else None)}"
            )
        for line in take.here:
            # In the cupboard, yet the records say someone has it: tapping it returns it.
            who = line.loan.borrower.name if line.loan and line.loan.borrower else "-"
            table.add_row(line.item.name, "HERE, shown as out", f"{who}: tap it to return it")
        count = f"{take.seen} tags seen: {take.summary}."
        self.query_one("#count", Static).update(count)
        # Once drawn: say if some lines do not fit (80x24), rather than end as if complete.
        self.call_after_refresh(self._say_what_does_not_fit, count)
        self.say("last", saved.message)
        self.host.refresh_status()  # the alert to the office is waiting now
        # Saved: Finished again saves a new result only once another tag is tapped (one
        # found late); the day's report shows the last one saved.
        self.query_one("#finish", Button).disabled = True

    def _say_what_does_not_fit(self, count: str) -> None:
        if hidden := more_below(rows_out_of_sight(self.query_one("#missing", DataTable))):
            self.query_one("#count", Static).update(f"{count} {hidden}")

    def _failed(self, error: Exception) -> None:
        self.say("last", str(error))

    def _day(self, instant: datetime | None) -> str:
        """ "14:05" today, else "Fri 20 Nov": short enough for 80 columns."""
        if instant is None:
            return "-"
        local = self.host.calendar.local(instant)
        if local.date() == self.host.calendar.local(self.host.clock.now()).date():
            return local.strftime("%H:%M")
        return f"{local.strftime('%a')} {local.day} {local.strftime('%b')}"

    @on(Button.Pressed, "#again")
    def _again(self) -> None:
        self.seen.clear()
        self.query_one("#finish", Button).disabled = False
        self.query_one("#missing").display = False
        self.query_one("#count", Static).update("Tap every item in the cupboard, one by one.")
        self.say("last", "")

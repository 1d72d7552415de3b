"""The end-of-day stock-take: tap what is in the cupboard; then what is missing, who had it."""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from kiosk.tui.screens.admin.page import AdminPage
from kiosk.views import ItemView, LoanView


class StockTakeScreen(AdminPage):
    """Tap every item in the cupboard; then what is missing, and who had it last."""

    wants_tag_entry = True

    def __init__(self, until: float | None) -> None:
        super().__init__(until)
        self.seen: set[str] = set()

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: stock-take")
        yield Static("Tap every item in the cupboard, one by one.", id="count", classes="big")
        yield Static("", id="last", classes="prompt")
        yield DataTable(cursor_type="row", id="missing")
        with Horizontal(classes="buttons"):
            yield Button("Finished: show what is missing", id="finish", variant="primary")
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
        self.host.feedback.accepted()
        self.query_one("#count", Static).update(f"{len(self.seen)} tags seen. Keep tapping.")
        self.host.call(lambda: self.host.service.tag_owner(uid), self._owner)

    def _owner(self, owner: str | None) -> None:
        self.say("last", f"Last: {owner}" if owner else "Last: a tag that is not enrolled")

    @on(Button.Pressed, "#finish")
    def _finish(self) -> None:
        seen = set(self.seen)
        service = self.host.service
        self.host.call(
            lambda: (service.stock_take(seen), service.out_but_here(seen)), self._missing
        )

    def _missing(
        self, found: tuple[list[tuple[ItemView, LoanView | None]], list[LoanView]]
    ) -> None:
        missing, here = found
        table = self.query_one("#missing", DataTable)
        table.clear()
        table.display = True
        gone = [(i, last) for i, last in missing if not (last and last.is_open)]
        out = [(i, last) for i, last in missing if last and last.is_open]
        for item, last in gone:
            who = "never borrowed"
            if last is not None:
                name = last.borrower.name if last.borrower else "(removed)"
                who = f"{name}, back {self._day(last.closed_at or last.out_at)}"
            table.add_row(item.name, "MISSING", who)
        for item, last in out:
            assert last is not None
            who = last.borrower.name if last.borrower else "-"
            where = "OVERDUE" if last.overdue else "out on loan"
            table.add_row(item.name, where, f"{who}, due {self._day(last.due_at)}")
        for loan in here:
            # In the cupboard, yet the records say someone has it: tapping it returns it.
            who = loan.borrower.name if loan.borrower else "-"
            table.add_row(loan.item.name, "HERE, shown as out", f"{who}: tap it to return it")
        summary = f"{len(self.seen)} tags seen. {len(gone)} missing, {len(out)} out on loan."
        if here:
            summary += f" {len(here)} here but shown as out."
        self.query_one("#count", Static).update(
            summary if missing or here else f"{len(self.seen)} tags seen. Everything is here."
        )
        self.say("last", "")

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
        self.query_one("#missing").display = False
        self.query_one("#count", Static).update("Tap every item in the cupboard, one by one.")
        self.say("last", "")

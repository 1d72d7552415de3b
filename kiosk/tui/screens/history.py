"""Past loans of one item or one person, newest first (from the office board or a search)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.widgets.tables import History
from kiosk.views import ItemView, LoanView, StaffView


class HistoryScreen(KioskScreen):
    """Past loans of one item or one person, newest first."""

    timeout = 180.0

    def __init__(self, *, item: ItemView | None = None, person: StaffView | None = None) -> None:
        super().__init__()
        self.item = item
        self.person = person

    def _title(self) -> str:
        if self.item is not None:
            title = f"History of {self.item.name}"
            if self.item.status != "available":
                title += f" (now {self.item.status})"
        else:
            assert self.person is not None
            title = f"History of {self.person.name}"
            if not self.person.active:
                title += " (inactive)"
        return title

    def compose(self) -> ComposeResult:
        yield self.title_bar("Office board")
        yield Static(self._title(), id="history-title", classes="heading")
        yield History(show="person" if self.item is not None else "item", id="history")
        with Horizontal(classes="buttons"):
            yield Button("Back to the board", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        service = self.host.service
        if self.item is not None:
            item_id = self.item.id
            self.host.call(lambda: service.item_history(item_id), self._loaded)
        elif self.person is not None:
            staff_id = self.person.id
            self.host.call(lambda: service.staff_history(staff_id), self._loaded)

    def _loaded(self, loans: list[LoanView]) -> None:
        table = self.query_one(History)
        table.show_loans(loans, self.host.local_time)
        if not loans:
            self.query_one("#history-title", Static).update(f"{self._title()}: never borrowed")
        table.focus()

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()

"""Find any person or item, out or not, to see their history."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input

from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.screens.history import HistoryScreen
from kiosk.tui.widgets.more import MoreMatch
from kiosk.views import ItemView, StaffView, search_lists

#: People, and items, listed at most; more letters narrow the list.
LISTED = 30


class FindScreen(KioskScreen):
    """Find any person or item (out or not) to see their history."""

    timeout = 180.0

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Find a person or an item")
        with Horizontal(classes="fields"):
            yield Input(placeholder="Type part of a name, asset tag or staff ID", id="find-text")
        yield DataTable(cursor_type="row", id="found")
        yield MoreMatch(id="more")
        with Horizontal(classes="buttons"):
            yield Button("Show history", id="show")
            yield Button("Back to the board", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#found", DataTable).add_columns("Name", "What", "Reference")
        self.query_one("#find-text", Input).focus()
        self.load()

    def load(self) -> None:
        text = self.query_one("#find-text", Input).value
        service = self.host.service
        self.host.call(
            lambda: (
                service.find_staff(text, limit=LISTED + 1),
                service.find_items(text, limit=LISTED + 1),
            ),
            self._found,
        )

    def _found(self, found: tuple[list[StaffView], list[ItemView]]) -> None:
        people, items, notes = search_lists(LISTED, *found)
        self.query_one(MoreMatch).tell(notes.values())
        table = self.query_one("#found", DataTable)
        table.clear()
        self.rows = [*people, *items]
        for p in people:
            what = "person" + ("" if p.active else " (inactive)")
            table.add_row(p.name, what, p.staff_id)
        for i in items:
            table.add_row(i.name, i.kind_label.lower(), i.asset_tag)

    @on(Input.Changed, "#find-text")
    def _changed(self) -> None:
        self.load()

    @on(Input.Submitted, "#find-text")
    def _submitted(self) -> None:
        self.query_one("#found", DataTable).focus()

    @on(DataTable.RowSelected, "#found")
    @on(Button.Pressed, "#show")
    def _show(self) -> None:
        table = self.query_one("#found", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return
        row = self.rows[table.cursor_row]
        if isinstance(row, StaffView):
            self.host.open(HistoryScreen(person=row))
        else:
            self.host.open(HistoryScreen(item=row))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()

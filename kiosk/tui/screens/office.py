"""The office board: what is out, filtered by kind and overdue, searched; histories."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Static

from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.widgets import History, LoanTable
from kiosk.views import ItemView, LoanView, StaffView


class OfficeScreen(KioskScreen):
    timeout = 180.0

    def __init__(self) -> None:
        super().__init__()
        self.kind: str | None = None
        self.overdue_only = False

    def compose(self) -> ComposeResult:
        yield self.title_bar("Office board")
        with Horizontal(classes="buttons", id="kinds"):
            yield Button("All", id="kind-all", classes="kind chosen")
            for key, rule in self.kapp.settings.kinds.items():
                label = "Other" if key == "other" else _plural(rule.label)
                yield Button(label, id=f"kind-{key}", classes="kind")
        with Horizontal(classes="fields"):
            yield Input(placeholder="Search a person, item or trip", id="search")
            yield Button("Overdue only", id="overdue")
        yield Static("", id="count", classes="heading")
        yield LoanTable(id="board")
        with Horizontal(classes="buttons"):
            yield Button("Item history", id="item-history")
            yield Button("Person history", id="person-history")
            yield Button("Find anyone", id="find")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#search", Input).focus()

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        kind, overdue = self.kind, self.overdue_only
        text = self.query_one("#search", Input).value
        self.kapp.call_service(lambda: self.kapp.service.board(kind, overdue, text), self._loaded)

    def _loaded(self, loans: list[LoanView]) -> None:
        overdue = sum(v.overdue for v in loans)
        label = "overdue" if self.overdue_only else "out"
        self.say(
            "count",
            f"{len(loans)} {label}"
            + (f", {overdue} OVERDUE" if overdue and not self.overdue_only else ""),
        )
        self.query_one(LoanTable).show(loans)

    @on(Button.Pressed, ".kind")
    def _kind(self, event: Button.Pressed) -> None:
        key = (event.button.id or "").removeprefix("kind-")
        self.kind = None if key == "all" else key
        for b in self.query(".kind").results(Button):
            b.set_class(b is event.button, "chosen")
        self.load()

    @on(Button.Pressed, "#overdue")
    def _overdue(self, event: Button.Pressed) -> None:
        self.overdue_only = not self.overdue_only
        event.button.set_class(self.overdue_only, "chosen")
        self.load()

    @on(Input.Changed, "#search")
    def _search(self) -> None:
        self.load()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one(LoanTable).focus()

    def _selected(self) -> LoanView | None:
        loan = self.query_one(LoanTable).selected
        if loan is None:
            self.notify("Choose a line on the board first.")
        return loan

    @on(Button.Pressed, "#item-history")
    def _item_history(self) -> None:
        loan = self._selected()
        if loan:
            self.kapp.push_screen(HistoryScreen(item=loan.item))

    @on(Button.Pressed, "#person-history")
    def _person_history(self) -> None:
        loan = self._selected()
        if loan and loan.borrower:
            self.kapp.push_screen(HistoryScreen(person=loan.borrower))

    @on(DataTable.RowSelected, "#board")
    def _row_chosen(self) -> None:
        self._item_history()

    @on(Button.Pressed, "#find")
    def _find(self) -> None:
        self.kapp.push_screen(FindScreen())

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.kapp.go_idle()


def _plural(label: str) -> str:
    return label if label.endswith("s") else label + "s"


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
        service = self.kapp.service
        if self.item is not None:
            item_id = self.item.id
            self.kapp.call_service(lambda: service.item_history(item_id), self._loaded)
        elif self.person is not None:
            staff_id = self.person.id
            self.kapp.call_service(lambda: service.staff_history(staff_id), self._loaded)

    def _loaded(self, loans: list[LoanView]) -> None:
        table = self.query_one(History)
        table.show_loans(loans, self.kapp.local_time)
        if not loans:
            self.query_one("#history-title", Static).update(f"{self._title()}: never borrowed")
        table.focus()

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()


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
        service = self.kapp.service
        self.kapp.call_service(
            lambda: (service.find_staff(text, limit=30), service.find_items(text, limit=30)),
            self._found,
        )

    def _found(self, found: tuple[list[StaffView], list[ItemView]]) -> None:
        people, items = found
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
            self.kapp.push_screen(HistoryScreen(person=row))
        else:
            self.kapp.push_screen(HistoryScreen(item=row))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()

"""What a trolley holds (29 iPads now), changed with a reason that is kept."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Static

from kiosk.tui.screens.desk.page import DeskPage
from kiosk.views import ActionResult, ItemView, StaffView


def holds(item: ItemView) -> str:
    return ", ".join(f"{c.count} {c.name}" for c in item.contents)


class ContentsScreen(DeskPage):
    """The items that hold things to count; choose one to change what it holds."""

    def __init__(self, by: StaffView) -> None:
        super().__init__(by)
        self.items: list[ItemView] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Office: what a trolley holds")
        yield Static("Choose the trolley whose contents change:", classes="heading")
        yield DataTable(cursor_type="row", id="items")
        with Horizontal(classes="buttons"):
            yield Button("Change what it holds", id="change", variant="primary")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#items", DataTable).add_columns("Item", "Holds")
        self.load()

    def resumed(self) -> None:
        super().resumed()
        self.load()

    def load(self) -> None:
        self.host.call(self.host.service.items_with_contents, self._loaded)

    def _loaded(self, items: list[ItemView]) -> None:
        self.items = items
        table = self.query_one("#items", DataTable)
        table.clear()
        for i in items:
            table.add_row(i.name, holds(i))
        table.focus()

    @on(DataTable.RowSelected, "#items")
    @on(Button.Pressed, "#change")
    def _change(self) -> None:
        table = self.query_one("#items", DataTable)
        if self.items and 0 <= table.cursor_row < len(self.items):
            self.host.open(ContentsFormScreen(self.by, self.items[table.cursor_row]))


class ContentsFormScreen(DeskPage):
    """How many of each it holds now, and why."""

    def __init__(self, by: StaffView, item: ItemView) -> None:
        super().__init__(by)
        self.item = item

    def compose(self) -> ComposeResult:
        yield self.title_bar(f"Office: {self.item.name}")
        yield Static(f"It holds {holds(self.item)}. How many now?", classes="heading")
        with VerticalScroll(id="form"):
            for i, line in enumerate(self.item.contents):
                with Horizontal(classes="fields"):
                    yield Label(f"{line.name}:", classes="field-label")
                    yield Input(str(line.count), id=f"line-{i}", type="integer", classes="number")
            with Horizontal(classes="fields"):
                yield Label("Why:", classes="field-label")
                yield Input(placeholder="e.g. 1 iPad sent for repair", id="reason")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Save", id="save", variant="success")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.say("error", "")
        self.query_one("#line-0", Input).focus()

    @on(Input.Submitted, ".number")
    def _next(self) -> None:
        self.focus_next()

    @on(Input.Submitted, "#reason")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        counts: dict[str, int] = {}
        for i, line in enumerate(self.item.contents):
            raw = self.query_one(f"#line-{i}", Input).value.strip()
            if not raw.isdigit():
                self.say("error", f"Type how many {line.name} it holds now.")
                return
            counts[line.name] = int(raw)
        reason = self.query_one("#reason", Input).value
        item, by, service = self.item.id, self.by.id, self.host.service
        self.host.call(
            lambda: service.change_contents(item, counts, reason, by), self._saved, self.failed
        )

    def _saved(self, result: ActionResult) -> None:
        self.host.done(result.message, "The next count on return expects this.")

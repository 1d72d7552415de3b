"""The office board: what is out, filtered by kind and overdue, searched; histories from it;
the open problems (trolleys short, damage, losses) one press away."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Static

from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.screens.desk.problems import ProblemsScreen
from kiosk.tui.screens.find import FindScreen
from kiosk.tui.screens.history import HistoryScreen
from kiosk.tui.screens.today import TodayScreen
from kiosk.tui.widgets.tables import LoanTable
from kiosk.views import LoanView, StaffView


class OfficeScreen(KioskScreen):
    timeout = 180.0

    def __init__(self, staff: StaffView | None = None) -> None:
        super().__init__()
        self.staff = staff
        """Who opened the board (an office or admin member): who deals with problems."""
        self.kind: str | None = None
        self.overdue_only = False

    def compose(self) -> ComposeResult:
        yield self.title_bar("Office board")
        with Horizontal(classes="buttons", id="kinds"):
            yield Button("All", id="kind-all", classes="kind chosen")
            for key, rule in self.host.settings.kinds.items():
                label = "Other" if key == "other" else _plural(rule.label)
                yield Button(label, id=f"kind-{key}", classes="kind")
        with Horizontal(classes="fields"):
            yield Input(placeholder="Search a person, item or trip", id="search")
            yield Button("Overdue only", id="overdue")
            yield Button("Problems", id="problems")
        yield Static("", id="count", classes="heading")
        yield LoanTable(id="board")
        with Horizontal(classes="buttons"):
            yield Button("Item history", id="item-history")
            yield Button("Person history", id="person-history")
            yield Button("Find anyone", id="find")
            yield Button("Today", id="today")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#search", Input).focus()

    def resumed(self) -> None:
        super().resumed()
        self.load()

    def load(self) -> None:
        kind, overdue = self.kind, self.overdue_only
        text = self.query_one("#search", Input).value
        self.host.call(lambda: self.host.service.board(kind, overdue, text), self._loaded)
        self.host.call(self.host.service.open_problem_count, self._problems)

    def _problems(self, n: int) -> None:
        button = self.query_one("#problems", Button)
        button.label = f"Problems ({n})" if n else "Problems"
        button.display = self.staff is not None

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
            self.say("count", "Choose a line on the board first.")
        return loan

    @on(Button.Pressed, "#item-history")
    def _item_history(self) -> None:
        loan = self._selected()
        if loan:
            self.host.open(HistoryScreen(item=loan.item))

    @on(Button.Pressed, "#person-history")
    def _person_history(self) -> None:
        loan = self._selected()
        if loan and loan.borrower:
            self.host.open(HistoryScreen(person=loan.borrower))

    @on(DataTable.RowSelected, "#board")
    def _row_chosen(self) -> None:
        self._item_history()

    @on(Button.Pressed, "#find")
    def _find(self) -> None:
        self.host.open(FindScreen())

    @on(Button.Pressed, "#today")
    def _today(self) -> None:
        self.host.open(TodayScreen(self.staff))

    @on(Button.Pressed, "#problems")
    def _open_problems(self) -> None:
        if self.staff is not None:
            self.host.open(ProblemsScreen(self.staff))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.host.go_idle()


def _plural(label: str) -> str:
    return label if label.endswith("s") else label + "s"

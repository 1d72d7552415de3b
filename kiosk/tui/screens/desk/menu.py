"""Office tasks: what the office does for someone, and the open problems."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Button, Static

from kiosk.tui.screens.desk.act_for import ActForScreen
from kiosk.tui.screens.desk.badge_off import BadgeOffScreen
from kiosk.tui.screens.desk.cards import SpareCardsScreen
from kiosk.tui.screens.desk.contents import ContentsScreen
from kiosk.tui.screens.desk.page import DeskPage
from kiosk.tui.screens.desk.problems import ProblemsScreen
from kiosk.tui.screens.desk.return_for import ReturnForScreen


class OfficeTasksScreen(DeskPage):
    """One button per thing the office does for people."""

    def compose(self) -> ComposeResult:
        yield self.title_bar(f"Office tasks ({self.by.name})")
        with Grid(id="desk-menu"):
            yield Button("Sign out for someone", id="sign-out-for")
            yield Button("Return for someone", id="return-for")
            yield Button("Lend a class camera", id="lend")
            yield Button("Give a spare card", id="spare-cards")
            yield Button("Switch off a lost badge", id="badge-off")
            yield Button("What a trolley holds", id="contents")
            yield Button("Open problems", id="problems")
            yield Button("Back", id="back", variant="primary")
        yield Static("", classes="filler")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#sign-out-for", Button).focus()
        self.resumed()

    def resumed(self) -> None:
        super().resumed()
        self.host.call(self.host.service.open_problem_count, self._problems)

    def _problems(self, n: int) -> None:
        self.query_one("#problems", Button).label = f"Open problems ({n})" if n else "Open problems"

    @on(Button.Pressed, "#sign-out-for")
    def _sign_out_for(self) -> None:
        self.host.open(ActForScreen(self.by))

    @on(Button.Pressed, "#lend")
    def _lend(self) -> None:
        self.host.open(ActForScreen(self.by, lend=True))

    @on(Button.Pressed, "#return-for")
    def _return_for(self) -> None:
        self.host.open(ReturnForScreen(self.by))

    @on(Button.Pressed, "#spare-cards")
    def _cards(self) -> None:
        self.host.open(SpareCardsScreen(self.by))

    @on(Button.Pressed, "#badge-off")
    def _badge_off(self) -> None:
        self.host.open(BadgeOffScreen(self.by))

    @on(Button.Pressed, "#contents")
    def _contents(self) -> None:
        self.host.open(ContentsScreen(self.by))

    @on(Button.Pressed, "#problems")
    def _open_problems(self) -> None:
        self.host.open(ProblemsScreen(self.by))

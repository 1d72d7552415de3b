"""The idle screen: "Tap your badge", what is out now, and the status line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.widgets.tables import LoanTable
from kiosk.views import LoanView


class IdleScreen(KioskScreen):
    """The screen at rest: the prompt, and what is out now, overdue first."""

    timeout = None

    def compose(self) -> ComposeResult:
        yield Static(id="titlebar", classes="titlebar")
        yield Static("Tap your badge", id="prompt", classes="big")
        yield Static(
            "then tap the item you want.  To give something back, just tap it.",
            id="subprompt",
            classes="hint",
        )
        yield Static("", id="reader-warning", classes="error")
        yield from self.tag_entry()
        yield Static("", id="count", classes="heading")
        yield LoanTable(id="board")
        yield self.status_line()

    def on_mount(self) -> None:
        self.draw_title()
        self.refresh_board()
        self.set_interval(30, self.draw_title)
        self.set_interval(30, self.refresh_board)

    def resumed(self) -> None:
        self.refresh_board()
        self.draw_title()
        self.focus_tag_entry()

    def draw_status(self) -> None:
        super().draw_status()
        # A reader that has stopped is said in words where people look, not only on the
        # status line: taps on it are not being seen.
        down = [(name, why) for name, (ok, why) in self.host.status.readers.items() if not ok]
        warning = ""
        if down:
            name, why = down[0]
            warning = f"The {name} is not working, so taps on it are not seen. Tell the office."
            if why:
                warning += f" ({why})"
        self.say("reader-warning", warning)

    def draw_title(self) -> None:
        now = self.host.clock.now()
        local = self.host.calendar.local(now)
        when = f"{local.strftime('%a')} {local.day} {local.strftime('%b  %H:%M')}"
        self.query_one("#titlebar", Static).update(f"{self.host.settings.school.name}  |  {when}")

    def refresh_board(self) -> None:
        self.host.call(self.host.service.board, self.show_board)

    def show_board(self, loans: list[LoanView]) -> None:
        overdue = sum(v.overdue for v in loans)
        if not loans:
            text = "Nothing is out."
        else:
            text = f"Out now: {len(loans)}"
            if overdue:
                text += f", {overdue} OVERDUE (at the top)"
        self.query_one("#count", Static).update(text)
        self.query_one(LoanTable).show(loans)
        # Once drawn: say if some do not fit, rather than let the list end as if complete.
        self.call_after_refresh(self._say_what_does_not_fit, text)
        self.host.idle_ready()

    def _say_what_does_not_fit(self, text: str) -> None:
        hidden = self.query_one(LoanTable).rows_out_of_sight()
        if hidden:
            self.query_one("#count", Static).update(f"{text}. {hidden} more below.")

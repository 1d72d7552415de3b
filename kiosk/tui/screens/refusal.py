"""Why not, and what to do instead: a tap the rules refused, or a tag not known here."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.tui.screens.base import ReusableScreen


class RefusalScreen(ReusableScreen):
    """Why not, and what to do instead."""

    timeout = 8.0

    def __init__(self) -> None:
        super().__init__()
        self.message = ""
        self.detail = ""

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big refused")
        yield Static("", id="detail", classes="prompt")
        with Horizontal(classes="buttons"):
            yield Button("OK", id="ok", variant="primary")
        yield Static("", classes="filler")
        yield from self.tag_entry()
        yield self.status_line()

    def present(self, message: str, detail: str) -> None:
        self.message, self.detail = message, detail
        self.refill()

    def on_mount(self) -> None:
        self._fill()
        tag = self.query("#tag")
        (tag.first() if tag else self.query_one("#ok")).focus()

    def _fill(self) -> None:
        self.query_one("#message", Static).update(self.message)
        self.say("detail", self.detail)
        self.wait_for_someone()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.host.go_idle()

"""An item marked damaged: what is wrong with it, and Yes or No before anything is lent.

The tap lent nothing (``Outcome.WARNING``). Yes asks the loan service to lend it now
(``borrow_anyway``), which it does only until its own deadline (``confirm_until``,
``[kiosk] confirm_seconds``): the screen gives up at the same moment. No is the
answer focused, so Enter never lends a damaged item by itself.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.tui.screens.base import ReusableScreen
from kiosk.views import TapResult


class WarningScreen(ReusableScreen):
    """ "Class camera 5B is marked damaged: cracked screen. Borrow it anyway?" """

    def __init__(self) -> None:
        super().__init__()
        self.result: TapResult | None = None

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big warn")
        yield Static("", id="question", classes="prompt")
        with Horizontal(classes="buttons"):
            yield Button("No, leave it", id="no", variant="primary")
            yield Button("Yes", id="yes", variant="warning")
        yield Static("", id="error", classes="error")
        yield Static("", classes="filler")
        yield from self.tag_entry()
        yield self.status_line()

    def present(self, result: TapResult) -> None:
        self.result = result
        self.refill()

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#no", Button).focus()

    def shown_again(self) -> None:
        self.query_one("#no", Button).focus()
        self.call_after_refresh(self.host.screen_drawn)

    def _fill(self) -> None:
        result = self.result
        self.query_one("#message", Static).update(result.message if result else "")
        self.say("question", result.detail if result else "")
        self.say("error", "")
        # The service's deadline: Yes is refused after it, so the screen stops asking then.
        self.deadline = result.confirm_until if result else None
        if self.deadline is None:
            self.wait_for_someone()

    def touch(self) -> None:
        """The question's deadline is the service's; a key does not move it."""

    def resumed(self) -> None:
        """Nothing opens on top of the question: its deadline stands."""

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.host.call(self.host.service.borrow_anyway, self.host.present, self._failed)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        item = self.result.item.name if self.result and self.result.item else "It"
        self.host.call(
            self.host.service.leave_it,
            lambda _: self.host.done(
                f"Nothing was lent: {item} stays here.",
                "If it needs repairing, give it to the office.",
            ),
        )

    def _failed(self, error: Exception) -> None:
        self.host.refuse(str(error), "")

"""A confirmation in words, with Undo for exactly as long as the loan service allows it."""

from __future__ import annotations

import math

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.tui.screens.base import ReusableScreen
from kiosk.views import TapResult

#: Seconds a confirmation with nothing to undo stays before the kiosk is idle again.
SHOWN_FOR = 6.0


class DoneScreen(ReusableScreen):
    """The message, what it means, any warnings, and Undo until the service's deadline."""

    def __init__(self) -> None:
        super().__init__()
        self.message = ""
        self.detail = ""
        self.undo_until: float | None = None
        self.warnings: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big ok")
        yield Static("", id="detail", classes="prompt")
        yield Static("", id="warnings", classes="warning")
        with Horizontal(classes="buttons"):
            yield Button("Undo", id="undo", variant="warning")
            yield Button("OK", id="ok", variant="primary")
        yield Static("", classes="filler")
        yield from self.tag_entry()
        yield self.status_line()

    def present(
        self,
        message: str,
        detail: str = "",
        *,
        undo_until: float | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.message, self.detail, self.warnings = message, detail, warnings
        self.undo_until = undo_until
        self.refill()

    def on_mount(self) -> None:
        self._fill()
        self.focus_tag_entry()

    def _fill(self) -> None:
        message = self.query_one("#message", Static)
        message.update(self.message)
        message.set_class(not self.warnings, "ok")
        message.set_class(bool(self.warnings), "warn")
        self.say("detail", self.detail)
        self.say("warnings", "\n".join(self.warnings))
        mono = self.host.clock.monotonic()
        undo = self.undo_until is not None and self.undo_until > mono
        # Long enough to read, and as long as Undo lasts; Undo only while the service allows it.
        self.deadline = max(mono + SHOWN_FOR, self.undo_until if undo and self.undo_until else 0)
        self.query_one("#undo").display = undo
        self._draw_undo(mono)

    def touch(self) -> None:
        """The undo window does not grow because someone touched the screen."""

    def resumed(self) -> None:
        """Nothing opens on top of a confirmation: its deadline stands."""

    def tick(self, mono: float) -> None:
        self._draw_undo(mono)
        super().tick(mono)

    def _draw_undo(self, mono: float) -> None:
        left = max(0, math.ceil(self.undo_until - mono)) if self.undo_until is not None else 0
        for b in self.query("#undo").results(Button):  # none yet while it is being built
            b.label = f"Undo ({left} s)"
            b.disabled = left <= 0

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.host.go_idle()

    @on(Button.Pressed, "#undo")
    def _undo(self) -> None:
        self.host.call(self.host.service.undo, self._undone, self._not_undone)

    def _undone(self, result: TapResult) -> None:
        self.host.done(result.message, "Nothing else to do.")

    def _not_undone(self, error: Exception) -> None:
        self.host.refuse(str(error), "")

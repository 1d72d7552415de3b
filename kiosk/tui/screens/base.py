"""What every kiosk screen shares: the title bar, the status line, and its deadline.

A screen left alone goes back to idle at its deadline. Deadlines are monotonic times
of the loan service's clock, never a timer of the screen's own: the badge session's
end and the undo window come from the service (``TapResult.session_until``,
``undo_until``), so what the screen offers and what the service allows agree. The app
ticks the screen in front a few times a second (``KioskApp.tick``).
"""

from __future__ import annotations

from typing import cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button, Static

from kiosk.tui.host import Host
from kiosk.tui.widgets.status import StatusLine
from kiosk.tui.widgets.tag_entry import TagEntry
from kiosk.views import LoanView, TapResult


class KioskScreen(Screen[object]):
    """A screen that goes back to idle ``timeout`` seconds after the last key or touch."""

    BINDINGS = [Binding("escape", "back", "Back", show=False)]

    #: Seconds with no key or touch before the kiosk goes back to idle; None: never.
    timeout: float | None = 60.0
    #: Whether a TagEntry box is shown (only when a keyboard reader is configured).
    wants_tag_entry = True
    #: The monotonic time (the service's clock) at which the screen gives up; None: never.
    deadline: float | None = None
    #: What the app's styles depended on when this screen's widgets were last styled.
    _styled_for: tuple[object, ...] | None = None

    @property
    def host(self) -> Host:
        return cast(Host, self.app)

    def title_bar(self, title: str = "") -> Static:
        school = self.host.settings.school.name
        return Static(f"{school}  |  {title}" if title else school, classes="titlebar")

    def tag_entry(self) -> ComposeResult:
        if self.wants_tag_entry and self.host.has_keyboard_reader:
            yield TagEntry(id="tag")

    def status_line(self) -> StatusLine:
        return StatusLine(id="status")

    def on_mount(self) -> None:
        # Textual runs a subclass's on_mount first: a deadline it set (from the service) stays.
        if self.deadline is None:
            self.wait_for_someone()
        self.draw_status()
        if self.is_current:  # not a screen built ahead of its first tap (KioskApp.warm_up)
            self.call_after_refresh(self.host.screen_drawn)
        self._styled_for = self._style_key()  # each widget was styled as it was mounted

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual's own handler (Screen's) runs after this one and reads the flag.
        if event.refresh_styles and self._style_key() == self._styled_for:
            event.refresh_styles = False
        self._styled_for = self._style_key()
        self.resumed()

    def _style_key(self) -> tuple[object, ...]:
        """What the whole screen's styles depend on beyond its own widgets' state.

        Textual re-applies the whole stylesheet to a screen each time it comes to the
        front, in case the theme or the CSS changed while it was away. For a kept screen
        that is almost every tap, and for a new one it repeats what mounting its widgets
        has just done: about a third of a tap's redraw, and the restyle throws away every
        widget's drawn lines too. A screen's own changes (classes, display, focus) restyle
        just the widgets concerned as they happen, so the whole screen is restyled only
        when this key has changed: the CSS or theme, the app's classes or pseudo-classes
        (focus, dark, ansi) or the terminal's size.
        """
        app = self.app
        return (app._css_update_count, app.classes, app.pseudo_classes, app.size)

    def resumed(self) -> None:
        """In front again (the screen above it closed): by default, wait afresh."""
        self.wait_for_someone()

    def wait_for_someone(self, seconds: float | None = None) -> None:
        """Give up ``seconds`` (default ``timeout``) from now unless someone uses the screen."""
        seconds = self.timeout if seconds is None else seconds
        self.deadline = self.host.clock.monotonic() + seconds if seconds is not None else None

    def touch(self) -> None:
        """Someone is using the screen: the countdown starts again."""
        self.wait_for_someone()

    def on_key(self, event: events.Key) -> None:
        self.touch()

    def on_click(self, event: events.Click) -> None:
        self.touch()

    def tick(self, mono: float) -> None:
        """Called by the app while this screen is in front; ``mono`` is the service's clock."""
        if self.deadline is not None and mono >= self.deadline:
            self.deadline = None
            self.timed_out()

    def timed_out(self) -> None:
        self.host.go_idle()

    def action_back(self) -> None:
        self.host.go_idle()

    def draw_status(self) -> None:
        lines = self.query(StatusLine)
        if not lines:
            return
        host = self.host
        status = host.status
        lines.first().render_status(
            status.readers, status.clock_synced, status.delivery, host.local_time, host.clock.now()
        )

    def say(self, widget_id: str, text: str, *, classes: str = "") -> None:
        """Put a line of text in the Static ``#widget_id`` (empty text hides it)."""
        w = self.query_one(f"#{widget_id}", Static)
        w.update(text)
        w.display = bool(text)
        if classes:
            w.set_classes(classes)

    def focus_tag_entry(self) -> None:
        """Where a keyboard reader is used, typing goes to the tag box first."""
        tag = self.query("#tag")
        if tag:
            tag.first().focus()


class ReusableScreen(KioskScreen):
    """A screen kept between taps and filled in again by its ``present``."""

    def _fill(self) -> None:
        """Put what ``present`` stored on the screen (each screen fills its own widgets)."""

    def refill(self) -> None:
        """After ``present``: redraw now if the screen is already mounted (else on_mount will)."""
        if self.is_mounted:
            self._fill()
            self.shown_again()

    def shown_again(self) -> None:
        """After ``present`` on a screen already mounted: focus, and report when drawn."""
        self.focus_tag_entry()
        self.call_after_refresh(self.host.screen_drawn)


class LoanResultScreen(ReusableScreen):
    """A follow-up to a tap that settled a loan (return time, checklist): shows its result.

    Its Undo lasts as long as the tap's undo window in the service (``undo_until``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.result: TapResult | None = None

    @property
    def loan(self) -> LoanView:
        assert self.result is not None and self.result.loan is not None
        return self.result.loan

    def present(self, result: TapResult) -> None:
        self.result = result
        self.refill()

    def on_mount(self) -> None:
        if self.result is not None:  # else built ahead of its first tap: present fills it
            self._fill()

    def shown_again(self) -> None:
        self.call_after_refresh(self.host.screen_drawn)

    def _show_result(self) -> None:
        """The countdown from the start, and the tap's message on top."""
        self.wait_for_someone()
        self.query_one("#message", Static).update(self.result.message if self.result else "")
        self._draw_undo(self.host.clock.monotonic())

    def tick(self, mono: float) -> None:
        self._draw_undo(mono)
        super().tick(mono)

    def _draw_undo(self, mono: float) -> None:
        until = self.result.undo_until if self.result else None
        for button in self.query("#undo").results(Button):
            button.disabled = until is None or mono > until

    def _undo(self) -> None:
        self.host.call(self.host.service.undo, self._undone, self._failed)

    def _undone(self, result: TapResult) -> None:
        self.host.done(result.message, "Nothing else to do.")

    def _failed(self, error: Exception) -> None:
        self.say("error", str(error))

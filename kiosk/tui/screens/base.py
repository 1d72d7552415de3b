"""What every kiosk screen shares: a title bar, going back to idle when left alone, status."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

from kiosk.tui.widgets import StatusLine, TagEntry

if TYPE_CHECKING:
    from kiosk.tui.app import KioskApp


class KioskScreen(Screen[None]):
    """A screen that goes back to idle after ``timeout`` seconds with no key or touch."""

    BINDINGS = [Binding("escape", "back", "Back", show=False)]

    #: Seconds with no key or touch before the kiosk goes back to idle; None: never.
    timeout: float | None = 60.0
    #: Whether a TagEntry box is shown (only when a keyboard reader is configured).
    wants_tag_entry = True

    _idle_timer: Timer | None = None

    @property
    def kapp(self) -> KioskApp:
        return cast("KioskApp", self.app)

    def title_bar(self, title: str = "") -> Static:
        school = self.kapp.settings.school.name
        return Static(f"{school}  |  {title}" if title else school, classes="titlebar")

    def tag_entry(self) -> ComposeResult:
        if self.wants_tag_entry and self.kapp.keyboard_reader is not None:
            yield TagEntry(id="tag")

    def status_line(self) -> StatusLine:
        return StatusLine(id="status")

    def on_mount(self) -> None:
        if self.timeout is not None:
            self._idle_timer = self.set_timer(self.timeout, self.timed_out)
        self.draw_status()
        self.call_after_refresh(self.kapp.screen_drawn)

    def on_screen_suspend(self) -> None:
        # A screen underneath another must not time out and pull the top one away.
        if self._idle_timer is not None:
            self._idle_timer.pause()

    def on_screen_resume(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.reset()
            self._idle_timer.resume()

    def touch(self) -> None:
        """Someone is using the screen: start the idle countdown again."""
        if self._idle_timer is not None:
            self._idle_timer.reset()

    def on_key(self, event: events.Key) -> None:
        self.touch()

    def on_click(self, event: events.Click) -> None:
        self.touch()

    def timed_out(self) -> None:
        # Only the screen in front may send the kiosk back to idle: a kept screen that has
        # been replaced must not end someone else's session.
        if self.kapp.screen is self:
            self.kapp.go_idle()

    def action_back(self) -> None:
        self.kapp.go_idle()

    def draw_status(self) -> None:
        try:
            line = self.query_one(StatusLine)
        except Exception:
            return
        app = self.kapp
        info = app.status
        d = info.delivery
        line.render_status(
            app.reader_state,
            info.clock_synced,
            d.waiting if d else None,
            d.failed if d else None,
            d.last_delivered_at if d else None,
            app.local_time,
            app.clock.now(),
        )

    def say(self, widget_id: str, text: str, *, classes: str = "") -> None:
        """Put a line of text in the Static ``#widget_id`` (empty text hides it)."""
        w = self.query_one(f"#{widget_id}", Static)
        w.update(text)
        w.display = bool(text)
        if classes:
            w.set_classes(classes)

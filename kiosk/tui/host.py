"""What a screen may ask of the kiosk app: the small interface screens depend on.

Screens never import the app (``kiosk.tui.app``): they get this ``Host`` (the running
app implements it) and use it to call the loan service off the UI thread, read the
clock, move between screens, collect tags and read the status line's facts. That
keeps the dependency one way (app -> router -> screens -> host) and lets a screen be
read on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from textual.screen import Screen

from hardware.base import Feedback
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.loans import LoanService
from kiosk.settings import Settings
from kiosk.views import DeliverySummary, FailedAlert, TapResult

S = TypeVar("S", bound=Screen[Any])

#: A tag seen while a screen collects tags (enrolment, stock-take): (uid, reader name).
TagHandler = Callable[[str, str], None]


class AlertDesk(Protocol):
    """Alert delivery as the screen may see and touch it (given to the app by ``build_app``)."""

    def summary(self) -> DeliverySummary: ...

    def failed(self, limit: int = 100) -> list[FailedAlert]: ...

    def retry(self, outbox_id: int) -> int: ...

    def retry_all(self) -> int: ...


@dataclass(frozen=True)
class Status:
    """The facts the status line shows: readers, clock, alert delivery."""

    readers: dict[str, tuple[bool, str]]
    """Each reader's name: (working, why not)."""
    clock_synced: bool
    delivery: DeliverySummary | None
    delivery_error: str = ""


class Host(Protocol):
    """The kiosk app, as screens see it."""

    service: LoanService
    settings: Settings
    clock: Clock
    calendar: SchoolCalendar
    alerts: AlertDesk
    feedback: Feedback

    @property
    def has_keyboard_reader(self) -> bool:
        """Whether a tag number can be typed (the demo, a desk without a reader)."""
        ...

    @property
    def status(self) -> Status: ...

    def call(
        self,
        call: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        """Run ``call`` on the service thread; then ``done(value)`` or ``failed(error)``."""
        ...

    def show(self, screen: Screen[Any]) -> None:
        """Put ``screen`` in front, in place of whatever is above the idle screen."""
        ...

    def open(self, screen: Screen[Any], then: Callable[[Any], None] | None = None) -> None:
        """Put ``screen`` on top of the current one (Back returns to it); ``then`` gets
        what it was closed with (``dismiss(result)``)."""
        ...

    def go_idle(self) -> None:
        """Back to "Tap your badge" (ends the badge session)."""
        ...

    def reusable(
        self, cls: type[S], key: Hashable = None, make: Callable[[], S] | None = None
    ) -> S:
        """The one kept instance of a screen that is filled in again per tap."""
        ...

    def present(self, result: TapResult) -> None:
        """Show what a tap (or an undo) did, as the router decides."""
        ...

    def done(
        self,
        message: str,
        detail: str = "",
        *,
        undo_until: float | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        """Show a confirmation; with ``undo_until``, Undo until then."""
        ...

    def refuse(self, message: str, detail: str = "") -> None:
        """Show why not, and what to do instead."""
        ...

    def capture_tags(self, screen: Screen[Any], handler: TagHandler) -> None:
        """While ``screen`` is in front, tags go to ``handler`` instead of the loan service."""
        ...

    def release_tags(self, screen: Screen[Any]) -> None: ...

    def screen_drawn(self) -> None:
        """A screen's first refresh is done: the moment a person can read it."""
        ...

    def idle_ready(self) -> None:
        """The idle screen's board is drawn (the kiosk is ready)."""
        ...

    def refresh_status(self) -> None:
        """Read the alert counts again (after something changed them)."""
        ...

    def local_time(self, instant: datetime, now: datetime | None = None) -> str:
        """ "14:02" today, "Mon 24 Nov 14:02" otherwise, in the school's time zone."""
        ...

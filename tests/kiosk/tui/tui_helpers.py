"""Helpers for the kiosk screen tests: build the app, tap, press, read the screen."""

from __future__ import annotations

import time as walltime
from datetime import UTC, datetime
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static

from hardware.base import KeyboardReader, NullFeedback, Reader
from kiosk.clock import ManualClock
from kiosk.loans import LoanService
from kiosk.tui.app import KioskApp, build_app
from sync.status import AlertDesk

#: Monday 23 November 2026, 09:00 in London (UTC in winter): a school day morning.
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_app(
    service: LoanService, readers: list[Reader] | None = None, feedback: NullFeedback | None = None
) -> KioskApp:
    return build_app(
        service,
        readers if readers is not None else [KeyboardReader()],
        feedback or NullFeedback(),
        alerts=AlertDesk(service.clock),
        console_colours=False,
    )


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every service call has finished and its result is drawn.

    However long that takes on a busy machine: it used to give up after 500 rounds
    (about 2.5 s) and let a test read the screen before the result was drawn. The
    minute is only there to end a test whose call never finishes, with a reason.
    """
    app = pilot.app
    assert isinstance(app, KioskApp)
    give_up = walltime.monotonic() + 60
    while True:
        await pilot.pause()
        if not app.busy:
            break
        assert walltime.monotonic() < give_up, "a service call did not finish in a minute"
        await pilot.pause(0.005)
    await pilot.pause()


async def later(pilot: Pilot[Any], seconds: float) -> None:
    """``seconds`` pass on the kiosk's (manual) clock; the screen in front is told, as the
    app's own tick would tell it, and whatever that starts is drawn."""
    app = pilot.app
    assert isinstance(app, KioskApp) and isinstance(app.clock, ManualClock)
    app.clock.advance(seconds)
    app.tick()
    await settle(pilot)


async def tap(pilot: Pilot[Any], uid: str) -> None:
    app = pilot.app
    assert isinstance(app, KioskApp) and app.keyboard_reader is not None
    assert app.keyboard_reader.feed(uid)
    await settle(pilot)


async def press(pilot: Pilot[Any], selector: str) -> None:
    """Press a button the way a person does (a click), then wait for what it started.

    A button ignores a second press while it still shows the first (0.2 s), as a
    finger would see: wait for that, as a person does.
    """
    for button in pilot.app.screen.query(selector).results(Button):
        while button.has_class("-active"):
            await pilot.pause(0.05)
    await pilot.click(selector)
    await settle(pilot)


def screen_text(app: KioskApp) -> str:
    """Everything a person can read on the current screen, one widget per line."""
    lines: list[str] = []
    for w in app.screen.query("*"):
        if not w.display or not w.visible:
            continue
        if isinstance(w, Button):
            lines.append(str(w.label))
        elif isinstance(w, Static):
            lines.append(str(w.content))
        elif isinstance(w, Input):
            lines.append(w.value)
        elif isinstance(w, DataTable):
            for r in range(w.row_count):
                lines.append(" | ".join(str(c) for c in w.get_row_at(r)))
    return "\n".join(x for x in lines if x)

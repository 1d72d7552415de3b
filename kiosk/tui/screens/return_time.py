"""A trip phone is out (already, until the end of the day): when will it be back?"""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from kiosk.tui.screens.base import LoanResultScreen
from kiosk.tui.widgets.choices import TimeChoice
from kiosk.views import ActionResult


class ReturnTimeScreen(LoanResultScreen):
    """When will you be back: three presets or a typed time, and the trip's destination."""

    timeout = 90.0

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big ok")
        yield Static("", id="question", classes="prompt")
        yield TimeChoice(self.host.calendar, self.host.clock, id="times")
        with Horizontal(classes="fields"):
            yield Label("Trip (optional):", classes="field-label")
            yield Input(placeholder="where to, e.g. Year 4 to the museum", id="trip")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Undo", id="undo", variant="warning")
        yield self.status_line()

    def _fill(self) -> None:
        self._show_result()
        phone = self.loan.item.phone_number
        self.query_one("#question", Static).update(
            "When will you be back?" + (f"  (This phone's number: {phone})" if phone else "")
        )
        self.query_one(TimeChoice).refresh_presets()
        self.query_one("#trip", Input).value = self.loan.trip
        self.say("error", "")
        self.query_one("#preset-end_of_day", Button).focus()

    @on(Input.Submitted, "#trip")
    def _trip_typed(self) -> None:
        self.query_one("#preset-end_of_day", Button).focus()

    @on(TimeChoice.Unreadable)
    def _unreadable(self, event: TimeChoice.Unreadable) -> None:
        self.say("error", event.why)

    @on(TimeChoice.Chosen)
    def _chosen(self, event: TimeChoice.Chosen) -> None:
        self._set(event.due)

    def _set(self, due: datetime) -> None:
        trip = self.query_one("#trip", Input).value
        loan_id, service = self.loan.id, self.host.service
        self.host.call(lambda: service.set_due(loan_id, due, trip), self._done, self._failed)

    def _done(self, result: ActionResult) -> None:
        lv = result.loan
        detail = f"Back by {lv.due_text}." if lv else result.message
        if lv and lv.trip:
            detail += f" Trip: {lv.trip}."
        tap = self.result
        # Undo stays what the sign-out allowed: the same window, not a new one.
        self.host.done(
            tap.message if tap else "", detail, undo_until=tap.undo_until if tap else None
        )

    @on(Button.Pressed, "#undo")
    def _undo_pressed(self) -> None:
        self._undo()

"""Personal calls on a trip phone (the policy's Appendix 5): those recorded, and one more.

Opened from the return checklist ("Personal calls made?" Yes) and by the office
afterwards, from the Today view. Each call is a day of the trip (the day it went out
is chosen already; a residential trip offers each of its days), a time, the number
called or texted and the reason; Add records it at once, so nothing is lost if the
person walks away. The service refuses, in words, a call that cannot be on this trip.
"""

from __future__ import annotations

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Select, Static

from kiosk.tui import when
from kiosk.tui.screens.base import KioskScreen
from kiosk.views import ActionResult, CallView, LoanView, StaffView


def day_label(day: date) -> str:
    """ "Mon 23 Nov 2026": a day that cannot be misread (the year too)."""
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b %Y')}"


class CallsScreen(KioskScreen):
    """The personal calls on one loan of a trip phone; Add records one more."""

    timeout = 120.0
    wants_tag_entry = False

    def __init__(self, loan: LoanView, by: StaffView | None = None) -> None:
        super().__init__()
        self.loan = loan
        self.by = by
        self.calls: list[CallView] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Personal calls (Appendix 5)")
        item = self.loan.item
        phone = f"{item.name} ({item.phone_number})" if item.phone_number else item.name
        who = self.loan.borrower.name if self.loan.borrower else "(removed)"
        yield Static(f"{phone}, {who}", id="calls-heading", classes="heading")
        yield DataTable(cursor_type="row", id="calls")
        yield Static(
            "Each call, text or email: the day, the time, the number and why.",
            id="calls-hint",
            classes="hint",
        )
        with Horizontal(classes="fields", id="call-form"):
            yield Select[date]([], id="call-day", allow_blank=True, prompt="day")
            yield Input(placeholder="14:30", id="call-time", classes="time")
            yield Input(placeholder="number called", id="call-number", classes="number-called")
            yield Input(placeholder="reason", id="call-reason")
        yield Static("", id="call-result", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Add this call", id="add-call", variant="success")
            yield Button("Done", id="calls-done", variant="primary")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#calls", DataTable).add_columns("Day", "Time", "Number", "Reason")
        self.say("call-result", "")
        self.query_one("#call-time", Input).focus()
        self.load()

    def load(self) -> None:
        service, loan_id = self.host.service, self.loan.id
        self.host.call(
            lambda: (service.call_days(loan_id), service.personal_calls(loan_id)),
            self._loaded,
            self._failed,
        )

    def _loaded(self, found: tuple[list[date], list[CallView]]) -> None:
        days, self.calls = found
        select = self.query_one("#call-day", Select)
        chosen = select.value
        select.set_options([(day_label(d), d) for d in days])
        if days:
            # The trip's day unless another day of it was chosen already.
            select.value = chosen if chosen in days else days[0]
        table = self.query_one("#calls", DataTable)
        table.clear()
        for call in self.calls:
            if call.made_at is not None:
                local = self.host.calendar.local(call.made_at)
                day, hhmm = day_label(local.date()), local.strftime("%H:%M")
            else:
                day, hhmm = f"as written: {call.stated}", ""
            table.add_row(day, hhmm, call.number, call.reason)
        n = len(self.calls)
        heading = self.query_one("#calls-heading", Static)
        item = self.loan.item
        phone = f"{item.name} ({item.phone_number})" if item.phone_number else item.name
        who = self.loan.borrower.name if self.loan.borrower else "(removed)"
        recorded = f"{n} call{'s' if n != 1 else ''} recorded" if n else "no calls recorded yet"
        heading.update(f"{phone}, {who}: {recorded}")

    @on(Button.Pressed, "#add-call")
    @on(Input.Submitted, "#call-reason")
    def _add(self) -> None:
        day = self.query_one("#call-day", Select).value
        if not isinstance(day, date):
            self.say("call-result", "Choose the day of the call.")
            return
        try:
            at = when.parse_time_of_day(self.query_one("#call-time", Input).value)
        except when.BadTime as exc:
            self.say("call-result", str(exc))
            self.query_one("#call-time", Input).focus()
            return
        number = self.query_one("#call-number", Input).value
        reason = self.query_one("#call-reason", Input).value
        service, loan_id = self.host.service, self.loan.id
        by = self.by.id if self.by is not None else None

        def add() -> ActionResult:
            # At the kiosk, whoever is signed in is the one typing it.
            who = by if by is not None else service.session_staff_id
            return service.add_personal_call(loan_id, day, at, number, reason, who)

        self.host.call(add, self._added, self._failed)

    @on(Input.Submitted, "#call-time")
    def _time_done(self) -> None:
        self.query_one("#call-number", Input).focus()

    @on(Input.Submitted, "#call-number")
    def _number_done(self) -> None:
        self.query_one("#call-reason", Input).focus()

    def _added(self, result: ActionResult) -> None:
        self.say("call-result", result.message, classes="prompt")
        for wid in ("#call-time", "#call-number", "#call-reason"):
            self.query_one(wid, Input).value = ""
        self.query_one("#call-time", Input).focus()
        self.load()

    def _failed(self, error: Exception) -> None:
        self.say("call-result", str(error), classes="error")

    @on(Button.Pressed, "#calls-done")
    def _done(self) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()

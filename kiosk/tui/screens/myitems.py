"""My items: what I have out; report one lost or damaged; change a trip phone's return time."""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Static

from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.widgets.choices import TimeChoice
from kiosk.tui.widgets.tables import LoanTable
from kiosk.views import ActionResult, LoanView, StaffView


class MyItemsScreen(KioskScreen):
    timeout = 60.0

    def __init__(self, staff: StaffView) -> None:
        super().__init__()
        self.staff = staff
        self.mode = ""  # "", "lost", "damage", "time"
        self._said = ""

    def compose(self) -> ComposeResult:
        yield self.title_bar(f"{self.staff.greeting}: my items")
        yield Static("Choose an item, then what happened.", classes="heading")
        yield LoanTable(with_borrower=False, id="mine")
        yield Static("", id="result", classes="prompt")
        with Horizontal(classes="buttons", id="actions"):
            yield Button("Lost", id="lost", variant="error")
            yield Button("Damaged", id="damage", variant="warning")
            yield Button("Change return time", id="time")
            yield Button("Back", id="back")
        # Follow-up panels: only one shows at a time.
        with Horizontal(classes="buttons", id="confirm-lost"):
            yield Button("Yes, it is lost", id="lost-yes", variant="error")
            yield Button("Cancel", id="cancel-lost")
        with Horizontal(classes="fields", id="damage-form"):
            yield Input(placeholder="What is damaged? A few words, then Enter.", id="damage-note")
            yield Button("Cancel", id="cancel-damage")
        yield TimeChoice(self.host.calendar, self.host.clock, id="times")
        yield self.status_line()

    def on_mount(self) -> None:
        self._panel("")
        self.say("result", "")
        self.load()

    def load(self) -> None:
        staff_id = self.staff.id
        self.host.call(lambda: self.host.service.loans_for(staff_id), self._loaded)

    def _loaded(self, loans: list[LoanView]) -> None:
        table = self.query_one(LoanTable)
        table.show(loans)
        if not loans:
            self.say("result", f"{self._said} You have nothing out now.".strip())
        table.focus()

    def _panel(self, mode: str) -> None:
        self.mode = mode
        self.query_one("#actions").display = mode == ""
        self.query_one("#confirm-lost").display = mode == "lost"
        self.query_one("#damage-form").display = mode == "damage"
        self.query_one("#times").display = mode == "time"

    def _selected(self) -> LoanView | None:
        loan = self.query_one(LoanTable).selected
        if loan is None:
            self.say("result", "Choose an item first.")
        return loan

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        loan = self.query_one(LoanTable).selected
        self.query_one("#time", Button).disabled = not (loan and loan.item.off_site)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.host.go_idle()

    def action_back(self) -> None:
        if self.mode:
            self._panel("")
        else:
            self.host.go_idle()

    @on(Button.Pressed, "#lost")
    def _lost(self) -> None:
        loan = self._selected()
        if loan:
            self.say("result", f"Is {loan.item.name} lost? SLT will be told at once.")
            self._panel("lost")
            # The answer that records nothing (Enter never reports a loss by itself).
            self.query_one("#cancel-lost", Button).focus()

    @on(Button.Pressed, "#lost-yes")
    def _lost_yes(self) -> None:
        loan = self._selected()
        if loan:
            item_id, by = loan.item.id, self.staff.id
            self.host.call(
                lambda: self.host.service.report_lost(item_id, by), self._reported, self._failed
            )

    @on(Button.Pressed, "#damage")
    def _damage(self) -> None:
        loan = self._selected()
        if loan:
            self.say("result", f"What is damaged on {loan.item.name}?")
            self._panel("damage")
            self.query_one("#damage-note", Input).focus()

    @on(Input.Submitted, "#damage-note")
    def _damage_note(self, event: Input.Submitted) -> None:
        loan = self._selected()
        if loan:
            loan_id, note = loan.id, event.value
            self.host.call(
                lambda: self.host.service.report_damage(loan_id, note), self._reported, self._failed
            )

    @on(Button.Pressed, "#time")
    def _time(self) -> None:
        loan = self._selected()
        if loan:
            self.say("result", f"When will {loan.item.name} be back?")
            self._panel("time")

    @on(TimeChoice.Chosen)
    def _time_chosen(self, event: TimeChoice.Chosen) -> None:
        self._set_due(event.due)

    @on(TimeChoice.Unreadable)
    def _unreadable(self, event: TimeChoice.Unreadable) -> None:
        self.say("result", event.why)

    def _set_due(self, due: datetime) -> None:
        loan = self._selected()
        if loan:
            loan_id = loan.id
            self.host.call(
                lambda: self.host.service.set_due(loan_id, due), self._reported, self._failed
            )

    @on(Button.Pressed, "#cancel-lost, #cancel-damage")
    def _cancel(self) -> None:
        self._panel("")
        self.say("result", "")

    def _reported(self, result: ActionResult) -> None:
        self._panel("")
        self._said = result.message
        self.say("result", result.message)
        self.query_one("#damage-note", Input).value = ""
        self.load()

    def _failed(self, error: Exception) -> None:
        self.say("result", str(error))

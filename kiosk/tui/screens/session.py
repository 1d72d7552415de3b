"""After a badge: hello, what you have out, tap an item.

The screen lasts as long as the badge session in the loan service (its end comes
with the tap's result, and a key or touch here keeps both open), so a person is
never told "Tap your badge first" while this screen still greets them.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.tui.screens.base import ReusableScreen
from kiosk.tui.widgets.tables import LoanTable
from kiosk.views import LoanView, StaffView, TapResult


class SessionScreen(ReusableScreen):
    """After a badge: hello, what you have out, tap an item."""

    def __init__(self) -> None:
        super().__init__()
        self.staff: StaffView | None = None
        self.loans: list[LoanView] = []
        self.greeting = ""
        self.detail = ""
        self.session_until: float | None = None

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="hello", classes="big ok")
        yield Static("Tap an item.", id="tap-item", classes="prompt")
        yield Static("", id="mine-heading", classes="heading")
        yield LoanTable(with_borrower=False, id="mine")
        yield Static("", id="nothing", classes="filler")
        with Horizontal(classes="buttons"):
            yield Button("My items", id="my-items")
            yield Button("Office board", id="office")
            yield Button("Office tasks", id="office-tasks")
            yield Button("Admin", id="admin")
            yield Button("Done", id="done", variant="primary")
        yield from self.tag_entry()
        yield self.status_line()

    def present(self, result: TapResult) -> None:
        self.staff, self.loans, self.greeting = result.staff, list(result.loans), result.message
        self.detail = result.detail or "Tap an item."
        self.session_until = result.session_until
        self.refill()

    def on_mount(self) -> None:
        self._fill()
        self.focus_tag_entry()

    def _fill(self) -> None:
        # The screen and the service's session end together.
        self.deadline = self.session_until
        self.query_one("#hello", Static).update(self.greeting)
        self.query_one("#tap-item", Static).update(self.detail)
        n = len(self.loans)
        self.query_one("#mine-heading", Static).update(
            f"You have {n} item{'s' if n != 1 else ''} out:" if n else "You have nothing out."
        )
        table = self.query_one(LoanTable)
        table.display = bool(n)
        self.query_one("#nothing").display = not n
        if n:
            table.show(self.loans)
        role = self.staff.role if self.staff else "staff"
        self.query_one("#my-items").display = bool(n)
        self.query_one("#office").display = role in ("office", "admin")
        self.query_one("#office-tasks").display = role in ("office", "admin")
        self.query_one("#admin").display = role == "admin"

    def touch(self) -> None:
        self.host.call(self.host.service.keep_session, self._session_kept)

    def resumed(self) -> None:
        self.host.call(self.host.service.keep_session, self._session_kept)

    def _session_kept(self, until: float | None) -> None:
        if until is None:
            self.timed_out()
        else:
            self.deadline = until

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.host.go_idle()

    # The screens these buttons open are imported when first pressed, not when the kiosk
    # starts: the admin screens alone (the importer, enrolment) were a tenth of start-up.

    @on(Button.Pressed, "#my-items")
    def _my_items(self) -> None:
        from kiosk.tui.screens.myitems import MyItemsScreen

        if self.staff is not None:
            self.host.open(MyItemsScreen(self.staff))

    @on(Button.Pressed, "#office")
    def _office(self) -> None:
        from kiosk.tui.screens.office import OfficeScreen

        self.host.open(OfficeScreen(self.staff))

    @on(Button.Pressed, "#office-tasks")
    def _office_tasks(self) -> None:
        from kiosk.tui.screens.desk.menu import OfficeTasksScreen

        if self.staff is not None:
            self.host.open(OfficeTasksScreen(self.staff))

    @on(Button.Pressed, "#admin")
    def _admin(self) -> None:
        from kiosk.tui.screens.admin.pin import PinScreen

        if self.staff is not None:
            self.host.open(PinScreen(self.staff))

"""An admin badge, then the PIN: five wrong PINs lock admin (the loan service counts them)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from kiosk.tui.screens.admin.menu import AdminScreen
from kiosk.tui.screens.base import KioskScreen
from kiosk.views import StaffView


class PinScreen(KioskScreen):
    """Enter the admin PIN; the right one opens the admin menu."""

    timeout = 60.0
    wants_tag_entry = False

    def __init__(self, staff: StaffView) -> None:
        super().__init__()
        self.staff = staff

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin")
        yield Static(f"{self.staff.greeting}: enter your admin PIN", classes="big")
        with Horizontal(classes="fields"):
            yield Label("PIN:", classes="field-label")
            yield Input(password=True, id="pin", restrict=r"[0-9]*", max_length=8)
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Open admin", id="open", variant="primary")
            yield Button("Cancel", id="cancel")
        yield Static("", classes="filler")
        yield self.status_line()

    def on_mount(self) -> None:
        self.say("error", "")
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    @on(Button.Pressed, "#open")
    def _check(self) -> None:
        pin = self.query_one("#pin", Input).value
        staff_pk, service = self.staff.id, self.host.service
        self.host.call(lambda: service.enter_admin(staff_pk, pin), self._checked, self._refused)

    def _checked(self, until: float | None) -> None:
        self.query_one("#pin", Input).value = ""
        if until is not None:
            self.host.show(AdminScreen(self.staff, until))
        else:
            self.say("error", "Wrong PIN. Try again.")

    def _refused(self, error: Exception) -> None:
        self.query_one("#pin", Input).value = ""
        self.say("error", str(error))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.host.go_idle()

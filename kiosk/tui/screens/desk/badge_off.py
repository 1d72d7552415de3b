"""A badge reported lost: switched off at once, so nobody else can use it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.tui.screens.desk.page import DeskPage
from kiosk.tui.widgets.people import PersonPicker
from kiosk.views import ActionResult, StaffView


class BadgeOffScreen(DeskPage):
    """Find whose badge is lost, then switch it off."""

    def __init__(self, by: StaffView) -> None:
        super().__init__(by)
        self.person: StaffView | None = None

    def compose(self) -> ComposeResult:
        yield self.title_bar("Office: switch off a lost badge")
        yield Static("Whose badge is lost? Type a few letters of their name:", classes="heading")
        yield PersonPicker(id="picker")
        yield Static("", id="chosen", classes="prompt")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Switch off the badge", id="off", variant="error", disabled=True)
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.say("chosen", "")
        self.say("error", "")
        self.query_one(PersonPicker).focus_search()
        self.find_people()

    @on(PersonPicker.Chosen)
    def _chosen(self, event: PersonPicker.Chosen) -> None:
        if event.staff is None:
            return
        self.person = event.staff
        button = self.query_one("#off", Button)
        button.disabled = not event.staff.has_badge
        if event.staff.has_badge:
            self.say("chosen", f"{event.staff.name}'s badge will stop working at once.")
            self.say("error", "")
            button.focus()
        else:
            self.say("chosen", "")
            self.say("error", f"{event.staff.name} has no badge to switch off.")

    @on(Button.Pressed, "#off")
    def _off(self) -> None:
        if self.person is None:
            return
        staff_pk, by, service = self.person.id, self.by.id, self.host.service
        self.host.call(lambda: service.switch_off_badge(staff_pk, by), self._done, self.failed)

    def _done(self, result: ActionResult) -> None:
        self.host.done(result.message)

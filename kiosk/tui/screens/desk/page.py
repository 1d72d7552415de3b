"""What every office page shares: who is acting (an office or admin member), Back, errors.

The loan service checks again that ``by`` may act as the office; the pages are only
offered to office and admin badges (the session screen's Office tasks).
"""

from __future__ import annotations

from textual import on
from textual.widgets import Button

from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.widgets.people import PersonPicker
from kiosk.views import StaffView


class DeskPage(KioskScreen):
    """An office page; Back returns to the page it was opened from."""

    timeout = 180.0

    def __init__(self, by: StaffView) -> None:
        super().__init__()
        self.by = by

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()

    @on(PersonPicker.Search)
    def _searched(self, event: PersonPicker.Search) -> None:
        self.find_people(event.text)

    def find_people(self, text: str = "") -> None:
        """Staff whose names match ``text`` (everyone when empty), looked up on the service
        thread and shown in the page's PersonPicker."""
        service, wanted = self.host.service, self.query_one(PersonPicker).SHOWN + 1
        self.host.call(
            lambda: service.find_staff(text, limit=wanted),
            lambda people: self.query_one(PersonPicker).show(people, text),
        )

    def failed(self, error: Exception) -> None:
        """What the loan service refused, said where the person is looking."""
        self.say("error", str(error))
        self.host.feedback.refused()

"""What every admin page shares: admin's one deadline, kept by every key, touch or tap.

The loan service keeps the admin visit (``enter_admin`` after the PIN, ``keep_admin``
on each use, ``[kiosk] admin_idle_seconds`` long); every admin page shows until
that end, so admin left alone goes back to idle when the setting says, however
many pages deep it was left.
"""

from __future__ import annotations

from textual import on
from textual.widgets import Button

from kiosk.tui.screens.base import KioskScreen


class AdminPage(KioskScreen):
    """An admin page; Back returns to the page it was opened from."""

    wants_tag_entry = False

    def __init__(self, until: float | None) -> None:
        super().__init__()
        self.deadline = until

    def touch(self) -> None:
        self.host.call(self.host.service.keep_admin, self._kept)

    def resumed(self) -> None:
        self.host.call(self.host.service.keep_admin, self._kept)

    def _kept(self, until: float | None) -> None:
        if until is None:
            self.timed_out()
        else:
            self.deadline = until

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()

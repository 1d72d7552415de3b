"""Import the staff or item list from a CSV file (a USB stick, a share): all or nothing."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from kiosk.importer import ImportReport, import_items, import_staff
from kiosk.tui.screens.admin.page import AdminPage


class ImportScreen(AdminPage):
    """Import the staff or item list from a CSV file (e.g. on a USB stick): all or nothing.

    The same checks as ``kiosk import`` (``kiosk.importer``); every bad line is listed.
    """

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: import from a CSV file")
        yield Static(
            "Type the file's path, then choose what it holds. Nothing is saved unless "
            "every line is right.",
            classes="heading",
        )
        with Horizontal(classes="fields"):
            yield Label("File:", classes="field-label")
            yield Input(placeholder="e.g. /media/usb/staff.csv", id="path")
        with Horizontal(classes="buttons"):
            yield Button("Import staff", id="import-staff", variant="primary")
            yield Button("Import items", id="import-items", variant="primary")
            yield Button("Back", id="back")
        with VerticalScroll(id="report"):
            yield Static("", id="result")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(Button.Pressed, "#import-staff, #import-items")
    def _import(self, event: Button.Pressed) -> None:
        raw = self.query_one("#path", Input).value.strip()
        if not raw:
            self.query_one("#result", Static).update("Type the path of the CSV file first.")
            return
        path, service = Path(raw).expanduser(), self.host.service
        importer = import_staff if event.button.id == "import-staff" else import_items
        self.query_one("#result", Static).update("Reading the file...")
        self.host.call(
            lambda: importer(path, service.settings, service.clock), self._imported, self._failed
        )

    def _imported(self, report: ImportReport) -> None:
        self.query_one("#result", Static).update(f"Imported. {report.summary()}")
        self.host.refresh_status()

    def _failed(self, error: Exception) -> None:
        self.query_one("#result", Static).update(str(error))

"""Import the staff or item list from a CSV file (a USB stick, a share): see it, then save it.

The same checks as ``kiosk import`` (``kiosk.importer``): every bad line is listed and
nothing is saved. A good file is shown first, as ``kiosk import --dry-run`` shows it
(what is added, what changes from what to what), and saved only when the admin says
so; a change to the signed-in admin's own record is asked about in words.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from kiosk.importer import ImportReport, Plan, PlanOutdated, apply, preview
from kiosk.tui.screens.admin.page import AdminPage
from kiosk.views import StaffView


class ImportScreen(AdminPage):
    """Type a file's path, look at what it would change, then save it or not."""

    def __init__(self, admin: StaffView, until: float | None) -> None:
        super().__init__(until)
        self.admin = admin
        self.plan: Plan | None = None
        self.note = ""  # said above the next preview (why it was made again)

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: import from a CSV file")
        yield Static(
            "Type the file's path; you see every change before it is saved.",
            classes="heading",
        )
        with Horizontal(classes="fields"):
            yield Label("File:", classes="field-label")
            yield Input(placeholder="e.g. /media/usb/staff.csv", id="path")
        with Horizontal(classes="buttons"):
            yield Button("Staff list", id="import-staff", variant="primary")
            yield Button("Item list", id="import-items", variant="primary")
            yield Button("Save these changes", id="save", variant="success")
            yield Button("Back", id="back")
        with VerticalScroll(id="report"):
            yield Static("", id="result")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#save").display = False
        self.query_one("#path", Input).focus()

    def _say(self, text: str) -> None:
        self.query_one("#result", Static).update(text)

    @on(Button.Pressed, "#import-staff, #import-items")
    def _preview(self, event: Button.Pressed) -> None:
        raw = self.query_one("#path", Input).value.strip()
        if not raw:
            self._say("Type the path of the CSV file first.")
            return
        what = "staff" if event.button.id == "import-staff" else "items"
        self._look(what, Path(raw).expanduser())

    def _look(self, what: str, path: Path) -> None:
        self.plan = None
        self.query_one("#save").display = False
        self._say("Reading the file...")
        settings = self.host.settings
        self.host.call(lambda: preview(what, path, settings), self._previewed, self._failed)

    def _previewed(self, plan: Plan) -> None:
        lines = [self.note, ""] if self.note else []
        self.note = ""
        lines.append(plan.summary())
        question = plan.asks_first(self.admin.id)
        if question:
            lines += ["", question]
        lines += ["", *plan.lines()]
        if plan.added or plan.changed:
            self.plan = plan
            self.query_one("#save").display = True
            lines += ["", "Nothing is saved until you press Save these changes."]
        else:
            lines += ["Nothing to save: the records already say what the file says."]
        self._say("\n".join(lines))

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        plan, host = self.plan, self.host
        if plan is None:
            return
        self.query_one("#save").display = False
        self._say("Saving...")
        self.host.call(lambda: apply(plan, host.settings, host.clock), self._saved, self._failed)

    def _saved(self, report: ImportReport) -> None:
        self.plan = None
        self._say(f"Saved. {report.summary()}")
        self.host.refresh_status()

    def _failed(self, error: Exception) -> None:
        self._say(str(error))
        if isinstance(error, PlanOutdated) and self.plan is not None:
            # Something changed meanwhile: show the file against the records as they are now.
            self.note = str(error)
            self._look(self.plan.what, Path(self.query_one("#path", Input).value).expanduser())
        else:
            self.plan = None

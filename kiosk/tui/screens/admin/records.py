"""Staff and items: find, add, edit, and switch a person on or off."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Static

from kiosk.tui.screens.admin.form import FormScreen
from kiosk.tui.screens.admin.page import AdminPage
from kiosk.tui.widgets.more import MoreMatch
from kiosk.views import ActionResult, StaffView, first, more_match

#: Records listed at most; more letters narrow the list.
LISTED = 200


class RecordsScreen(AdminPage):
    """Find, add and edit staff (``what="staff"``) or items (``what="items"``)."""

    def __init__(self, what: str, admin: StaffView, until: float | None) -> None:
        super().__init__(until)
        self.admin = admin
        self.what = what
        self.rows: list[Any] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar(f"Admin: {self.what}")
        with Horizontal(classes="fields"):
            yield Input(placeholder="Find by name or reference", id="find")
        yield DataTable(cursor_type="row", id="records")
        yield MoreMatch(id="more")
        with Horizontal(classes="buttons"):
            yield Button("Add", id="add", variant="primary")
            yield Button("Edit", id="edit")
            if self.what == "staff":
                yield Button("Switch on/off", id="active")
            yield Button("Back", id="back")
        yield Static("", id="result", classes="prompt")
        yield self.status_line()

    def on_mount(self) -> None:
        cols = (
            ("Name", "Staff ID", "Role", "Classes", "Badge", "Active")
            if self.what == "staff"
            else ("Name", "Asset tag", "Kind", "Status", "Tag")
        )
        self.query_one("#records", DataTable).add_columns(*cols)
        self.say("result", "")
        self.query_one("#find", Input).focus()

    def _form_closed(self, said: object) -> None:
        if isinstance(said, str):
            self.say("result", said)

    def resumed(self) -> None:
        super().resumed()
        self.load()

    def load(self) -> None:
        text, service = self.query_one("#find", Input).value, self.host.service
        if self.what == "staff":
            self.host.call(lambda: service.find_staff(text, limit=LISTED + 1), self._found)
        else:
            self.host.call(lambda: service.find_items(text, limit=LISTED + 1), self._found)

    def _found(self, found: list[Any]) -> None:
        rows, more = first(found, LISTED)
        what = "people" if self.what == "staff" else "items"
        self.query_one(MoreMatch).tell(more_match(LISTED, **{what: more}).values())
        self.rows = rows
        table = self.query_one("#records", DataTable)
        table.clear()
        for r in rows:
            if isinstance(r, StaffView):
                table.add_row(
                    r.name,
                    r.staff_id,
                    r.role,
                    " ".join(r.classes),
                    "yes" if r.has_badge else "NO",
                    "yes" if r.active else "NO",
                )
            else:
                table.add_row(
                    r.name,
                    r.asset_tag,
                    r.kind_label,
                    f"out: {r.out_with}" if r.out_with else r.status,
                    "yes" if r.has_tag else "NO",
                )

    @on(Input.Changed, "#find")
    def _changed(self) -> None:
        self.load()

    def _chosen(self) -> Any:
        table = self.query_one("#records", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            self.say("result", "Choose a line first.")
            return None
        return self.rows[table.cursor_row]

    @on(Button.Pressed, "#add")
    def _add(self) -> None:
        self.host.open(FormScreen(self.what, None, self.admin, self.deadline), self._form_closed)

    @on(DataTable.RowSelected, "#records")
    @on(Button.Pressed, "#edit")
    def _edit(self) -> None:
        row = self._chosen()
        if row is not None:
            self.host.open(FormScreen(self.what, row, self.admin, self.deadline), self._form_closed)

    @on(Button.Pressed, "#active")
    def _active(self) -> None:
        row = self._chosen()
        if isinstance(row, StaffView):
            pk, active = row.id, not row.active
            reason = "" if active else "switched off at the kiosk"
            self.host.call(
                lambda: self.host.service.set_staff_active(pk, active, reason),
                self._switched,
                lambda e: self.say("result", str(e)),
            )

    def _switched(self, result: ActionResult) -> None:
        self.say("result", result.message)
        self.load()

"""One person or item, added or edited at the kiosk, checked like a line of a CSV import."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from kiosk.importer import save_item, save_staff
from kiosk.records import format_contents
from kiosk.tui.screens.admin.page import AdminPage
from kiosk.views import ItemView, StaffView

# Column names as in the CSV files (kiosk.records), so the form and an import check alike.
_STAFF_FIELDS = [
    ("staff_id", "Staff ID"),
    ("name", "Full name"),
    ("known_as", "Known as"),
    ("role", "Role (staff, office, admin)"),
    ("classes", "Classes"),
    ("email", "Email"),
]
_ITEM_FIELDS = [
    ("asset_tag", "Asset tag"),
    ("name", "Name"),
    ("kind", "Kind"),
    ("home_class", "Home class"),
    ("phone_number", "Phone number"),
    ("contents", "Contents (iPads:30; ...)"),
    ("status", "Status (available, damaged, lost, retired)"),
    ("notes", "Notes"),
]


class FormScreen(AdminPage):
    """Add or edit one person or item, with the same checks as a CSV line (``kiosk.importer``)."""

    def __init__(self, what: str, record: StaffView | ItemView | None, until: float | None) -> None:
        super().__init__(until)
        self.what = what
        self.record = record

    def _values(self) -> dict[str, str]:
        r = self.record
        if isinstance(r, StaffView):
            return {
                "staff_id": r.staff_id,
                "name": r.name,
                "known_as": r.greeting if r.greeting != r.name else "",
                "role": r.role,
                "classes": " ".join(r.classes),
                "email": r.email,
            }
        if isinstance(r, ItemView):
            return {
                "asset_tag": r.asset_tag,
                "name": r.name,
                "kind": r.kind,
                "home_class": r.home_class,
                "phone_number": r.phone_number,
                "contents": format_contents({"name": c.name, "count": c.count} for c in r.contents),
                "status": r.status,
                "notes": r.notes,
            }
        return (
            {"role": "staff"} if self.what == "staff" else {"kind": "other", "status": "available"}
        )

    def compose(self) -> ComposeResult:
        action = "edit" if self.record else "add"
        noun = "a member of staff" if self.what == "staff" else "an item"
        yield self.title_bar(f"Admin: {action} {noun}")
        values = self._values()
        fields = _STAFF_FIELDS if self.what == "staff" else _ITEM_FIELDS
        with VerticalScroll(id="form"):
            for key, label in fields:
                with Horizontal(classes="fields"):
                    yield Label(f"{label}:", classes="field-label form-label")
                    # The reference is how a record is found (as in a CSV import): fixed
                    # once the record exists.
                    locked = self.record is not None and key in ("staff_id", "asset_tag")
                    yield Input(values.get(key, ""), id=f"f-{key}", disabled=locked)
        if self.what == "items":
            kinds = ", ".join(self.host.settings.kinds)
            yield Static(f"Kinds: {kinds}", classes="hint")
        yield Static("", id="result", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Save", id="save", variant="success")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.say("result", "")
        self.query(Input).first().focus()

    def _form(self) -> dict[str, str]:
        fields = _STAFF_FIELDS if self.what == "staff" else _ITEM_FIELDS
        return {key: self.query_one(f"#f-{key}", Input).value for key, _ in fields}

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def _save(self) -> None:
        row, service = self._form(), self.host.service
        save = save_staff if self.what == "staff" else save_item
        self.host.call(
            lambda: save(service.settings, service.clock, row),
            self._saved,
            lambda e: self.say("result", str(e)),
        )

    def _saved(self, message: str) -> None:
        self.notify(message)
        self.dismiss()

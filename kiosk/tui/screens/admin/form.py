"""One person or item, added or edited at the kiosk, checked like a line of a CSV import."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from kiosk.importer import ImportReport, Plan, apply, preview_record
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

    def __init__(
        self,
        what: str,
        record: StaffView | ItemView | None,
        admin: StaffView,
        until: float | None,
    ) -> None:
        super().__init__(until)
        self.what = what
        self.record = record
        self.admin = admin
        self.confirming: Plan | None = None  # a change to the admin's own record, asked about

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
                "kind": r.kind_label,
                "home_class": r.home_class,
                "phone_number": r.phone_number,
                "contents": format_contents({"name": c.name, "count": c.count} for c in r.contents),
                "status": r.status,
                "notes": r.notes,
            }
        return (
            {"role": "staff"}
            if self.what == "staff"
            else {"kind": self.host.settings.kind("other").label, "status": "available"}
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
            kinds = ", ".join(rule.label for rule in self.host.settings.kinds.values())
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
        plan, host = self.confirming, self.host
        if plan is not None:  # the admin said yes to changing their own record
            self._apply(plan)
            return
        row, what = self._form(), self.what
        self.host.call(lambda: preview_record(what, row, host.settings), self._looked, self._failed)

    def _looked(self, plan: Plan) -> None:
        question = plan.asks_first(self.admin.id)
        if question:
            self.confirming = plan
            self.say("result", question)
            self.query_one("#save", Button).label = "Yes, save it"
            return
        self._apply(plan)

    def _apply(self, plan: Plan) -> None:
        host = self.host

        def saved(report: ImportReport) -> None:
            rows = (*plan.added, *plan.changed)
            name = str(rows[0].values.get("name", rows[0].name)) if rows else "Nothing changed"
            # Said on the list it returns to, not in a toast over its buttons.
            self.dismiss(f"{name} {'added' if report.added else 'saved'}." if rows else name + ".")

        self.host.call(lambda: apply(plan, host.settings, host.clock), saved, self._failed)

    @on(Input.Changed)
    def _edited(self) -> None:
        if self.confirming is not None:  # what was asked about is no longer what is typed
            self.confirming = None
            self.say("result", "")
            self.query_one("#save", Button).label = "Save"

    def _failed(self, error: Exception) -> None:
        self.confirming = None
        self.query_one("#save", Button).label = "Save"
        self.say("result", str(error))

"""Admin: the PIN, enrolling tags, staff and items, failed alerts, the end-of-day stock-take.

An admin badge opens the PIN screen; five wrong PINs lock admin for five
minutes (the service counts them). Enrolment and the stock-take collect tags
from the readers instead of signing things out: while they show, a tap is
theirs (``capture_tag``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Static

from kiosk.importer import ImportReport, import_items, import_staff, save_item, save_staff
from kiosk.records import format_contents
from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.screens.flow import focus_tag_entry
from kiosk.views import ActionResult, ItemView, LoanView, StaffView
from sync.status import FailedAlert, failed_alerts, retry_all_dead, retry_dead


class PinScreen(KioskScreen):
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
        staff_pk = self.staff.id
        self.kapp.call_service(
            lambda: self.kapp.service.check_admin_pin(staff_pk, pin), self._checked, self._refused
        )

    def _checked(self, ok: bool) -> None:
        self.query_one("#pin", Input).value = ""
        if ok:
            self.kapp.show(AdminScreen(self.staff))
        else:
            self.say("error", "Wrong PIN. Try again.")

    def _refused(self, error: Exception) -> None:
        self.query_one("#pin", Input).value = ""
        self.say("error", str(error))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.kapp.go_idle()


class AdminScreen(KioskScreen):
    timeout = 180.0
    wants_tag_entry = False

    def __init__(self, staff: StaffView) -> None:
        super().__init__()
        self.staff = staff

    def compose(self) -> ComposeResult:
        yield self.title_bar(f"Admin ({self.staff.name})")
        with Grid(id="admin-menu"):
            yield Button("Enrol a tag", id="enrol")
            yield Button("Stock-take", id="stock-take")
            yield Button("Staff", id="staff")
            yield Button("Items", id="items")
            yield Button("Failed alerts", id="alerts")
            yield Button("Import from a CSV file", id="import")
            yield Button("Done", id="done", variant="primary")
        yield Static("", classes="filler")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#enrol", Button).focus()

    @on(Button.Pressed, "#enrol")
    def _enrol(self) -> None:
        self.kapp.push_screen(EnrolScreen())

    @on(Button.Pressed, "#stock-take")
    def _stock(self) -> None:
        self.kapp.push_screen(StockTakeScreen())

    @on(Button.Pressed, "#staff")
    def _staff(self) -> None:
        self.kapp.push_screen(RecordsScreen("staff"))

    @on(Button.Pressed, "#items")
    def _items(self) -> None:
        self.kapp.push_screen(RecordsScreen("items"))

    @on(Button.Pressed, "#alerts")
    def _alerts(self) -> None:
        self.kapp.push_screen(FailedAlertsScreen())

    @on(Button.Pressed, "#import")
    def _import(self) -> None:
        self.kapp.push_screen(ImportScreen())

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.kapp.go_idle()


class SubScreen(KioskScreen):
    """An admin page: Back returns to the admin menu."""

    timeout = 180.0

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()


def _owners(service: Any, text: str) -> list[StaffView | ItemView]:
    return [*service.find_staff(text, limit=40), *service.find_items(text, limit=40)]


class EnrolScreen(SubScreen):
    """Tap a new tag, then choose whose it is."""

    def __init__(self) -> None:
        super().__init__()
        self.uid: str | None = None
        self.rows: list[StaffView | ItemView] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: enrol a tag")
        yield Static("Tap the new badge or item tag on the reader.", id="tag-state", classes="big")
        with Horizontal(classes="fields"):
            yield Input(placeholder="Find the person or item it is for", id="who")
        yield DataTable(cursor_type="row", id="owners")
        yield Static("", id="result", classes="prompt")
        with Horizontal(classes="buttons"):
            yield Button("Give the tag to the chosen one", id="give", variant="primary")
            yield Button("Back", id="back")
        yield from self.tag_entry()
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#owners", DataTable).add_columns("Name", "What", "Tag now")
        self.say("result", "")
        self.load()
        focus_tag_entry(self)

    def capture_tag(self, uid: str, reader: str) -> None:
        self.uid = uid
        self.kapp.feedback.accepted()
        self.kapp.call_service(lambda: self.kapp.service.tag_owner(uid), self._owner)

    def _owner(self, owner: str | None) -> None:
        state = f"Tag {self.uid}: " + (f"now {owner}." if owner else "not enrolled yet.")
        self.query_one("#tag-state", Static).update(state)
        self.query_one("#who", Input).focus()

    def load(self) -> None:
        text = self.query_one("#who", Input).value
        self.kapp.call_service(lambda: _owners(self.kapp.service, text), self._found)

    def _found(self, rows: list[StaffView | ItemView]) -> None:
        self.rows = rows
        table = self.query_one("#owners", DataTable)
        table.clear()
        for r in rows:
            if isinstance(r, StaffView):
                table.add_row(r.name, f"person ({r.role})", "has a badge" if r.has_badge else "-")
            else:
                table.add_row(r.name, r.kind_label.lower(), "has a tag" if r.has_tag else "-")

    @on(Input.Changed, "#who")
    def _changed(self) -> None:
        self.load()

    @on(Input.Submitted, "#who")
    def _submitted(self) -> None:
        self.query_one("#owners", DataTable).focus()

    @on(DataTable.RowSelected, "#owners")
    @on(Button.Pressed, "#give")
    def _give(self) -> None:
        if self.uid is None:
            self.say("result", "Tap the tag on the reader first.")
            return
        table = self.query_one("#owners", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            self.say("result", "Choose a person or an item first.")
            return
        row, uid, service = self.rows[table.cursor_row], self.uid, self.kapp.service
        if isinstance(row, StaffView):
            pk = row.id
            call: Callable[[], str] = lambda: service.enrol_tag(uid, staff_pk=pk)  # noqa: E731
        else:
            pk = row.id
            call = lambda: service.enrol_tag(uid, item_pk=pk)  # noqa: E731
        self.kapp.call_service(call, self._enrolled, self._failed)

    def _enrolled(self, message: str) -> None:
        self.say("result", message)
        self.uid = None
        self.query_one("#tag-state", Static).update("Tap the next tag, or Back.")
        self.load()

    def _failed(self, error: Exception) -> None:
        self.say("result", str(error))


class StockTakeScreen(SubScreen):
    """Tap every item in the cupboard; then what is missing, and who had it last."""

    timeout = 600.0

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: stock-take")
        yield Static("Tap every item in the cupboard, one by one.", id="count", classes="big")
        yield Static("", id="last", classes="prompt")
        yield DataTable(cursor_type="row", id="missing")
        with Horizontal(classes="buttons"):
            yield Button("Finished: show what is missing", id="finish", variant="primary")
            yield Button("Start again", id="again")
            yield Button("Back", id="back")
        yield from self.tag_entry()
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#missing", DataTable).add_columns("Item", "Where it is", "Who had it last")
        self.query_one("#missing").display = False
        self.say("last", "")
        focus_tag_entry(self)

    def capture_tag(self, uid: str, reader: str) -> None:
        self.seen.add(uid)
        self.kapp.feedback.accepted()
        self.query_one("#count", Static).update(f"{len(self.seen)} tags seen. Keep tapping.")
        self.kapp.call_service(lambda: self.kapp.service.tag_owner(uid), self._owner)

    def _owner(self, owner: str | None) -> None:
        self.say("last", f"Last: {owner}" if owner else "Last: a tag that is not enrolled")

    @on(Button.Pressed, "#finish")
    def _finish(self) -> None:
        seen = set(self.seen)
        service = self.kapp.service
        self.kapp.call_service(
            lambda: (service.stock_take(seen), service.out_but_here(seen)), self._missing
        )

    def _missing(
        self, found: tuple[list[tuple[ItemView, LoanView | None]], list[LoanView]]
    ) -> None:
        missing, here = found
        table = self.query_one("#missing", DataTable)
        table.clear()
        table.display = True
        gone = [(i, last) for i, last in missing if not (last and last.is_open)]
        out = [(i, last) for i, last in missing if last and last.is_open]
        for item, last in gone:
            who = "never borrowed"
            if last is not None:
                name = last.borrower.name if last.borrower else "(removed)"
                who = f"{name}, back {self._day(last.closed_at or last.out_at)}"
            table.add_row(item.name, "MISSING", who)
        for item, last in out:
            assert last is not None
            who = last.borrower.name if last.borrower else "-"
            where = "OVERDUE" if last.overdue else "out on loan"
            table.add_row(item.name, where, f"{who}, due {self._day(last.due_at)}")
        for loan in here:
            # In the cupboard, yet the records say someone has it: tapping it returns it.
            who = loan.borrower.name if loan.borrower else "-"
            table.add_row(loan.item.name, "HERE, shown as out", f"{who}: tap it to return it")
        summary = f"{len(self.seen)} tags seen. {len(gone)} missing, {len(out)} out on loan."
        if here:
            summary += f" {len(here)} here but shown as out."
        self.query_one("#count", Static).update(
            summary if missing or here else f"{len(self.seen)} tags seen. Everything is here."
        )
        self.say("last", "")

    def _day(self, instant: datetime | None) -> str:
        """ "14:05" today, else "Fri 20 Nov": short enough for 80 columns."""
        if instant is None:
            return "-"
        local = self.kapp.calendar.local(instant)
        if local.date() == self.kapp.calendar.local(self.kapp.clock.now()).date():
            return local.strftime("%H:%M")
        return f"{local.strftime('%a')} {local.day} {local.strftime('%b')}"

    @on(Button.Pressed, "#again")
    def _again(self) -> None:
        self.seen.clear()
        self.query_one("#missing").display = False
        self.query_one("#count", Static).update("Tap every item in the cupboard, one by one.")
        self.say("last", "")


class FailedAlertsScreen(SubScreen):
    """Alerts the sync process gave up on, newest first; send one or all again."""

    wants_tag_entry = False

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[FailedAlert] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: failed alerts")
        yield Static("", id="summary", classes="heading")
        yield DataTable(cursor_type="row", id="failed")
        with Horizontal(classes="buttons"):
            yield Button("Try this one again", id="retry")
            yield Button("Try all again", id="retry-all")
            yield Button("Back", id="back")
        yield Static("", id="result", classes="prompt")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#failed", DataTable).add_columns("Alert", "Raised", "Why it failed")
        self.say("result", "")
        self.load()

    def load(self) -> None:
        self.kapp.call_service(failed_alerts, self._loaded)

    def _loaded(self, alerts: list[FailedAlert]) -> None:
        self.alerts = alerts
        table = self.query_one("#failed", DataTable)
        table.clear()
        for a in alerts:
            table.add_row(a.summary, self.kapp.local_time(a.created_at), a.error[:60])
        self.say(
            "summary",
            f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} could not be delivered. "
            "Check the alert settings and the network, then try again."
            if alerts
            else "No alert has failed.",
        )
        for b in self.query("#retry, #retry-all").results(Button):
            b.disabled = not alerts

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        table = self.query_one("#failed", DataTable)
        if not self.alerts or table.cursor_row >= len(self.alerts):
            return
        alert_id, clock = self.alerts[table.cursor_row].outbox_id, self.kapp.clock
        self.kapp.call_service(lambda: retry_dead(alert_id, clock), self._retried)

    @on(Button.Pressed, "#retry-all")
    def _retry_all(self) -> None:
        clock = self.kapp.clock
        self.kapp.call_service(lambda: retry_all_dead(clock), self._retried)

    def _retried(self, count: int) -> None:
        self.say(
            "result",
            "Queued to send again: the sync process sends them on its next pass."
            if count
            else "Nothing to send again.",
        )
        self.load()
        self.kapp.refresh_status()


class ImportScreen(SubScreen):
    """Import the staff or item list from a CSV file (e.g. on a USB stick): all or nothing.

    The same checks as ``kiosk import`` (``kiosk.importer``); every bad line is listed.
    """

    wants_tag_entry = False

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
        path, service = Path(raw).expanduser(), self.kapp.service
        importer = import_staff if event.button.id == "import-staff" else import_items
        self.query_one("#result", Static).update("Reading the file...")
        self.kapp.call_service(
            lambda: importer(path, service.settings, service.clock), self._imported, self._failed
        )

    def _imported(self, report: ImportReport) -> None:
        self.query_one("#result", Static).update(f"Imported. {report.summary()}")
        self.kapp.refresh_status()

    def _failed(self, error: Exception) -> None:
        self.query_one("#result", Static).update(str(error))


# --- staff and items -----------------------------------------------------------------

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


class RecordsScreen(SubScreen):
    """Find, add and edit staff (``what="staff"``) or items (``what="items"``)."""

    wants_tag_entry = False

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self.rows: list[Any] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar(f"Admin: {self.what}")
        with Horizontal(classes="fields"):
            yield Input(placeholder="Find by name or reference", id="find")
        yield DataTable(cursor_type="row", id="records")
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

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        text, service = self.query_one("#find", Input).value, self.kapp.service
        if self.what == "staff":
            self.kapp.call_service(lambda: service.find_staff(text, limit=200), self._found)
        else:
            self.kapp.call_service(lambda: service.find_items(text, limit=200), self._found)

    def _found(self, rows: list[Any]) -> None:
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
                    r.name, r.asset_tag, r.kind_label, r.status, "yes" if r.has_tag else "NO"
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
        self.kapp.push_screen(FormScreen(self.what, None))

    @on(DataTable.RowSelected, "#records")
    @on(Button.Pressed, "#edit")
    def _edit(self) -> None:
        row = self._chosen()
        if row is not None:
            self.kapp.push_screen(FormScreen(self.what, row))

    @on(Button.Pressed, "#active")
    def _active(self) -> None:
        row = self._chosen()
        if isinstance(row, StaffView):
            pk, active = row.id, not row.active
            reason = "" if active else "switched off at the kiosk"
            self.kapp.call_service(
                lambda: self.kapp.service.set_staff_active(pk, active, reason),
                self._switched,
                lambda e: self.say("result", str(e)),
            )

    def _switched(self, result: ActionResult) -> None:
        self.say("result", result.message)
        self.load()


class FormScreen(SubScreen):
    """Add or edit one person or item; the checks are in ``kiosk.edits``."""

    wants_tag_entry = False

    def __init__(self, what: str, record: StaffView | ItemView | None) -> None:
        super().__init__()
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
            kinds = ", ".join(self.kapp.settings.kinds)
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
        row, service = self._form(), self.kapp.service
        save = save_staff if self.what == "staff" else save_item
        self.kapp.call_service(
            lambda: save(service.settings, service.clock, row),
            self._saved,
            lambda e: self.say("result", str(e)),
        )

    def _saved(self, message: str) -> None:
        self.notify(message)
        self.dismiss()

"""The admin menu: enrol, stock-take, staff, items, failed alerts, import, web accounts."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Button, Static

from kiosk.tui.screens.admin.enrol import EnrolScreen
from kiosk.tui.screens.admin.failed_alerts import FailedAlertsScreen
from kiosk.tui.screens.admin.import_csv import ImportScreen
from kiosk.tui.screens.admin.page import AdminPage
from kiosk.tui.screens.admin.records import RecordsScreen
from kiosk.tui.screens.admin.stock_take import StockTakeScreen
from kiosk.tui.screens.admin.web_accounts import WebAccountsScreen
from kiosk.views import StaffView


class AdminScreen(AdminPage):
    """The admin menu, for as long as the admin visit lasts."""

    def __init__(self, staff: StaffView, until: float | None) -> None:
        super().__init__(until)
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
            yield Button("Web accounts", id="web-accounts")
            yield Button("Done", id="done", variant="primary")
        yield Static("", classes="filler")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#enrol", Button).focus()

    def action_back(self) -> None:
        self.host.go_idle()

    @on(Button.Pressed, "#enrol")
    def _enrol(self) -> None:
        self.host.open(EnrolScreen(self.deadline))

    @on(Button.Pressed, "#stock-take")
    def _stock(self) -> None:
        self.host.open(StockTakeScreen(self.deadline, self.staff))

    @on(Button.Pressed, "#staff")
    def _staff(self) -> None:
        self.host.open(RecordsScreen("staff", self.staff, self.deadline))

    @on(Button.Pressed, "#items")
    def _items(self) -> None:
        self.host.open(RecordsScreen("items", self.staff, self.deadline))

    @on(Button.Pressed, "#alerts")
    def _alerts(self) -> None:
        self.host.open(FailedAlertsScreen(self.deadline))

    @on(Button.Pressed, "#import")
    def _import(self) -> None:
        self.host.open(ImportScreen(self.staff, self.deadline))

    @on(Button.Pressed, "#web-accounts")
    def _web_accounts(self) -> None:
        self.host.open(WebAccountsScreen(self.deadline))

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.host.go_idle()

"""Alerts the sync process gave up on, and why; send one or all of them again."""

from __future__ import annotations

import textwrap

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from kiosk.tui.screens.admin.page import AdminPage
from kiosk.views import FailedAlert


class FailedAlertsScreen(AdminPage):
    """Alerts the sync process gave up on, newest first; send one or all again."""

    def __init__(self, until: float | None) -> None:
        super().__init__(until)
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
        self.host.call(self.host.alerts.failed, self._loaded)

    def _loaded(self, alerts: list[FailedAlert]) -> None:
        self.alerts = alerts
        table = self.query_one("#failed", DataTable)
        table.clear()
        for a in alerts:
            raised = self.host.local_time(a.created_at)
            # The whole reason, wrapped into what is left of the width: it says what to fix.
            room = max(24, table.size.width - 26 - len(raised) - 8)
            summary = textwrap.wrap(a.summary, 26) or [""]
            why = textwrap.wrap(a.error, room) or [""]
            height = max(len(summary), len(why))
            table.add_row("\n".join(summary), raised, "\n".join(why), height=height)
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
        alert_id, alerts = self.alerts[table.cursor_row].outbox_id, self.host.alerts
        self.host.call(lambda: alerts.retry(alert_id), self._retried)

    @on(Button.Pressed, "#retry-all")
    def _retry_all(self) -> None:
        self.host.call(self.host.alerts.retry_all, self._retried)

    def _retried(self, count: int) -> None:
        self.say(
            "result",
            "Queued to send again: the sync process sends them on its next pass."
            if count
            else "Nothing to send again.",
        )
        self.load()
        self.host.refresh_status()

"""The office's day: what needs doing first, then the personal calls, the loans and returns.

One read of the service (``LoanService.day``, the same facts as ``kiosk export day``, the
end-of-day summary alert and ``kiosk web``'s Today page), shown as one table in the order
of ``kiosk.views.day_lines``: overdue items, what the stock-take found missing or
here-but-shown-out, short counts, damage and losses first; then the personal calls; then
each loan and return in the order they happened. Previous day /
Next day walk through the week; a trip phone's line opens its personal calls, so the
office can record them afterwards (Appendix 5); any other line opens the item's history.
"""

from __future__ import annotations

from datetime import date, timedelta

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.screens.calls import CallsScreen, day_label
from kiosk.tui.screens.history import HistoryScreen
from kiosk.tui.widgets.tables import more_below, rows_out_of_sight, short_text
from kiosk.views import DayLine, DayReport, StaffView, day_lines


class TodayScreen(KioskScreen):
    """The day's report for the office; the day before and after one press away."""

    timeout = 180.0
    wants_tag_entry = False

    def __init__(self, staff: StaffView | None = None, day: date | None = None) -> None:
        super().__init__()
        self.staff = staff
        self.day = day
        self.report: DayReport | None = None
        self.lines: list[DayLine] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Office: the day")
        yield Static("", id="today-title", classes="heading")
        yield Static("", id="today-headline")
        yield DataTable(cursor_type="row", id="today")
        with Horizontal(classes="buttons"):
            yield Button("Day before", id="day-before")
            yield Button("Day after", id="day-after")
            yield Button("Personal calls", id="calls")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#today", DataTable).add_columns("", "Time", "Item", "Who", "")
        self.load()

    def resumed(self) -> None:
        super().resumed()
        self.load()  # calls recorded meanwhile

    def load(self) -> None:
        service, day = self.host.service, self.day
        self.host.call(lambda: service.day(day), self._loaded, self._failed)

    def _loaded(self, report: DayReport) -> None:
        self.report, self.day = report, report.day
        today = self.host.calendar.local(self.host.clock.now()).date()
        when = day_label(report.day) + (" (today)" if report.day == today else "")
        self.say("today-title", when)
        # Once drawn: say if some lines do not fit (80x24), rather than end as if complete.
        self.call_after_refresh(self._say_what_does_not_fit, when)
        headline = f"{report.headline}."
        take = report.stock_take
        if take is not None:
            hhmm = self.host.calendar.local(take.at).strftime("%H:%M")
            headline += f" Stock-take {hhmm}: {take.summary}."
        else:
            headline += " No stock-take saved."
        self.say("today-headline", headline)
        self.query_one("#day-after", Button).disabled = report.day >= today
        self.lines = day_lines(report)
        table = self.query_one("#today", DataTable)
        table.clear()
        # Item and person keep their width; the last column has what is left (80 columns).
        detail_width = max(12, self.size.width - 62)
        now = self.host.clock.now()
        for line in self.lines:
            hhmm = self.host.calendar.local(line.at).strftime("%H:%M") if line.at else ""
            detail = line.detail
            if line.what == "OVERDUE" and line.at is not None:
                # Often due on another day: the day too, where a time alone would mislead.
                due = self.host.calendar.local(line.at).date()
                today = self.host.calendar.local(now).date()
                detail = "due today" if due == today else f"due {due:%a} {due.day} {due:%b}"
            table.add_row(
                line.what,
                hhmm,
                short_text(line.name, 20),
                short_text(line.who, 16),
                short_text(detail, detail_width),
            )
        table.focus()

    def _say_what_does_not_fit(self, when: str) -> None:
        if hidden := more_below(rows_out_of_sight(self.query_one("#today", DataTable))):
            self.say("today-title", f"{when}: {hidden}")

    def _failed(self, error: Exception) -> None:
        self.say("today-headline", str(error))

    def _chosen(self) -> DayLine | None:
        table = self.query_one("#today", DataTable)
        if not self.lines or not 0 <= table.cursor_row < len(self.lines):
            self.notify("Choose a line first.")
            return None
        return self.lines[table.cursor_row]

    @on(Button.Pressed, "#day-before")
    def _before(self) -> None:
        if self.day is not None:
            self.day -= timedelta(days=1)
            self.load()

    @on(Button.Pressed, "#day-after")
    def _after(self) -> None:
        if self.day is not None:
            self.day += timedelta(days=1)
            self.load()

    @on(Button.Pressed, "#calls")
    def _calls(self) -> None:
        line = self._chosen()
        if line is not None:
            self._open_calls(line)

    def _takes_calls(self, line: DayLine) -> bool:
        if line.what == "Call":
            return True
        return bool(line.kind) and "personal_calls" in self.host.settings.kind(line.kind).checklist

    def _open_calls(self, line: DayLine) -> None:
        if line.loan_id is None or not self._takes_calls(line):
            self.notify("Choose a trip phone's line, then Personal calls.")
            return
        if line.loan is not None:
            self.host.open(CallsScreen(line.loan, self.staff))
            return
        service, loan_id = self.host.service, line.loan_id
        self.host.call(
            lambda: service.loan(loan_id),
            lambda loan: self.host.open(CallsScreen(loan, self.staff)),
            self._failed,
        )

    @on(DataTable.RowSelected, "#today")
    def _row_chosen(self) -> None:
        line = self._chosen()
        if line is None:
            return
        if self._takes_calls(line):
            self._open_calls(line)
        elif line.item is not None:
            self.host.open(HistoryScreen(item=line.item))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()

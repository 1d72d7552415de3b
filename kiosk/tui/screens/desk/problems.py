"""Open problems: trolleys short, damage, images left on a camera, lost items.

Each stays on the list until the office records what happened (found, repaired,
written off, images erased), with a few words; writing off needs a reason. Only
the answers that fit the chosen problem are offered. "Dealt with" shows the recent
answers, who gave them and when.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Static

from kiosk.tui.screens.desk.page import DeskPage
from kiosk.views import RESOLUTIONS, ActionResult, ProblemList, ProblemView, StaffView

#: Longest texts in the table's columns, so that it fits 80 columns; the whole summary of
#: the chosen line is under the table.
ITEM_WIDTH = 20
WHAT_WIDTH = 24
WHO_WIDTH = 13
ANSWER_WIDTH = 26


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


class ProblemsScreen(DeskPage):
    """The open problems, oldest first; record what happened to the chosen one."""

    def __init__(self, by: StaffView) -> None:
        super().__init__(by)
        self.problems: list[ProblemView] = []
        self.dealt_with = False

    def compose(self) -> ComposeResult:
        yield self.title_bar("Office: open problems")
        yield Static("", id="count", classes="heading")
        yield DataTable(cursor_type="row", id="problems")
        yield Static("", id="summary", classes="summary")
        with Horizontal(classes="fields", id="note-row"):
            yield Label("What happened:", classes="field-label")
            yield Input(placeholder="a few words (needed to write off)", id="note")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            for key, label in RESOLUTIONS.items():
                yield Button(label, id=f"r-{key}", classes="resolve")
            yield Button("Dealt with", id="dealt-with")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.say("error", "")
        self.load()

    def load(self) -> None:
        service = self.host.service
        if self.dealt_with:
            self.host.call(service.resolved_problems, self._loaded)
        else:
            self.host.call(service.open_problem_list, self._listed)

    def _listed(self, listed: ProblemList) -> None:
        self._loaded(listed.shown, listed.count_text())

    def _loaded(self, problems: list[ProblemView], count: str = "") -> None:
        self.problems = problems
        table = self.query_one("#problems", DataTable)
        table.clear(columns=True)
        if self.dealt_with:
            table.add_columns("Item", "Problem", "What happened")
            for p in problems:
                table.add_row(
                    _short(p.item.name, ITEM_WIDTH),
                    _short(p.what, WHAT_WIDTH),
                    _short(self._answer(p), ANSWER_WIDTH),
                )
            n = len(problems)
            self.say("count", f"Dealt with lately: {n}" if n else "Nothing dealt with yet.")
        else:
            table.add_columns("Item", "Problem", "Since", "Last with")
            for p in problems:
                who = _short(p.last_with.greeting, WHO_WIDTH) if p.last_with else "-"
                since = p.since_text.removeprefix("since ")
                table.add_row(
                    _short(p.item.name, ITEM_WIDTH), _short(p.what, WHAT_WIDTH), since, who
                )
            self.say("count", f"{count}, oldest first:" if problems else "No open problems.")
        self.query_one("#dealt-with", Button).label = (
            "Open ones" if self.dealt_with else "Dealt with"
        )
        self.query_one("#note-row").display = not self.dealt_with and bool(problems)
        self._highlighted()
        table.focus()

    def _answer(self, p: ProblemView) -> str:
        said = RESOLUTIONS.get(p.resolution or "", p.resolution or "").lower()
        if p.resolved_by is not None:
            said += f" ({p.resolved_by.greeting}"
            if p.resolved_at is not None:
                said += f", {self.host.local_time(p.resolved_at)}"
            said += ")"
        if p.resolution_note:
            said += f": {p.resolution_note}"
        return said

    def _chosen(self) -> ProblemView | None:
        table = self.query_one("#problems", DataTable)
        if not self.problems or not 0 <= table.cursor_row < len(self.problems):
            return None
        return self.problems[table.cursor_row]

    @on(DataTable.RowHighlighted, "#problems")
    def _highlighted(self) -> None:
        p = self._chosen()
        summary = p.summary if p else ""
        if p is not None and p.time_uncertain:
            summary += " (time unsure: the clock was not set)"
        if p is not None and self.dealt_with:
            answer = self._answer(p)
            summary = f"{p.summary}. {answer[:1].upper()}{answer[1:]}."
        self.say("summary", summary)
        for b in self.query(".resolve").results(Button):
            key = (b.id or "").removeprefix("r-")
            b.display = p is not None and key in p.outcomes

    @on(Button.Pressed, ".resolve")
    def _resolve(self, event: Button.Pressed) -> None:
        p = self._chosen()
        if p is None:
            return
        outcome = (event.button.id or "").removeprefix("r-")
        note = self.query_one("#note", Input).value
        pid, by, service = p.id, self.by.id, self.host.service
        self.host.call(
            lambda: service.resolve_problem(pid, outcome, note, by), self._resolved, self.failed
        )

    def _resolved(self, result: ActionResult) -> None:
        self.query_one("#note", Input).value = ""
        self.say("error", result.message)
        self.load()

    @on(Button.Pressed, "#dealt-with")
    def _toggle(self) -> None:
        self.dealt_with = not self.dealt_with
        self.say("error", "")
        self.load()

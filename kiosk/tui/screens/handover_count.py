"""A trolley passed on without coming back (already recorded): the next teacher counts it.

So that anything missing is put down to the teacher who had it, not to the next one
or the one after. "All 30 here" is one press and the answer focused; "Some missing"
asks for the number. A shortfall tells SLT and goes on the office's list against the
previous loan (``LoanService.save_handover_count``).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from kiosk.errors import Refused
from kiosk.tui.screens.base import LoanResultScreen
from kiosk.tui.widgets.choices import CountQuestion
from kiosk.views import ActionResult, ContentLine


class HandoverCountScreen(LoanResultScreen):
    """ "iPad trolley A key is yours now. Passed on from Mrs Clarke: please count it." """

    timeout = 120.0

    def __init__(self, contents: tuple[ContentLine, ...]) -> None:
        super().__init__()
        self.contents = contents

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big ok")
        yield Static("", id="detail", classes="prompt")
        with VerticalScroll(id="checks"):
            for i, line in enumerate(self.contents):
                yield CountQuestion(line, i)
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Save", id="save", variant="success")
            yield Button("Undo", id="undo", variant="warning")
        yield self.status_line()

    def _fill(self) -> None:
        self._show_result()
        previous = self.result.previous if self.result else None
        who = previous.borrower.greeting if previous and previous.borrower else "someone"
        self.say("detail", f"Passed on from {who}. Please count what is in it now:")
        self.say("error", "")
        expected = {c.name: c.count for c in self.result.expected} if self.result else {}
        for q in self.query(CountQuestion).results(CountQuestion):
            q.reset(expected.get(q.what, q.total))
        self._focus_next()

    @on(CountQuestion.Answered)
    def _answered(self) -> None:
        self._focus_next()

    def _focus_next(self) -> None:
        for q in self.query(CountQuestion).results(CountQuestion):
            if not q.answered:
                q.focus_safe()
                return
        self.query_one("#save", Button).focus()

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        tap = self.result
        if tap is None or tap.previous is None:
            return
        try:
            counts = {q.what: q.count() for q in self.query(CountQuestion).results(CountQuestion)}
        except Refused as exc:
            self.say("error", str(exc))
            return
        service, previous = self.host.service, tap.previous.id
        self.host.call(
            lambda: service.save_handover_count(previous, counts), self._saved, self._failed
        )

    def _saved(self, result: ActionResult) -> None:
        tap = self.result
        assert tap is not None
        if tap.asks_return_time:  # counted: now the return time, as for any hand-over
            self.host.present(tap._replace(checklist=(), expected=()))
        elif result.warnings:
            self.host.done(tap.message, warnings=result.warnings)
        else:
            self.host.done(tap.message, f"{result.message} Back by {self.loan.due_text}.")

    @on(Button.Pressed, "#undo")
    def _undo_pressed(self) -> None:
        self._undo()

"""The item is back (already recorded): a few quick checks for its kind.

Counts for a trolley (iPads and headphones back), images erased for a camera,
charged and personal calls for a trip phone, and damage for everything: each kind's
checklist from the settings. Saving records the answers and raises what they call
for (a short count tells SLT, damage tells IT). Every answer is given, none is filled
in beforehand, and the answer focused on each question is the one that records
nothing bad ("All 30 here", No to damage), so Enter never reports a problem.
Personal calls are recorded one by one on their own screen (``calls``): Yes opens
it, and Save asks for at least one.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from kiosk.errors import Refused
from kiosk.tui.screens.base import LoanResultScreen
from kiosk.tui.screens.calls import CallsScreen
from kiosk.tui.widgets.choices import CountQuestion, YesNo
from kiosk.views import ActionResult, CallView, Checklist, ContentLine

_QUESTIONS = {
    "images": "Images moved to the staff drive and erased from the camera?",
    "charged": "Is it charged?",
    "personal_calls": "Personal calls, texts or emails made?",
    "damage": "Any damage?",
}
#: The answer to each question that records nothing bad (the one focused).
_SAFE = {"images": True, "charged": True, "personal_calls": False, "damage": False}


class ChecklistScreen(LoanResultScreen):
    """The item is back (already recorded): a few quick checks for its kind.

    One instance is kept per set of questions (kind and contents) and cleared
    for each return.
    """

    timeout = 120.0

    def __init__(self, checks: tuple[str, ...], contents: tuple[ContentLine, ...]) -> None:
        super().__init__()
        self.checks = checks
        self.contents = contents
        self.calls = 0  # personal calls recorded on this loan

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big ok")
        with VerticalScroll(id="checks"):
            if "count" in self.checks:
                for i, line in enumerate(self.contents):
                    yield CountQuestion(line, i)
            for key in ("images", "charged", "personal_calls", "damage"):
                if key in self.checks:
                    yield YesNo(_QUESTIONS[key], key, safe=_SAFE[key])
                if key == "personal_calls" and key in self.checks:
                    with Horizontal(id="call", classes="yesno"):
                        yield Label("", id="calls-count", classes="question")
                        yield Button("Record the calls", id="record-calls")
                if key == "damage" and key in self.checks:
                    yield Input(placeholder="What is damaged? A few words.", id="damage-note")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Save", id="save", variant="success")
            yield Button("Undo return", id="undo", variant="warning")
        yield self.status_line()

    def _fill(self) -> None:
        self._show_result()
        self.say("error", "")
        expected = {c.name: c.count for c in self.result.expected} if self.result else {}
        for count in self.query(CountQuestion).results(CountQuestion):
            count.reset(expected.get(count.what, count.total))
        for q in self.query(YesNo).results(YesNo):
            q.clear()
        for wid in ("#call", "#damage-note"):
            for panel in self.query(wid):
                panel.display = False
        for box in self.query("#damage-note").results(Input):
            box.value = ""
        self._show_calls([])
        self._focus_next_unanswered()

    @on(CountQuestion.Answered)
    def _counted(self) -> None:
        self._focus_next_unanswered()

    @on(YesNo.Answered)
    def _answered(self, event: YesNo.Answered) -> None:
        key, value = event.yesno.key, event.yesno.value
        if key == "personal_calls":
            self.query_one("#call").display = bool(value)
            if value:
                if not self.calls:
                    self._record_calls()
                else:
                    self.query_one("#record-calls", Button).focus()
                return
        if key == "damage":
            self.query_one("#damage-note").display = bool(value)
            if value:
                self.query_one("#damage-note", Input).focus()
                return
        self._focus_next_unanswered()

    def _focus_next_unanswered(self) -> None:
        """The next question not yet answered, on its answer that records nothing bad."""
        for count in self.query(CountQuestion).results(CountQuestion):
            if not count.answered:
                count.focus_safe()
                return
        for q in self.query(YesNo).results(YesNo):
            if q.value is None:
                q.focus_safe()
                return
        self.query_one("#save", Button).focus()

    def _answer(self, key: str) -> bool | None:
        found = self.query(f"#q-{key}").results(YesNo)
        q = next(iter(found), None)
        return q.value if q else None

    def _collect(self) -> Checklist:
        counts: dict[str, int] | None = None
        if "count" in self.checks and self.loan.item.contents:
            counts = {q.what: q.count() for q in self.query(CountQuestion).results(CountQuestion)}
        unanswered = [
            _QUESTIONS[k]
            for k in ("images", "charged", "personal_calls", "damage")
            if k in self.checks and self._answer(k) is None
        ]
        if unanswered:
            raise Refused(f"Please answer: {unanswered[0]}")
        calls = self._answer("personal_calls")
        if calls and not self.calls:
            raise Refused("Record each personal call (Record the calls), or answer No.")
        if calls is False and self.calls:
            n = self.calls
            raise Refused(f"{n} personal call{'s are' if n != 1 else ' is'} recorded: answer Yes.")
        damage: str | None = None
        if "damage" in self.checks:
            damage = ""
            if self._answer("damage"):
                damage = self.query_one("#damage-note", Input).value.strip()
                if not damage:
                    raise Refused("Say briefly what is damaged, or answer No.")
        return Checklist(
            counts=counts,
            images_erased=self._answer("images") if "images" in self.checks else None,
            charged=self._answer("charged") if "charged" in self.checks else None,
            personal_calls=self._answer("personal_calls")
            if "personal_calls" in self.checks
            else None,
            damage=damage,
        )

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        try:
            answers = self._collect()
        except Refused as exc:
            self.say("error", str(exc))
            return
        service, loan_id = self.host.service, self.loan.id
        self.host.call(lambda: service.save_checklist(loan_id, answers), self._saved, self._failed)

    @on(Input.Submitted, "#damage-note")
    def _field_done(self) -> None:
        self._focus_next_unanswered()

    @on(Button.Pressed, "#record-calls")
    def _record_calls(self) -> None:
        self.host.open(CallsScreen(self.loan))

    def resumed(self) -> None:
        """Back from the calls: how many are recorded now."""
        super().resumed()
        if "personal_calls" in self.checks and self.result is not None:
            service, loan_id = self.host.service, self.loan.id
            self.host.call(lambda: service.personal_calls(loan_id), self._show_calls)

    def _show_calls(self, calls: list[CallView]) -> None:
        self.calls = len(calls)
        n = self.calls
        for label in self.query("#calls-count").results(Label):
            label.update(f"{n} call{'s' if n != 1 else ''} recorded." if n else "No calls yet.")
        for button in self.query("#record-calls").results(Button):
            button.label = "See or add calls" if n else "Record the calls"
        if self.calls and self._answer("personal_calls"):
            self.say("error", "")
            self._focus_next_unanswered()

    def _saved(self, result: ActionResult) -> None:
        if result.warnings:
            self.host.done(f"{self.loan.item.name} is back.", warnings=result.warnings)
        else:
            self.host.done(f"{self.loan.item.name} is back.", result.message)

    @on(Button.Pressed, "#undo")
    def _undo_pressed(self) -> None:
        self._undo()

"""Answers in one press: a return time (three presets or a typed time), yes or no, a count.

Each widget handles its own buttons and box and posts one message saying what was
chosen, so every screen that asks the question handles the answer once. Where one
answer records nothing bad (no damage, all 30 here), that answer is the one a screen
focuses (``focus_safe``): Enter on a question never reports a problem by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label

from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.errors import Refused
from kiosk.tui import when
from kiosk.views import ContentLine


class TimeChoice(Vertical):
    """Three one-press return times and a box for any other time."""

    class Chosen(Message):
        """A return time was chosen (a preset pressed, or a time typed and Enter)."""

        def __init__(self, due: datetime) -> None:
            super().__init__()
            self.due = due

    class Unreadable(Message):
        """What was typed is not a time; ``why`` says what to type."""

        def __init__(self, why: str) -> None:
            super().__init__()
            self.why = why

    def __init__(self, calendar: SchoolCalendar, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calendar = calendar
        self.clock = clock
        self.presets = when.presets(calendar, clock.now())

    def compose(self) -> ComposeResult:
        with Horizontal(classes="presets"):
            for p in self.presets:
                first, _, second = p.label.partition(", ")
                yield Button(f"{first}\n{second}", id=f"preset-{p.key}", classes="preset")
        with Horizontal(classes="fields"):
            yield Label("Other time:", classes="field-label")
            yield Input(placeholder="e.g. 14:45 or tomorrow 12:00", id="custom")

    def refresh_presets(self) -> None:
        """Recompute the choices for now and clear the typed time."""
        self.presets = when.presets(self.calendar, self.clock.now())
        for p in self.presets:
            first, _, second = p.label.partition(", ")
            self.query_one(f"#preset-{p.key}", Button).label = f"{first}\n{second}"
        self.query_one("#custom", Input).value = ""

    @on(Button.Pressed, ".preset")
    def _preset(self, event: Button.Pressed) -> None:
        event.stop()
        key = (event.button.id or "").removeprefix("preset-")
        preset = next(p for p in self.presets if p.key == key)
        self.post_message(TimeChoice.Chosen(preset.due))

    @on(Input.Submitted, "#custom")
    def _custom(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            due = when.parse_time(event.value, self.calendar, self.clock.now())
        except when.BadTime as exc:
            self.post_message(TimeChoice.Unreadable(str(exc)))
            return
        self.post_message(TimeChoice.Chosen(due))


class YesNo(Horizontal):
    """A question answered by one of two buttons; the chosen one stays lit."""

    class Answered(Message):
        """Sent when the question is answered."""

        def __init__(self, yesno: YesNo) -> None:
            super().__init__()
            self.yesno = yesno

    def __init__(self, question: str, key: str, *, safe: bool = False) -> None:
        super().__init__(classes="yesno", id=f"q-{key}")
        self.question = question
        self.key = key
        self.safe = safe
        """The answer that records nothing bad (No to "Any damage?")."""
        self.value: bool | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.question, classes="question")
        yield Button("Yes", id=f"{self.key}-yes", classes="answer")
        yield Button("No", id=f"{self.key}-no", classes="answer")

    @on(Button.Pressed, ".answer")
    def _answer(self, event: Button.Pressed) -> None:
        event.stop()
        self.value = (event.button.id or "").endswith("-yes")
        for b in self.query(".answer").results(Button):
            b.set_class(b is event.button, "chosen")
        self.post_message(YesNo.Answered(self))

    def clear(self) -> None:
        self.value = None
        for b in self.query(".answer").results(Button):
            b.remove_class("chosen")

    def focus_safe(self) -> None:
        """Focus the answer that records nothing bad."""
        self.query_one(f"#{self.key}-{'yes' if self.safe else 'no'}", Button).focus()


class CountQuestion(Horizontal):
    """How many came back: "All 30 here" in one press, or "Some missing" and a number.

    Nothing is filled in beforehand: the person answers. ``expected`` is what should be
    there now (the contents less what is already known missing); the box takes any
    number up to the full ``total``.
    """

    class Answered(Message):
        """Sent when "All here" is pressed, or a number is typed and Enter pressed."""

        def __init__(self, question: CountQuestion) -> None:
            super().__init__()
            self.question = question

    def __init__(self, line: ContentLine, index: int) -> None:
        super().__init__(classes="count", id=f"count-{index}")
        self.what = line.name
        self.total = line.count
        self.expected = line.count
        self.index = index
        self.all_here: bool | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._question(), classes="count-question")
        yield Button(self._all(), id=f"all-{self.index}", classes="answer-wide")
        yield Button("Some missing", id=f"some-{self.index}", classes="answer-wide")
        yield Input(
            placeholder="how many?", id=f"how-many-{self.index}", type="integer", classes="number"
        )

    def _question(self) -> str:
        missing = self.total - self.expected
        return f"{self.what}" + (f" ({missing} missing)" if missing else "") + ":"

    def _all(self) -> str:
        return f"All {self.expected} here"

    def reset(self, expected: int) -> None:
        """Ask afresh, for ``expected`` (what should be there now)."""
        self.expected = expected
        self.all_here = None
        self.query_one(Label).update(self._question())
        self.query_one(f"#all-{self.index}", Button).label = self._all()
        for b in self.query("Button").results(Button):
            b.remove_class("chosen")
        box = self.query_one(Input)
        box.value = ""
        box.display = False

    @property
    def answered(self) -> bool:
        return self.all_here is True or (
            self.all_here is False and bool(self.query_one(Input).value.strip())
        )

    def count(self) -> int:
        """The number counted, checked; refused in words when it cannot be right."""
        if self.all_here:
            return self.expected
        raw = self.query_one(Input).value.strip()
        if self.all_here is None or not raw:
            raise Refused(
                f"How many {self.what} are here? Press All {self.expected} here, "
                "or Some missing and type the number."
            )
        if not raw.isdigit() or int(raw) > self.total:
            raise Refused(f"Type how many {self.what} are here (0 to {self.total}).")
        return int(raw)

    def focus_safe(self) -> None:
        self.query_one(f"#all-{self.index}", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.all_here = (event.button.id or "").startswith("all-")
        for b in self.query("Button").results(Button):
            b.set_class(b is event.button, "chosen")
        box = self.query_one(Input)
        box.display = not self.all_here
        if self.all_here:
            box.value = ""
            self.post_message(CountQuestion.Answered(self))
        else:
            box.focus()

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(CountQuestion.Answered(self))

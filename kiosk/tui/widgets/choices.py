"""Answers in one press: a return time (three presets or a typed time), and yes or no.

Each widget handles its own buttons and box and posts one message saying what was
chosen, so every screen that asks the question handles the answer once.
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
from kiosk.tui import when


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

    def __init__(self, question: str, key: str) -> None:
        super().__init__(classes="yesno", id=f"q-{key}")
        self.question = question
        self.key = key
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

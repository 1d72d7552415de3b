"""The tap flow: hello, yours / back / refused, the trip phone's return time, the checklist.

Each screen says one thing in words, large, and offers at most a few buttons.
A tap on the reader always wins: whatever is showing is replaced by the new
result (the app's ``show``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from kiosk.calendar import SchoolCalendar
from kiosk.errors import Refused
from kiosk.tui import when
from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.widgets import LoanTable
from kiosk.views import ActionResult, Checklist, LoanView, Outcome, StaffView, TapResult


def screen_for(result: TapResult) -> KioskScreen | None:
    """The screen that shows a tap's result, or None for a tap that needs no answer."""
    o = result.outcome
    if o is Outcome.IGNORED:
        return None
    if o is Outcome.SESSION_STARTED and result.staff is not None:
        return SessionScreen(result.staff, list(result.loans), result.message)
    if o in (Outcome.SIGNED_OUT, Outcome.HANDED_OVER) and result.asks_return_time and result.loan:
        return ReturnTimeScreen(result)
    if o is Outcome.RETURNED and result.checklist and result.loan:
        return ChecklistScreen(result)
    if result.refused:
        return RefusalScreen(result.message, result.detail)
    return DoneScreen(result.message, result.detail,
                      undo=o in (Outcome.SIGNED_OUT, Outcome.HANDED_OVER, Outcome.RETURNED))


class SessionScreen(KioskScreen):
    """After a badge: hello, what you have out, tap an item."""

    def __init__(self, staff: StaffView, loans: list[LoanView], greeting: str) -> None:
        super().__init__()
        self.staff = staff
        self.loans = loans
        self.greeting = greeting

    def on_mount(self) -> None:
        # The screen and the service's session end together.
        self.timeout = self.kapp.settings.kiosk.session_seconds
        if self._idle_timer is not None:
            self._idle_timer.stop()
        self._idle_timer = self.set_timer(self.timeout, self.timed_out)
        if self.loans:
            self.query_one(LoanTable).show(self.loans)
        tag = self.query("#tag")
        if tag:
            tag.first().focus()

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static(self.greeting, id="hello", classes="big ok")
        yield Static("Tap an item.", id="tap-item", classes="prompt")
        if self.loans:
            n = len(self.loans)
            yield Static(f"You have {n} item{'s' if n != 1 else ''} out:", classes="heading")
            yield LoanTable(with_borrower=False, id="mine")
        else:
            yield Static("You have nothing out.", classes="heading")
            yield Static("", classes="filler")
        with Horizontal(classes="buttons"):
            if self.loans:
                yield Button("My items", id="my-items")
            if self.staff.role in ("office", "admin"):
                yield Button("Office board", id="office")
            if self.staff.is_admin:
                yield Button("Admin", id="admin")
            yield Button("Done", id="done", variant="primary")
        yield from self.tag_entry()
        yield self.status_line()

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.kapp.go_idle()

    @on(Button.Pressed, "#my-items")
    def _my_items(self) -> None:
        from kiosk.tui.screens.myitems import MyItemsScreen

        self.kapp.push_screen(MyItemsScreen(self.staff))

    @on(Button.Pressed, "#office")
    def _office(self) -> None:
        from kiosk.tui.screens.office import OfficeScreen

        self.kapp.push_screen(OfficeScreen())

    @on(Button.Pressed, "#admin")
    def _admin(self) -> None:
        from kiosk.tui.screens.admin import PinScreen

        self.kapp.push_screen(PinScreen(self.staff))


class DoneScreen(KioskScreen):
    """A confirmation in words, with Undo for as long as the service allows it."""

    def __init__(self, message: str, detail: str = "", *, undo: bool = False,
                 warnings: tuple[str, ...] = (), refused: bool = False) -> None:
        super().__init__()
        self.message = message
        self.detail = detail
        self.undo = undo
        self.warnings = warnings
        self.refused = refused
        self._left = 0

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        kind = "refused" if self.refused else ("warn" if self.warnings else "ok")
        yield Static(self.message, id="message", classes=f"big {kind}")
        yield Static(self.detail, id="detail", classes="prompt")
        for w in self.warnings:
            yield Static(w, classes="warning")
        with Horizontal(classes="buttons"):
            if self.undo:
                yield Button("Undo", id="undo", variant="warning")
            yield Button("OK", id="ok", variant="primary")
        yield Static("", classes="filler")
        yield from self.tag_entry()
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#detail", Static).display = bool(self.detail)
        seconds = self.kapp.settings.kiosk.undo_seconds if self.undo else 6.0
        if self._idle_timer is not None:
            self._idle_timer.stop()
        self._idle_timer = self.set_timer(seconds, self.timed_out)
        if self.undo:
            self._left = int(seconds)
            self._draw_undo()
            self.set_interval(1.0, self._tick, repeat=self._left)
        tag = self.query("#tag")
        if tag:
            tag.first().focus()

    def touch(self) -> None:
        pass  # the undo window does not grow because someone touched the screen

    def _tick(self) -> None:
        self._left = max(0, self._left - 1)
        self._draw_undo()

    def _draw_undo(self) -> None:
        for b in self.query("#undo").results(Button):
            b.label = f"Undo ({self._left} s)"
            b.disabled = self._left <= 0

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.kapp.go_idle()

    @on(Button.Pressed, "#undo")
    def _undo(self) -> None:
        self.kapp.call_service(self.kapp.service.undo, self._undone, self._not_undone)

    def _undone(self, result: TapResult) -> None:
        self.kapp.show(DoneScreen(result.message, "Nothing else to do."))

    def _not_undone(self, error: Exception) -> None:
        self.kapp.show(RefusalScreen(str(error), ""))


class RefusalScreen(KioskScreen):
    """Why not, and what to do instead."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__()
        self.message = message
        self.detail = detail

    timeout = 8.0

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static(self.message, id="message", classes="big refused")
        yield Static(self.detail, id="detail", classes="prompt")
        with Horizontal(classes="buttons"):
            yield Button("OK", id="ok", variant="primary")
        yield Static("", classes="filler")
        yield from self.tag_entry()
        yield self.status_line()

    def on_mount(self) -> None:
        tag = self.query("#tag")
        (tag.first() if tag else self.query_one("#ok")).focus()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.kapp.go_idle()


class TimeChoice(Vertical):
    """Three one-press return times and a box for any other time."""

    def __init__(self, calendar: SchoolCalendar, now: datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.presets = when.presets(calendar, now)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="presets"):
            for p in self.presets:
                first, _, second = p.label.partition(", ")
                yield Button(f"{first}\n{second}", id=f"preset-{p.key}", classes="preset")
        with Horizontal(classes="fields"):
            yield Label("Other time:", classes="field-label")
            yield Input(placeholder="e.g. 14:45 or tomorrow 12:00", id="custom")


class ReturnTimeScreen(KioskScreen):
    """A trip phone is out (already, until the end of the day): when will it be back?"""

    timeout = 90.0

    def __init__(self, result: TapResult) -> None:
        super().__init__()
        assert result.loan is not None
        self.result = result
        self.loan = result.loan

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static(self.result.message, id="message", classes="big ok")
        phone = self.loan.item.phone_number
        yield Static(
            "When will you be back?" + (f"  (This phone's number: {phone})" if phone else ""),
            id="question", classes="prompt",
        )
        yield TimeChoice(self.kapp.calendar, self.kapp.clock.now(), id="times")
        with Horizontal(classes="fields"):
            yield Label("Trip (optional):", classes="field-label")
            yield Input(placeholder="where to, e.g. Year 4 to the museum", id="trip",
                        value=self.loan.trip)
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Undo", id="undo", variant="warning")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#error").display = False
        self.query_one("#preset-end_of_day", Button).focus()

    def _trip(self) -> str:
        return self.query_one("#trip", Input).value

    @on(Button.Pressed, ".preset")
    def _preset(self, event: Button.Pressed) -> None:
        key = (event.button.id or "").removeprefix("preset-")
        preset = next(p for p in self.query_one(TimeChoice).presets if p.key == key)
        self._set(preset.due)

    @on(Input.Submitted, "#custom")
    def _custom(self, event: Input.Submitted) -> None:
        try:
            due = when.parse_time(event.value, self.kapp.calendar, self.kapp.clock.now())
        except when.BadTime as exc:
            self.say("error", str(exc))
            return
        self._set(due)

    @on(Input.Submitted, "#trip")
    def _trip_typed(self) -> None:
        self.query_one("#preset-end_of_day", Button).focus()

    def _set(self, due: datetime) -> None:
        trip = self._trip()
        loan_id = self.loan.id
        self.kapp.call_service(
            lambda: self.kapp.service.set_due(loan_id, due, trip), self._done, self._failed
        )

    def _done(self, result: ActionResult) -> None:
        lv = result.loan
        detail = f"Back by {lv.due_text}." if lv else result.message
        if lv and lv.trip:
            detail += f" Trip: {lv.trip}."
        self.kapp.show(DoneScreen(self.result.message, detail, undo=True))

    def _failed(self, error: Exception) -> None:
        self.say("error", str(error))

    @on(Button.Pressed, "#undo")
    def _undo(self) -> None:
        self.kapp.call_service(self.kapp.service.undo, self._undone, self._failed)

    def _undone(self, result: TapResult) -> None:
        self.kapp.show(DoneScreen(result.message, "Nothing else to do."))


class YesNo(Horizontal):
    """A question answered by one of two buttons; the chosen one stays lit."""

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

    class Answered(Message):
        """Sent when the question is answered."""

        def __init__(self, yesno: YesNo) -> None:
            super().__init__()
            self.yesno = yesno


_QUESTIONS = {
    "images": "Images moved to the staff drive and erased from the camera?",
    "charged": "Is it charged?",
    "personal_calls": "Any personal calls, texts or emails made on it?",
    "damage": "Any damage?",
}


class ChecklistScreen(KioskScreen):
    """The item is back (already recorded): a few quick checks for its kind."""

    timeout = 120.0

    def __init__(self, result: TapResult) -> None:
        super().__init__()
        assert result.loan is not None
        self.result = result
        self.loan = result.loan
        self.checks = result.checklist

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static(self.result.message, id="message", classes="big ok")
        with VerticalScroll(id="checks"):
            if "count" in self.checks:
                for i, line in enumerate(self.loan.item.contents):
                    with Horizontal(classes="count"):
                        yield Label(f"{line.name} back:", classes="question")
                        yield Input(str(line.count), id=f"count-{i}", type="integer",
                                    classes="number")
                        yield Label(f"of {line.count}", classes="of")
            for key in ("images", "charged", "personal_calls", "damage"):
                if key in self.checks:
                    yield YesNo(_QUESTIONS[key], key)
                if key == "personal_calls" and key in self.checks:
                    with Horizontal(id="call", classes="fields"):
                        yield Input(placeholder="when", id="call-when", classes="short")
                        yield Input(placeholder="number called", id="call-number",
                                    classes="short")
                        yield Input(placeholder="reason", id="call-reason")
                if key == "damage" and key in self.checks:
                    yield Input(placeholder="What is damaged? A few words.", id="damage-note")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Save", id="save", variant="success")
            yield Button("Undo return", id="undo", variant="warning")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#error").display = False
        for wid in ("#call", "#damage-note"):
            for w in self.query(wid):
                w.display = False
        now = self.kapp.calendar.local(self.kapp.clock.now())
        for w in self.query("#call-when").results(Input):
            w.value = now.strftime("%d/%m %H:%M")
        first = self.query(".number, .answer")
        if first:
            first.first().focus()

    @on(YesNo.Answered)
    def _answered(self, event: YesNo.Answered) -> None:
        key, value = event.yesno.key, event.yesno.value
        if key == "personal_calls":
            self.query_one("#call").display = bool(value)
            if value:
                self.query_one("#call-number", Input).focus()
                return
        if key == "damage":
            self.query_one("#damage-note").display = bool(value)
            if value:
                self.query_one("#damage-note", Input).focus()
                return
        self._focus_next_unanswered()

    def _focus_next_unanswered(self) -> None:
        for q in self.query(YesNo).results(YesNo):
            if q.value is None:
                q.query_one(".answer", Button).focus()
                return
        self.query_one("#save", Button).focus()

    def _answer(self, key: str) -> bool | None:
        found = self.query(f"#q-{key}").results(YesNo)
        q = next(iter(found), None)
        return q.value if q else None

    def _collect(self) -> tuple[Checklist, tuple[str, str, str] | None]:
        counts: dict[str, int] | None = None
        if "count" in self.checks and self.loan.item.contents:
            counts = {}
            for i, line in enumerate(self.loan.item.contents):
                raw = self.query_one(f"#count-{i}", Input).value.strip()
                if not raw.isdigit():
                    raise Refused(f"Type how many {line.name} came back (0 to {line.count}).")
                if int(raw) > line.count:
                    raise Refused(f"There should be at most {line.count} {line.name}.")
                counts[line.name] = int(raw)
        unanswered = [_QUESTIONS[k] for k in ("images", "charged", "personal_calls", "damage")
                      if k in self.checks and self._answer(k) is None]
        if unanswered:
            raise Refused(f"Please answer: {unanswered[0]}")
        call = None
        if self._answer("personal_calls"):
            number = self.query_one("#call-number", Input).value.strip()
            if not number:
                raise Refused("Type the number called, or answer No to personal calls.")
            call = (self.query_one("#call-when", Input).value,
                    number, self.query_one("#call-reason", Input).value)
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
            if "personal_calls" in self.checks else None,
            damage=damage,
        ), call

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        try:
            answers, call = self._collect()
        except Refused as exc:
            self.say("error", str(exc))
            return
        service, loan_id = self.kapp.service, self.loan.id

        def save() -> ActionResult:
            if call is not None:
                service.record_personal_call(loan_id, *call)
            return service.save_checklist(loan_id, answers)

        self.kapp.call_service(save, self._saved, self._failed)

    @on(Input.Submitted, "#damage-note, #call-reason, #call-number, #call-when")
    def _field_done(self) -> None:
        self._focus_next_unanswered()

    def _saved(self, result: ActionResult) -> None:
        if result.warnings:
            self.kapp.show(DoneScreen(f"{self.loan.item.name} is back.", "",
                                      warnings=result.warnings))
        else:
            self.kapp.show(DoneScreen(f"{self.loan.item.name} is back.", result.message))

    def _failed(self, error: Exception) -> None:
        self.say("error", str(error))

    @on(Button.Pressed, "#undo")
    def _undo(self) -> None:
        self.kapp.call_service(self.kapp.service.undo, self._undone, self._failed)

    def _undone(self, result: TapResult) -> None:
        self.kapp.show(DoneScreen(result.message, "Nothing else to do."))

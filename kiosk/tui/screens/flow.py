"""The tap flow: hello, yours / back / refused, the trip phone's return time, the checklist.

Each screen says one thing in words, large, and offers at most a few buttons.
A tap on the reader always wins: whatever is showing is replaced by the new
result (the app's ``show``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

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
from kiosk.views import (
    ActionResult,
    Checklist,
    ContentLine,
    LoanView,
    Outcome,
    StaffView,
    TapResult,
)

if TYPE_CHECKING:
    from kiosk.tui.app import KioskApp


def present(app: KioskApp, result: TapResult) -> bool:
    """Show a tap's result; False for a tap that needs no answer (a badge held on the reader).

    Hello, yours and refused are the screens of almost every tap: one instance
    of each is kept and filled in again, so a tap costs an update, not a new
    screen (the benchmark's tap-to-screen figure depends on it).
    """
    o = result.outcome
    if o is Outcome.IGNORED:
        return False
    if o is Outcome.SESSION_STARTED and result.staff is not None:
        session = app.reusable(SessionScreen)
        session.present(result.staff, list(result.loans), result.message)
        app.show(session)
    elif o in (Outcome.SIGNED_OUT, Outcome.HANDED_OVER) and result.asks_return_time and result.loan:
        when_back = app.reusable(ReturnTimeScreen)
        when_back.present(result)
        app.show(when_back)
    elif o is Outcome.RETURNED and result.checklist and result.loan:
        key = (result.checklist, result.loan.item.contents)
        checklist = app.reusable(ChecklistScreen, key, lambda: ChecklistScreen(*key))
        checklist.present(result)
        app.show(checklist)
    elif result.refused:
        show_refusal(app, result.message, result.detail)
    else:
        show_done(
            app,
            result.message,
            result.detail,
            undo=o in (Outcome.SIGNED_OUT, Outcome.HANDED_OVER, Outcome.RETURNED),
        )
    return True


def show_done(
    app: KioskApp,
    message: str,
    detail: str = "",
    *,
    undo: bool = False,
    warnings: tuple[str, ...] = (),
) -> None:
    done = app.reusable(DoneScreen)
    done.present(message, detail, undo=undo, warnings=warnings)
    app.show(done)


def show_refusal(app: KioskApp, message: str, detail: str) -> None:
    refusal = app.reusable(RefusalScreen)
    refusal.present(message, detail)
    app.show(refusal)


class ReusableScreen(KioskScreen):
    """A screen kept between taps and filled in again by ``present``."""

    def restart_timer(self, seconds: float) -> None:
        if self._idle_timer is not None:
            self._idle_timer.stop()
        self._idle_timer = self.set_timer(seconds, self.timed_out)

    def _fill(self) -> None:
        """Put what ``present`` stored on the screen (each screen fills its own widgets)."""

    def refill(self) -> None:
        """After ``present``: redraw now if the screen is already mounted (else on_mount will)."""
        if self.is_mounted:
            self._fill()
            self.shown_again()

    def shown_again(self) -> None:
        """After ``present`` on a screen already mounted: focus, and report when drawn."""
        focus_tag_entry(self)
        self.call_after_refresh(self.kapp.screen_drawn)


def focus_tag_entry(screen: KioskScreen) -> None:
    """Where a keyboard reader is used, typing goes to the tag box first."""
    tag = screen.query("#tag")
    if tag:
        tag.first().focus()


class SessionScreen(ReusableScreen):
    """After a badge: hello, what you have out, tap an item."""

    def __init__(self) -> None:
        super().__init__()
        self.staff: StaffView | None = None
        self.loans: list[LoanView] = []
        self.greeting = ""

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="hello", classes="big ok")
        yield Static("Tap an item.", id="tap-item", classes="prompt")
        yield Static("", id="mine-heading", classes="heading")
        yield LoanTable(with_borrower=False, id="mine")
        yield Static("", id="nothing", classes="filler")
        with Horizontal(classes="buttons"):
            yield Button("My items", id="my-items")
            yield Button("Office board", id="office")
            yield Button("Admin", id="admin")
            yield Button("Done", id="done", variant="primary")
        yield from self.tag_entry()
        yield self.status_line()

    def present(self, staff: StaffView, loans: list[LoanView], greeting: str) -> None:
        self.staff, self.loans, self.greeting = staff, loans, greeting
        self.refill()

    def on_mount(self) -> None:
        self._fill()
        focus_tag_entry(self)

    def _fill(self) -> None:
        # The screen and the service's session end together.
        self.restart_timer(self.kapp.settings.kiosk.session_seconds)
        self.query_one("#hello", Static).update(self.greeting)
        n = len(self.loans)
        self.query_one("#mine-heading", Static).update(
            f"You have {n} item{'s' if n != 1 else ''} out:" if n else "You have nothing out."
        )
        table = self.query_one(LoanTable)
        table.display = bool(n)
        self.query_one("#nothing").display = not n
        if n:
            table.show(self.loans)
        role = self.staff.role if self.staff else "staff"
        self.query_one("#my-items").display = bool(n)
        self.query_one("#office").display = role in ("office", "admin")
        self.query_one("#admin").display = role == "admin"

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.kapp.go_idle()

    @on(Button.Pressed, "#my-items")
    def _my_items(self) -> None:
        from kiosk.tui.screens.myitems import MyItemsScreen

        if self.staff is not None:
            self.kapp.push_screen(MyItemsScreen(self.staff))

    @on(Button.Pressed, "#office")
    def _office(self) -> None:
        from kiosk.tui.screens.office import OfficeScreen

        self.kapp.push_screen(OfficeScreen())

    @on(Button.Pressed, "#admin")
    def _admin(self) -> None:
        from kiosk.tui.screens.admin import PinScreen

        if self.staff is not None:
            self.kapp.push_screen(PinScreen(self.staff))


class DoneScreen(ReusableScreen):
    """A confirmation in words, with Undo for as long as the service allows it."""

    def __init__(self) -> None:
        super().__init__()
        self.message = ""
        self.detail = ""
        self.undo = False
        self.warnings: tuple[str, ...] = ()
        self._left = 0

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big ok")
        yield Static("", id="detail", classes="prompt")
        yield Static("", id="warnings", classes="warning")
        with Horizontal(classes="buttons"):
            yield Button("Undo", id="undo", variant="warning")
            yield Button("OK", id="ok", variant="primary")
        yield Static("", classes="filler")
        yield from self.tag_entry()
        yield self.status_line()

    def present(
        self, message: str, detail: str = "", *, undo: bool = False, warnings: tuple[str, ...] = ()
    ) -> None:
        self.message, self.detail, self.undo, self.warnings = message, detail, undo, warnings
        self.refill()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._fill()
        focus_tag_entry(self)

    def _fill(self) -> None:
        message = self.query_one("#message", Static)
        message.update(self.message)
        message.set_class(not self.warnings, "ok")
        message.set_class(bool(self.warnings), "warn")
        self.say("detail", self.detail)
        self.say("warnings", "\n".join(self.warnings))
        seconds = self.kapp.settings.kiosk.undo_seconds if self.undo else 6.0
        self.restart_timer(seconds)
        self._left = int(seconds) if self.undo else 0
        self.query_one("#undo").display = self.undo
        self._draw_undo()

    def touch(self) -> None:
        pass  # the undo window does not grow because someone touched the screen

    def _tick(self) -> None:
        if self._left > 0:
            self._left -= 1
            self._draw_undo()

    def _draw_undo(self) -> None:
        b = self.query_one("#undo", Button)
        b.label = f"Undo ({self._left} s)"
        b.disabled = self._left <= 0

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.kapp.go_idle()

    @on(Button.Pressed, "#undo")
    def _undo(self) -> None:
        self.kapp.call_service(self.kapp.service.undo, self._undone, self._not_undone)

    def _undone(self, result: TapResult) -> None:
        show_done(self.kapp, result.message, "Nothing else to do.")

    def _not_undone(self, error: Exception) -> None:
        show_refusal(self.kapp, str(error), "")


class RefusalScreen(ReusableScreen):
    """Why not, and what to do instead."""

    timeout = 8.0

    def __init__(self) -> None:
        super().__init__()
        self.message = ""
        self.detail = ""

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big refused")
        yield Static("", id="detail", classes="prompt")
        with Horizontal(classes="buttons"):
            yield Button("OK", id="ok", variant="primary")
        yield Static("", classes="filler")
        yield from self.tag_entry()
        yield self.status_line()

    def present(self, message: str, detail: str) -> None:
        self.message, self.detail = message, detail
        self.refill()

    def on_mount(self) -> None:
        self._fill()
        tag = self.query("#tag")
        (tag.first() if tag else self.query_one("#ok")).focus()

    def _fill(self) -> None:
        self.query_one("#message", Static).update(self.message)
        self.say("detail", self.detail)
        self.restart_timer(self.timeout or 8.0)

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

    def refresh_presets(self, calendar: SchoolCalendar, now: datetime) -> None:
        """Recompute the choices for ``now`` and clear the typed time."""
        self.presets = when.presets(calendar, now)
        for p in self.presets:
            first, _, second = p.label.partition(", ")
            self.query_one(f"#preset-{p.key}", Button).label = f"{first}\n{second}"
        self.query_one("#custom", Input).value = ""


class LoanResultScreen(ReusableScreen):
    """A follow-up to a tap that settled a loan (return time, checklist): shows its result."""

    def __init__(self) -> None:
        super().__init__()
        self.result: TapResult | None = None

    @property
    def loan(self) -> LoanView:
        assert self.result is not None and self.result.loan is not None
        return self.result.loan

    def present(self, result: TapResult) -> None:
        self.result = result
        self.refill()

    def on_mount(self) -> None:
        self._fill()

    def _show_result(self) -> None:
        """The idle timer from the start, and the tap's message on top."""
        self.restart_timer(self.timeout or 60.0)
        self.query_one("#message", Static).update(self.result.message if self.result else "")


class ReturnTimeScreen(LoanResultScreen):
    """A trip phone is out (already, until the end of the day): when will it be back?"""

    timeout = 90.0

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big ok")
        yield Static("", id="question", classes="prompt")
        yield TimeChoice(self.kapp.calendar, self.kapp.clock.now(), id="times")
        with Horizontal(classes="fields"):
            yield Label("Trip (optional):", classes="field-label")
            yield Input(placeholder="where to, e.g. Year 4 to the museum", id="trip")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Undo", id="undo", variant="warning")
        yield self.status_line()

    def _fill(self) -> None:
        self._show_result()
        phone = self.loan.item.phone_number
        self.query_one("#question", Static).update(
            "When will you be back?" + (f"  (This phone's number: {phone})" if phone else "")
        )
        self.query_one(TimeChoice).refresh_presets(self.kapp.calendar, self.kapp.clock.now())
        self.query_one("#trip", Input).value = self.loan.trip
        self.say("error", "")
        self.query_one("#preset-end_of_day", Button).focus()

    def shown_again(self) -> None:
        self.call_after_refresh(self.kapp.screen_drawn)

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
        show_done(self.kapp, self.result.message if self.result else "", detail, undo=True)

    def _failed(self, error: Exception) -> None:
        self.say("error", str(error))

    @on(Button.Pressed, "#undo")
    def _undo(self) -> None:
        self.kapp.call_service(self.kapp.service.undo, self._undone, self._failed)

    def _undone(self, result: TapResult) -> None:
        show_done(self.kapp, result.message, "Nothing else to do.")


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

    def clear(self) -> None:
        self.value = None
        for b in self.query(".answer").results(Button):
            b.remove_class("chosen")

    class Answered(Message):
        """Sent when the question is answered."""

        def __init__(self, yesno: YesNo) -> None:
            super().__init__()
            self.yesno = yesno


_QUESTIONS = {
    "images": "Images moved to the staff drive and erased from the camera?",
    "charged": "Is it charged?",
    "personal_calls": "Personal calls, texts or emails made?",
    "damage": "Any damage?",
}


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

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Static("", id="message", classes="big ok")
        with VerticalScroll(id="checks"):
            if "count" in self.checks:
                for i, line in enumerate(self.contents):
                    with Horizontal(classes="count"):
                        yield Label(f"{line.name} back:", classes="question")
                        yield Input(
                            str(line.count), id=f"count-{i}", type="integer", classes="number"
                        )
                        yield Label(f"of {line.count}", classes="of")
            for key in ("images", "charged", "personal_calls", "damage"):
                if key in self.checks:
                    yield YesNo(_QUESTIONS[key], key)
                if key == "personal_calls" and key in self.checks:
                    with Horizontal(id="call", classes="fields"):
                        yield Input(placeholder="when", id="call-when", classes="short")
                        yield Input(placeholder="number called", id="call-number", classes="short")
                        yield Input(placeholder="reason", id="call-reason")
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
        for i, line in enumerate(self.contents):
            for w in self.query(f"#count-{i}").results(Input):
                w.value = str(line.count)
        for q in self.query(YesNo).results(YesNo):
            q.clear()
        for wid in ("#call", "#damage-note"):
            for panel in self.query(wid):
                panel.display = False
        for wid in ("#call-number", "#call-reason", "#damage-note"):
            for box in self.query(wid).results(Input):
                box.value = ""
        now = self.kapp.calendar.local(self.kapp.clock.now())
        for w in self.query("#call-when").results(Input):
            w.value = now.strftime("%d/%m %H:%M")
        first = self.query(".number, .answer")
        if first:
            first.first().focus()

    def shown_again(self) -> None:
        self.call_after_refresh(self.kapp.screen_drawn)

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
        unanswered = [
            _QUESTIONS[k]
            for k in ("images", "charged", "personal_calls", "damage")
            if k in self.checks and self._answer(k) is None
        ]
        if unanswered:
            raise Refused(f"Please answer: {unanswered[0]}")
        call = None
        if self._answer("personal_calls"):
            number = self.query_one("#call-number", Input).value.strip()
            if not number:
                raise Refused("Type the number called, or answer No to personal calls.")
            call = (
                self.query_one("#call-when", Input).value,
                number,
                self.query_one("#call-reason", Input).value,
            )
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
            show_done(self.kapp, f"{self.loan.item.name} is back.", warnings=result.warnings)
        else:
            show_done(self.kapp, f"{self.loan.item.name} is back.", result.message)

    def _failed(self, error: Exception) -> None:
        self.say("error", str(error))

    @on(Button.Pressed, "#undo")
    def _undo(self) -> None:
        self.kapp.call_service(self.kapp.service.undo, self._undone, self._failed)

    def _undone(self, result: TapResult) -> None:
        show_done(self.kapp, result.message, "Nothing else to do.")

"""Sign out for someone who has no badge with them, or lend a class camera once to another class.

Find the person by typing a few letters of their name and choose them; then tap the
item on the reader (the page collects the tag: it is not signed out to the office).
What follows is what follows any sign-out: a return time for a trip phone, a warning
for an item marked damaged, and Undo.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from kiosk.tui.screens.desk.page import DeskPage
from kiosk.tui.widgets.people import PersonPicker
from kiosk.views import StaffView, TapResult


class ActForScreen(DeskPage):
    """Choose the person, then tap the item: it is signed out to them by the office."""

    wants_tag_entry = True

    def __init__(self, by: StaffView, *, lend: bool = False) -> None:
        super().__init__(by)
        self.lend = lend
        self.person: StaffView | None = None

    def compose(self) -> ComposeResult:
        what = "lend a class camera to another class" if self.lend else "sign out for someone"
        yield self.title_bar(f"Office: {what}")
        yield Static("Who is it for? Type a few letters of their name:", classes="heading")
        yield PersonPicker(id="picker")
        if self.lend:
            with Horizontal(classes="fields"):
                yield Label("Why:", classes="field-label")
                yield Input(placeholder="why it is lent to another class", id="reason")
        yield Static("Choose the person first.", id="state", classes="prompt")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Back", id="back")
        yield from self.tag_entry()
        yield self.status_line()

    def on_mount(self) -> None:
        self.say("error", "")
        self.query_one(PersonPicker).focus_search()
        self.host.capture_tags(self, self._tag_seen)
        self.find_people()

    def on_unmount(self) -> None:
        self.host.release_tags(self)

    @on(PersonPicker.Chosen)
    def _chosen(self, event: PersonPicker.Chosen) -> None:
        if event.staff is None:
            return
        self.person = event.staff
        self.say("error", "")
        what = "the class camera" if self.lend else "the item"
        first = "Type why, then tap " if self.lend else "Now tap "
        self.say("state", f"{first}{what} for {event.staff.greeting} on the reader.")
        if self.lend:
            self.query_one("#reason", Input).focus()
        else:
            self.focus_tag_entry()

    @on(Input.Submitted, "#reason")
    def _reason_typed(self) -> None:
        self.focus_tag_entry()

    def _tag_seen(self, uid: str, reader: str) -> None:
        """A tag tapped while this page is in front is the item to sign out, not a loan."""
        self.touch()
        if self.person is None:
            self.failed(ValueError("Choose the person first, then tap the item."))
            return
        person, by, service = self.person.id, self.by.id, self.host.service
        lend = self.lend
        reason = self.query_one("#reason", Input).value if lend else ""
        self.host.call(
            lambda: service.sign_out_for(person, by, uid=uid, lend_once=lend, reason=reason),
            self._done,
            self.failed,
        )

    def _done(self, result: TapResult) -> None:
        self.host.feedback.accepted()
        self.host.present(result)

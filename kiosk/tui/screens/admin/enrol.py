"""Enrol a tag: tap the new badge or sticker, then choose the person or item it is for,
or make it one of the office's spare cards."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Static

from kiosk.loans.people import TagInUse
from kiosk.tui.screens.admin.page import AdminPage
from kiosk.tui.widgets.more import MoreMatch
from kiosk.views import ItemView, StaffView, search_lists

#: People, and items, listed at most; more letters narrow the list.
LISTED = 40


class EnrolScreen(AdminPage):
    """Tap a new tag, then choose whose it is."""

    wants_tag_entry = True

    def __init__(self, until: float | None) -> None:
        super().__init__(until)
        self.uid: str | None = None
        self.rows: list[StaffView | ItemView] = []
        self.moving: StaffView | ItemView | None = None  # asked: give a tag in use to this one?

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: enrol a tag")
        yield Static("Tap the new badge or item tag on the reader.", id="tag-state", classes="big")
        with Horizontal(classes="fields"):
            yield Input(placeholder="Find the person or item it is for", id="who")
        yield DataTable(cursor_type="row", id="owners")
        yield MoreMatch(id="more")
        yield Static("", id="result", classes="prompt")
        with Horizontal(classes="buttons"):
            yield Button("Give the tag to the chosen one", id="give", variant="primary")
            yield Button("Make it a spare card", id="spare")
            yield Button("Yes, move it", id="move", variant="warning")
            yield Button("Back", id="back")
        yield from self.tag_entry()
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#owners", DataTable).add_columns("Name", "What", "Tag now")
        self.query_one("#move").display = False
        self.say("result", "")
        self.load()
        self.focus_tag_entry()
        self.host.capture_tags(self, self._tag_seen)

    def on_unmount(self) -> None:
        self.host.release_tags(self)

    def _tag_seen(self, uid: str, reader: str) -> None:
        """A tag tapped while this screen is in front is the one to enrol, not a loan."""
        self.uid = uid
        self._not_moving()
        self.touch()
        self.host.feedback.accepted()
        self.host.call(lambda: self.host.service.tag_owner(uid), self._owner)

    def _owner(self, owner: str | None) -> None:
        state = f"Tag {self.uid}: " + (f"now {owner}." if owner else "not enrolled yet.")
        self.query_one("#tag-state", Static).update(state)
        self.query_one("#who", Input).focus()

    def load(self) -> None:
        text = self.query_one("#who", Input).value
        service = self.host.service
        self.host.call(
            lambda: (
                service.find_staff(text, limit=LISTED + 1),
                service.find_items(text, limit=LISTED + 1),
            ),
            self._found,
        )

    def _found(self, found: tuple[list[StaffView], list[ItemView]]) -> None:
        people, items, notes = search_lists(LISTED, *found)
        self.query_one(MoreMatch).tell(notes.values())
        rows: list[StaffView | ItemView] = [*people, *items]
        self.rows = rows
        table = self.query_one("#owners", DataTable)
        table.clear()
        for r in rows:
            if isinstance(r, StaffView):
                table.add_row(r.name, f"person ({r.role})", "has a badge" if r.has_badge else "-")
            else:
                table.add_row(r.name, r.kind_label.lower(), "has a tag" if r.has_tag else "-")

    @on(Input.Changed, "#who")
    def _changed(self) -> None:
        self.load()

    @on(Input.Submitted, "#who")
    def _submitted(self) -> None:
        self.query_one("#owners", DataTable).focus()

    @on(DataTable.RowSelected, "#owners")
    @on(Button.Pressed, "#give")
    def _give(self) -> None:
        if self.uid is None:
            self.say("result", "Tap the tag on the reader first.")
            return
        table = self.query_one("#owners", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            self.say("result", "Choose a person or an item first.")
            return
        self._enrol(self.rows[table.cursor_row], move=False)

    def _enrol(self, row: StaffView | ItemView, *, move: bool) -> None:
        uid, service = self.uid, self.host.service
        if uid is None:
            return
        pk = row.id
        if isinstance(row, StaffView):
            call: Callable[[], str] = lambda: service.enrol_tag(uid, staff_pk=pk, move=move)  # noqa: E731
        else:
            call = lambda: service.enrol_tag(uid, item_pk=pk, move=move)  # noqa: E731
        self.moving = row
        self.host.call(call, self._enrolled, self._failed)

    @on(Button.Pressed, "#spare")
    def _spare(self) -> None:
        if self.uid is None:
            self.say("result", "Tap the tag on the reader first.")
            return
        uid, service = self.uid, self.host.service
        self.host.call(lambda: service.enrol_spare(uid), self._enrolled, self._failed)

    @on(Button.Pressed, "#move")
    def _move(self) -> None:
        if self.moving is not None:
            self._enrol(self.moving, move=True)

    def _not_moving(self) -> None:
        self.moving = None
        self.query_one("#move").display = False
        self.query_one("#spare").display = True

    def _enrolled(self, message: str) -> None:
        self._not_moving()
        self.say("result", message)
        self.uid = None
        self.query_one("#tag-state", Static).update("Tap the next tag, or Back.")
        self.load()

    def _failed(self, error: Exception) -> None:
        self.say("result", str(error))
        if isinstance(error, TagInUse):
            # "This is Amira Khan's badge. Give it to Jo Bloggs instead?": one press to say yes.
            # The spare-card button gives way to the question's answer (80 columns hold three).
            self.query_one("#spare").display = False
            self.query_one("#move").display = True
            self.query_one("#move", Button).focus()
        else:
            self._not_moving()

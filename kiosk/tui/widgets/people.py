"""Find a person by typing a few letters of their name, and choose them from the list.

The widget only shows: the screen holding it asks the loan service for the people
matching what was typed (``Search``) and gives them back (``show``); a line chosen
(Enter on it, a click, or Enter in the box when only one matches) is ``Chosen``.
With ``new_visitor``, the first line offers the typed name as a new visitor.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input

from kiosk.tui.widgets.more import MoreMatch
from kiosk.views import StaffView, first, more_match


class PersonPicker(Vertical):
    """A search box and the people matching it."""

    #: People shown at once; more letters narrow the list. The screen asks the service for
    #: one more, so that the list can say when more match.
    SHOWN = 30

    class Search(Message):
        """The typed text changed: the screen should look these people up."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Chosen(Message):
        """A line was chosen: someone on the list (``staff``), or a new visitor (``staff`` is
        None) whose name is ``typed``."""

        def __init__(self, staff: StaffView | None, typed: str) -> None:
            super().__init__()
            self.staff = staff
            self.typed = typed

    def __init__(
        self,
        *,
        placeholder: str = "Type a few letters of their name",
        new_visitor: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(classes="picker", **kwargs)
        self.placeholder = placeholder
        self.new_visitor = new_visitor
        self.rows: list[StaffView | None] = []
        self.typed = ""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="fields"):
            yield Input(placeholder=self.placeholder, id="who")
        yield DataTable(cursor_type="row", id="people")
        yield MoreMatch(id="more-people")

    def on_mount(self) -> None:
        self.query_one("#people", DataTable).add_columns("Name", "Known as", "Classes", "")

    def focus_search(self) -> None:
        self.query_one("#who", Input).focus()

    def show(self, people: Iterable[StaffView], typed: str) -> None:
        """The people matching ``typed`` (and the new visitor line, if asked for)."""
        self.typed = " ".join(typed.split())
        table = self.query_one("#people", DataTable)
        table.clear()
        self.rows = []
        if self.new_visitor and len(self.typed) >= 2:
            self.rows.append(None)
            table.add_row(self.typed, "", "", "new visitor")
        listed, more = first(list(people), self.SHOWN)
        self.query_one(MoreMatch).tell(more_match(self.SHOWN, people=more).values())
        for p in listed:
            self.rows.append(p)
            known = p.greeting if p.greeting != p.name else ""
            state = "" if p.active else "inactive"
            if p.active and not p.has_badge:
                state = "no badge"
            table.add_row(p.name, known, " ".join(p.classes), state)

    @property
    def selected(self) -> tuple[StaffView | None, str] | None:
        """The highlighted line: (person or None for a new visitor, the typed name)."""
        table = self.query_one("#people", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row], self.typed

    @on(Input.Changed, "#who")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(PersonPicker.Search(event.value))

    @on(Input.Submitted, "#who")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if len(self.rows) == 1:
            self._choose(0)
        else:
            self.query_one("#people", DataTable).focus()

    @on(DataTable.RowSelected, "#people")
    def _row(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._choose(event.cursor_row)

    def _choose(self, row: int) -> None:
        if 0 <= row < len(self.rows):
            self.post_message(PersonPicker.Chosen(self.rows[row], self.typed))

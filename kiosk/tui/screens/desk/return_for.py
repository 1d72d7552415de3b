"""Return an item for whoever has it: one found in the staffroom, handed in at the office.

Tap it on the reader (the page collects the tag, so it is not passed on to the
office) or choose it from what is out. Its checklist follows, as for any return,
and the history says the office returned it, and where it was found.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Static

from kiosk.tui.screens.desk.page import DeskPage
from kiosk.tui.widgets.tables import LoanTable
from kiosk.views import LoanView, TapResult


class ReturnForScreen(DeskPage):
    """Tap the item, or choose it from what is out, and where it was found."""

    wants_tag_entry = True

    def compose(self) -> ComposeResult:
        yield self.title_bar("Office: return for someone")
        yield Static("Tap the item on the reader, or choose it here:", classes="heading")
        with Horizontal(classes="fields"):
            yield Input(placeholder="Search a person or item", id="search")
            yield Input(placeholder="Where was it found? (optional)", id="reason")
        yield LoanTable(id="out")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Return the chosen one", id="return", variant="primary")
            yield Button("Back", id="back")
        yield from self.tag_entry()
        yield self.status_line()

    def on_mount(self) -> None:
        self.say("error", "")
        self.load()
        self.focus_tag_entry()
        self.host.capture_tags(self, self._tag_seen)

    def on_unmount(self) -> None:
        self.host.release_tags(self)

    def load(self) -> None:
        text, service = self.query_one("#search", Input).value, self.host.service
        self.host.call(lambda: service.board(search=text), self._loaded)

    def _loaded(self, loans: list[LoanView]) -> None:
        self.query_one(LoanTable).show(loans)
        if not loans:
            self.say("error", "Nothing that matches is out.")

    @on(Input.Changed, "#search")
    def _search(self) -> None:
        self.say("error", "")
        self.load()

    def _tag_seen(self, uid: str, reader: str) -> None:
        self.touch()
        self._return(uid=uid)

    @on(Button.Pressed, "#return")
    def _chosen(self) -> None:
        loan = self.query_one(LoanTable).selected
        if loan is None:
            self.say("error", "Tap the item, or choose a line first.")
            return
        self._return(item_pk=loan.item.id)

    def _return(self, *, uid: str | None = None, item_pk: int | None = None) -> None:
        reason = self.query_one("#reason", Input).value
        by, service = self.by.id, self.host.service
        self.host.call(
            lambda: service.return_for(by, uid=uid, item_pk=item_pk, reason=reason),
            self._done,
            self.failed,
        )

    def _done(self, result: TapResult) -> None:
        self.host.feedback.accepted()
        self.host.present(result)

"""Spare cards: give one to a supply teacher or visitor for the day; back, or lost.

A card given works as that person's badge until the end of the school day, then
switches itself off (``kiosk.loans.cards``). Tap a card on the reader to choose it.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Static

from kiosk.tui.screens.desk.page import DeskPage
from kiosk.tui.widgets.people import PersonPicker
from kiosk.views import ActionResult, SpareCardView, StaffView


class SpareCardsScreen(DeskPage):
    """The pool: who has each card today; give one, take one back, or switch a lost one off."""

    wants_tag_entry = True

    def __init__(self, by: StaffView) -> None:
        super().__init__(by)
        self.cards: list[SpareCardView] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Office: spare cards")
        yield Static("", id="heading", classes="heading")
        yield DataTable(cursor_type="row", id="cards")
        yield Static("", id="error", classes="prompt")
        with Horizontal(classes="buttons"):
            yield Button("Give it to someone", id="give", variant="primary")
            yield Button("Taken back", id="taken-back")
            yield Button("Lost: switch off", id="lost", variant="error")
            yield Button("Back", id="back")
        yield from self.tag_entry()
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#cards", DataTable).add_columns("Card", "Today")
        self.say("error", "")
        self.load()
        self.host.capture_tags(self, self._tag_seen)

    def on_unmount(self) -> None:
        self.host.release_tags(self)

    def resumed(self) -> None:
        super().resumed()
        self.load()

    def load(self) -> None:
        self.host.call(self.host.service.spare_cards, self._loaded)

    def _loaded(self, cards: list[SpareCardView]) -> None:
        self.cards = cards
        table = self.query_one("#cards", DataTable)
        table.clear()
        for c in cards:
            table.add_row(c.label, c.describe)
        self.say(
            "heading",
            "Tap a spare card on the reader, or choose it:"
            if cards
            else "No spare cards yet. An admin enrols them (Admin, Enrol a tag).",
        )
        for b in self.query("#give, #taken-back, #lost").results(Button):
            b.disabled = not cards
        table.focus()

    def _tag_seen(self, uid: str, reader: str) -> None:
        """A card tapped here is chosen (not signed in)."""
        self.touch()
        service = self.host.service
        self.host.call(lambda: service.tag_owner(uid), self._owner)

    def _owner(self, owner: str | None) -> None:
        label = (owner or "").removesuffix(" (switched off)")
        for row, card in enumerate(self.cards):
            if card.label == label:
                self.query_one("#cards", DataTable).move_cursor(row=row)
                self.say("error", f"{card.label}: {card.describe}.")
                self.host.feedback.accepted()
                return
        self.failed(ValueError("That is not one of the spare cards."))

    def _chosen(self) -> SpareCardView | None:
        table = self.query_one("#cards", DataTable)
        if not self.cards or not 0 <= table.cursor_row < len(self.cards):
            self.say("error", "Choose a card first.")
            return None
        return self.cards[table.cursor_row]

    @on(DataTable.RowSelected, "#cards")
    @on(Button.Pressed, "#give")
    def _give(self) -> None:
        card = self._chosen()
        if card is not None:
            self.host.open(GiveCardScreen(self.by, card))

    @on(Button.Pressed, "#taken-back")
    def _taken_back(self) -> None:
        card = self._chosen()
        if card is not None:
            card_pk, by, service = card.id, self.by.id, self.host.service
            self.host.call(
                lambda: service.take_back_spare_card(card_pk, by), self._said, self.failed
            )

    @on(Button.Pressed, "#lost")
    def _lost(self) -> None:
        card = self._chosen()
        if card is not None:
            card_pk, by, service = card.id, self.by.id, self.host.service
            self.host.call(lambda: service.spare_card_lost(card_pk, by), self._said, self.failed)

    def _said(self, result: ActionResult) -> None:
        self.say("error", result.message)
        self.load()


class GiveCardScreen(DeskPage):
    """Who the card is for today: someone on the list, or a visitor by name."""

    def __init__(self, by: StaffView, card: SpareCardView) -> None:
        super().__init__(by)
        self.card = card

    def compose(self) -> ComposeResult:
        yield self.title_bar(f"Office: give {self.card.label}")
        yield Static("Who is it for? Type their name (a visitor, or anyone):", classes="heading")
        yield PersonPicker(id="picker", new_visitor=True)
        with Horizontal(classes="fields"):
            yield Label("Covering class:", classes="field-label")
            yield Input(placeholder="optional, for a visitor, e.g. 5B", id="classes")
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Give the card", id="give", variant="primary")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.say("error", "")
        self.query_one(PersonPicker).focus_search()
        self.find_people()

    @on(PersonPicker.Chosen)
    def _chosen(self, event: PersonPicker.Chosen) -> None:
        if event.staff is None:
            self.query_one("#classes", Input).focus()
        else:
            self._give()

    @on(Input.Submitted, "#classes")
    @on(Button.Pressed, "#give")
    def _give(self) -> None:
        chosen = self.query_one(PersonPicker).selected
        if chosen is None:
            self.say("error", "Type the person's name, then choose the line.")
            return
        person, typed = chosen
        classes = self.query_one("#classes", Input).value
        card, by, service = self.card.id, self.by.id, self.host.service
        if person is None:
            call = lambda: service.give_spare_card(card, by, name=typed, classes=classes)  # noqa: E731
        else:
            staff_pk = person.id
            call = lambda: service.give_spare_card(card, by, staff_pk=staff_pk)  # noqa: E731
        self.host.call(call, self._given, self.failed)

    def _given(self, result: ActionResult) -> None:
        self.host.done(result.message, "At the end of the school day it switches itself off.")

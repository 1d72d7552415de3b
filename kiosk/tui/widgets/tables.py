"""Tables of loans: what is out (the boards, my items) and what happened (histories).

Everything drawn here uses characters the Linux console font has (ASCII and
plain box lines): no emoji, no rounded corners, no eighth-blocks.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from kiosk.views import LoanView

#: Longest trip text on the board; the whole text is in the office history.
TRIP_WIDTH = 30


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def short_text(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with "..." where it was cut."""
    return _short(text, width)


def rows_out_of_sight(table: DataTable[Any]) -> int:
    """How many of ``table``'s rows do not fit in it as it is drawn now (from the top)."""
    room = table.size.height - (table.header_height if table.show_header else 0)
    used = shown = 0
    for row in table.ordered_rows:
        if used + row.height > room:
            break
        used += row.height
        shown += 1
    return len(table.ordered_rows) - shown


def more_below(hidden: int) -> str:
    """ "3 more below." for a table whose end is out of sight ("" when all of it shows)."""
    return f"{hidden} more below." if hidden else ""


def loan_note(v: LoanView) -> str:
    notes = []
    if v.personal_calls:  # first: the trip is long, and the history has it in full
        notes.append(f"{v.personal_calls} personal call{'s' if v.personal_calls != 1 else ''}")
    if v.trip:
        notes.append(f"Trip: {v.trip}")
    elif v.off_site:
        notes.append("off site")
    if v.condition_note:
        notes.append(v.condition_note)
    if v.time_uncertain:
        notes.append("time unsure: clock not set")
    return "; ".join(notes)


class LoanTable(DataTable[Any]):
    """Open loans, overdue first and marked in words as well as colour.

    Three columns so that it fits 80 cells: a trip phone's number goes under its
    name, and the trip under the borrower (a two-line row).
    """

    def __init__(self, *, with_borrower: bool = True, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.with_borrower = with_borrower
        self.loans: list[LoanView] = []

    def on_mount(self) -> None:
        cols = ["Item"]
        cols.append("With" if self.with_borrower else "Notes")
        cols.append("Back by")
        self.add_columns(*cols)

    def show(self, loans: Iterable[LoanView]) -> None:
        """Show these loans; the same loans as shown already change nothing (the idle board
        is read again each time the kiosk goes back to it, and rebuilding the table
        redraws every cell)."""
        loans = list(loans)
        if loans == self.loans and self.row_count == len(loans):
            return
        self.loans = loans
        self.clear()
        for v in self.loans:
            style = "bold red" if v.overdue else ""
            name = ("OVERDUE " if v.overdue else "") + v.item.name
            if v.item.phone_number:
                name += f"\n  {v.item.phone_number}"
            note = _short(loan_note(v), TRIP_WIDTH)
            who = v.borrower.name if v.borrower else "-"
            second = (f"{who}\n{note}" if note else who) if self.with_borrower else note
            due = Text(v.due_text if v.due_at else "-", style=style)
            height = 2 if "\n" in name or "\n" in second else 1
            self.add_row(Text(name, style=style), second, due, key=str(v.id), height=height)

    @property
    def selected(self) -> LoanView | None:
        if not self.loans or self.cursor_row < 0 or self.cursor_row >= len(self.loans):
            return None
        return self.loans[self.cursor_row]

    def rows_out_of_sight(self) -> int:
        """How many rows do not fit in the table as it is drawn now (from the top)."""
        return rows_out_of_sight(self)


class History(DataTable[Any]):
    """Past loans of one item or one person, newest first."""

    def __init__(self, *, show: str, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.what = show  # "item" or "person": the column that varies

    def on_mount(self) -> None:
        self.add_columns("When", "Item" if self.what == "item" else "Who", "What happened")

    def show_loans(self, loans: Iterable[LoanView], fmt: Callable[[datetime], str]) -> None:
        """Three columns that fit 80 cells; what happened wraps onto more lines, never cut."""
        self.clear()
        rows = []
        for v in loans:
            other = (
                v.item.name
                if self.what == "item"
                else (v.borrower.name if v.borrower else "(removed)")
            )
            if v.closed_at:
                back = f"to {fmt(v.closed_at)}"
            else:
                back = "still out, OVERDUE" if v.overdue else "still out"
            when = f"{fmt(v.out_at)}\n{back}"
            how = {
                "returned": "Returned",
                "handed_over": "Passed on",
                "lost": "LOST",
                "undone": "Undone",
                None: "",
            }.get(v.outcome, v.outcome or "")
            # What the office did for the borrower, as a sentence of its own.
            office = (x[:1].upper() + x[1:] for x in v.office)
            what = ". ".join(
                x for x in (how, *office, loan_note(v), _checklist_text(v.checklist)) if x
            )
            rows.append((when, other, what))
        # What is left of the width after the first two columns (and cell padding).
        when_width = max((len(x) for w, _, _ in rows for x in w.split("\n")), default=16)
        other_width = max((len(o) for _, o, _ in rows), default=10)
        room = max(20, self.size.width - when_width - other_width - 8)
        for when, other, what in rows:
            lines = textwrap.wrap(what, room) or [""]
            self.add_row(when, other, "\n".join(lines), height=max(2, len(lines)))


def _checklist_text(checklist: dict[str, object] | None) -> str:
    if not checklist:
        return ""
    parts = []
    counts = checklist.get("counts")
    if isinstance(counts, dict):
        parts += [f"{n} {name}" for name, n in counts.items()]
    for key, label in (
        ("images_erased", "images erased"),
        ("charged", "charged"),
        ("personal_calls", "personal calls"),
    ):
        if key in checklist:
            parts.append(f"{label}: {'yes' if checklist[key] else 'no'}")
    return ", ".join(parts)

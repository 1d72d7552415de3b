"""The line under a search's list that says the list stops short of everything that matches.

Every picker asks the loan service for one more than it lists (``kiosk.views.first``):
when more match, this line says so and how to narrow the list, so that a name missing
from a list of the first 30 is never taken to mean "not in the system".
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import Static


class MoreMatch(Static):
    """Hidden while the list shows everything that matches; otherwise what to do."""

    DEFAULT_CSS = """
    MoreMatch {
        height: auto;
        padding: 0 1;
        text-style: bold;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.display = False

    def tell(self, lines: Iterable[str]) -> None:
        """The notes of the lists just shown (none: the line goes away)."""
        text = " ".join(lines)
        self.update(text)
        self.display = bool(text)

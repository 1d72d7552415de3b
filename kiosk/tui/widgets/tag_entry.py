"""The box where a tag number is typed: the keyboard reader (the demo, a desk without a reader)."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.message import Message
from textual.widgets import Input


class TagEntry(Input):
    """Where the keyboard reader's tag numbers are typed; the app feeds them to that reader."""

    class Typed(Message):
        """A tag number was typed and Enter pressed."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(placeholder="Type a tag number and press Enter", **kwargs)

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        self.value = ""
        if text.strip():
            self.post_message(TagEntry.Typed(text))

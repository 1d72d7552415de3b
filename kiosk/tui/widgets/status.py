"""The status line at the foot of every screen, and scroll bars the Linux console can draw."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual.scrollbar import ScrollBarRender
from textual.widgets import Static

from kiosk.views import DeliverySummary


class ConsoleScrollBar(ScrollBarRender):
    """Scroll bars drawn with spaces and colour only: the console font lacks eighth-blocks."""

    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


class StatusLine(Static):
    """Readers, clock and alert delivery, in words: the office must trust what it sees."""

    def render_status(
        self,
        readers: dict[str, tuple[bool, str]],
        clock_synced: bool | None,
        delivery: DeliverySummary | None,
        fmt: Callable[[datetime, datetime], str],
        now: datetime,
    ) -> None:
        text = Text()
        for name, (ok, _reason) in readers.items():
            text.append(f"Reader {name}: ")
            text.append("ok" if ok else "OFFLINE", style="" if ok else "bold red")
            text.append("  ")
        if clock_synced is not None:
            text.append("Clock: ")
            text.append(
                "ok" if clock_synced else "NOT SET", style="" if clock_synced else "bold yellow"
            )
            text.append("  ")
        if delivery is None:
            text.append("Alerts: unknown")
        else:
            text.append("Alerts: ")
            if delivery.last_delivered_at is not None:
                text.append(f"last sent {fmt(delivery.last_delivered_at, now)}, ")
            waiting = delivery.waiting
            text.append(f"{waiting} waiting", style="bold yellow" if waiting else "")
            why = delivery.why_waiting(clock_synced is not False)
            if why:
                text.append(f" ({why})", style="bold yellow")
            if delivery.failed:
                text.append(", ")
                text.append(f"{delivery.failed} FAILED", style="bold red")
        self.update(text)

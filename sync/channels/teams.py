"""Microsoft Teams through a Workflows "When a Teams webhook request is received" URL.

The retired Office 365 connectors took a MessageCard; Workflows take a message
whose attachment is an Adaptive Card, and answer 202 Accepted. Teams has no
de-duplication of its own, so the card shows the alert id for a reader who
sees a repeat after a retry.

Teams reads a TextBlock's text (and a FactSet's) as Markdown: a damage note typed
as ``[see photos](https://...)`` would become a link in SLT's channel, ``**`` bold,
``- `` a list. So every text that comes from the database (names, notes, the
school's name, the summary built from them) goes into a RichTextBlock's TextRun,
which Adaptive Cards never read as Markdown; only the card's own labels are
TextBlocks.
"""

from __future__ import annotations

import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import requests

from kiosk.clock import Clock
from kiosk.settings import Channel
from sync.channels.base import Alert, SendResult
from sync.channels.render import render
from sync.channels.web import environment_proxies, post

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def run(text: str, **style: Any) -> dict[str, Any]:
    """A TextRun: shown exactly as typed, never read as Markdown."""
    return {"type": "TextRun", "text": re.sub(r"\s+", " ", str(text)), **style}


def plain(text: str, **style: Any) -> dict[str, Any]:
    """``text`` exactly as typed: a RichTextBlock of one TextRun."""
    return {"type": "RichTextBlock", "inlines": [run(text, **style)]}


def _fact(label: str, value: str) -> dict[str, Any]:
    """One fact as a row of two columns: the card's label, then the data as typed."""
    return {
        "type": "ColumnSet",
        "spacing": "None",
        "columns": [
            {
                "type": "Column",
                "width": "auto",
                "items": [{"type": "TextBlock", "text": label, "weight": "Bolder"}],
            },
            {"type": "Column", "width": "stretch", "items": [plain(value)]},
        ],
    }


def card_for(alert: Alert, tz: ZoneInfo) -> dict[str, Any]:
    r = render(alert.payload, tz)
    body: list[dict[str, Any]] = [plain(r.title, weight="Bolder", size="Medium")]
    if r.school:
        body.append({**plain(r.school, isSubtle=True), "spacing": "None"})
    # Fact labels are the kiosk's own ("Item", "Person", ...); their values are data.
    body += [_fact(label, value) for label, value in r.facts]
    if r.note:
        body.append(plain(r.note))
    for row in r.rows:  # the end-of-day summary: the item, then who has it and when it is due
        rest = " · ".join(c for c in row[1:] if c)
        body.append(
            {
                "type": "RichTextBlock",
                "spacing": "Small",
                "inlines": [run(row[0], weight="Bolder"), run(f" {rest}" if rest else "")],
            }
        )
    body.append(plain(f"Alert id {alert.key}", isSubtle=True, size="Small"))
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": CARD_CONTENT_TYPE,
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }
        ],
    }


class TeamsSender:
    def __init__(
        self,
        name: str,
        channel: Channel,
        session: requests.Session,
        clock: Clock,
        timeout: float,
        tz: ZoneInfo,
    ) -> None:
        self.name = name
        self.url = channel.url
        self.proxies = environment_proxies(channel.url)
        self.session = session
        self.clock = clock
        self.timeout = timeout
        self.tz = tz

    def not_ready(self) -> str:
        return ""

    def send(self, alert: Alert) -> SendResult:
        body = json.dumps(card_for(alert, self.tz), ensure_ascii=False).encode("utf-8")
        return post(
            self.session,
            self.url,
            body,
            {"content-type": "application/json"},
            timeout=self.timeout,
            clock=self.clock,
            what=f"Teams {self.name}",
            proxies=self.proxies,
        )

    def close(self) -> None:
        """The shared requests session is closed by the delivery loop."""

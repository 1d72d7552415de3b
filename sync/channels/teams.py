"""Microsoft Teams through a Workflows "When a Teams webhook request is received" URL.

The retired Office 365 connectors took a MessageCard; Workflows take a message
whose attachment is an Adaptive Card, and answer 202 Accepted. Teams has no
de-duplication of its own, so the card shows the alert id for a reader who
sees a repeat after a retry.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import requests

from kiosk.clock import Clock
from kiosk.settings import Channel
from sync.channels.base import Alert, SendResult
from sync.channels.render import render
from sync.channels.web import environment_proxies, post

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def card_for(alert: Alert, tz: ZoneInfo) -> dict[str, Any]:
    r = render(alert.payload, tz)
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": r.title, "weight": "Bolder", "size": "Medium", "wrap": True},
    ]
    if r.school:
        body.append(
            {
                "type": "TextBlock",
                "text": r.school,
                "isSubtle": True,
                "spacing": "None",
                "wrap": True,
            }
        )
    if r.facts:
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in r.facts]})
    if r.note:
        body.append({"type": "TextBlock", "text": r.note, "wrap": True})
    if r.rows:
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": row[0], "value": " · ".join(c for c in row[1:] if c)}
                    for row in r.rows
                ],
            }
        )
    body.append(
        {
            "type": "TextBlock",
            "text": f"Alert id {alert.key}",
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        }
    )
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

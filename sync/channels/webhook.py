"""Signed JSON webhook (Standard Webhooks) into SLT's own system.

The body is ``{"type": "kiosk.<kind>", "timestamp": ..., "data": <payload>}``
as the spec recommends. ``webhook-id`` is the alert's wire id (``outbox.uid``), identical on every
retry, so the receiver de-duplicates; the timestamp and signature are made
fresh for each attempt.
"""

from __future__ import annotations

import json

import requests

from kiosk.clock import Clock
from kiosk.settings import Channel
from sync.channels.base import Alert, SendResult
from sync.channels.web import environment_proxies, post
from sync.signing import headers_for


def body_for(alert: Alert) -> bytes:
    document = {
        "type": f"kiosk.{alert.kind}",
        "timestamp": alert.created_at.isoformat(),
        "data": {**alert.payload, "audience": alert.audience},
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class WebhookSender:
    def __init__(
        self,
        name: str,
        channel: Channel,
        session: requests.Session,
        clock: Clock,
        timeout: float,
    ) -> None:
        self.name = name
        self.url = channel.url
        self.proxies = environment_proxies(channel.url)
        self.secret = channel.secret
        self.session = session
        self.clock = clock
        self.timeout = timeout

    def not_ready(self) -> str:
        # Receivers refuse a timestamp more than five minutes out; a Pi that booted
        # without network would only collect refusals (and burn attempts).
        if not self.clock.synchronised():
            return "waiting for the kiosk's clock to be set (webhooks carry the time)"
        return ""

    def send(self, alert: Alert) -> SendResult:
        body = body_for(alert)
        timestamp = int(self.clock.now().timestamp())
        headers = headers_for(self.secret, alert.key, body, timestamp)
        return post(
            self.session,
            self.url,
            body,
            headers,
            timeout=self.timeout,
            clock=self.clock,
            what=f"webhook {self.name}",
            proxies=self.proxies,
        )

    def close(self) -> None:
        """The shared requests session is closed by the delivery loop."""

"""Delivery channels: a signed webhook, Microsoft Teams (Workflows) and email.

``build_senders`` turns ``[sync.channels]`` into senders sharing one
``requests.Session`` (keep-alive to each receiver across a pass).
"""

from __future__ import annotations

import smtplib
from zoneinfo import ZoneInfo

import requests

from kiosk.clock import Clock
from kiosk.settings import Settings
from sync.channels.base import Alert, Outcome, Sender, SendResult
from sync.channels.mail import EmailSender, SmtpFactory
from sync.channels.teams import TeamsSender
from sync.channels.webhook import WebhookSender

__all__ = ["Alert", "Outcome", "SendResult", "Sender", "build_senders"]


def build_senders(
    settings: Settings,
    clock: Clock,
    session: requests.Session,
    *,
    smtp_factory: SmtpFactory | None = None,
) -> dict[str, Sender]:
    tz = ZoneInfo(settings.school.timezone)
    timeout = settings.sync.timeout_seconds
    senders: dict[str, Sender] = {}
    for name, ch in settings.sync.channels.items():
        if ch.type == "webhook":
            senders[name] = WebhookSender(name, ch, session, clock, timeout)
        elif ch.type == "teams":
            senders[name] = TeamsSender(name, ch, session, clock, timeout, tz)
        elif ch.type == "email":
            senders[name] = EmailSender(
                name,
                ch,
                settings.sync.smtp,
                timeout,
                tz,
                smtp_factory=smtp_factory or smtplib.SMTP,
            )
    return senders

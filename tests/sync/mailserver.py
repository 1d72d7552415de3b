"""A real SMTP server on loopback (aiosmtpd) that keeps what it is sent, for the email tests.

The fixtures ``inbox`` and ``smtp_server`` (``tests/sync/conftest.py``) start one per test.
"""

from __future__ import annotations

import email
import email.policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from kiosk.settings import Channel, Settings, Smtp, evolve
from tests.sync.conftest import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, email.message.EmailMessage]] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append((envelope, msg))
        return "250 Message accepted for delivery"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"kiosk@hillside.example",
        b"right password",
    )
    return AuthResult(success=ok, handled=False)


def start_smtp(inbox: Inbox, **kwargs: Any) -> Controller:
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, **kwargs
    )
    controller.start()
    return controller


def use_email(settings: Settings, port: int, password: str, *, starttls: bool = False) -> Settings:
    """``settings`` with the office's alerts going by email through the server on ``port``."""
    smtp = Smtp(
        host="127.0.0.1",
        port=port,
        starttls=starttls,
        username="kiosk@hillside.example",
        password=password,
        from_address="kiosk@hillside.example",
    )
    office_mail = Channel(type="email", to=("office@hillside.example",))
    return evolve(
        settings,
        {
            "sync.smtp": smtp,
            "sync.channels": {**settings.sync.channels, "office_mail": office_mail},
            "sync.routes": {**settings.sync.routes, "office": ["office_mail"]},
        },
    )

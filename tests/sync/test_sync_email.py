"""Email delivery to a real SMTP server on loopback (aiosmtpd): login, STARTTLS, two parts."""

from __future__ import annotations

import ssl
from pathlib import Path
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from kiosk.clock import ManualClock
from kiosk.db import Delivery, Outbox
from kiosk.settings import Settings, evolve
from sync.channels.mail import EmailSender
from sync.status import delivery_summary
from tests.sync.conftest import Hillside, free_port
from tests.sync.mailserver import Inbox, start_smtp, use_email

DATA = Path(__file__).parent / "data"


def test_bad_password_is_a_clear_error_and_the_alert_waits(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    inbox: Inbox,
    smtp_server: Controller,
    deliverer_factory,
) -> None:
    settings = use_email(settings, smtp_server.port, "wrong password")
    hillside.sign_out("amira", "camera")
    hillside.service.set_staff_active(hillside.staff["amira"].id, False, "left the school")
    report = deliverer_factory(settings).run()
    assert report.delivered == 0
    [error] = report.errors
    assert "refused the username or password" in error
    assert "535" in error
    assert "Check [sync.smtp] username and password" in error
    row = Delivery.get()
    assert row.delivered_at is None and row.dead_at is None and row.attempts == 1
    assert delivery_summary().waiting == 1
    assert inbox.messages == []

    # The IT lead fixes the settings.
    settings = evolve(settings, {"sync.smtp.password": "right password"})
    clock.advance(settings.sync.backoff_cap_seconds)
    assert deliverer_factory(settings).run().delivered == 1
    assert delivery_summary().waiting == 0
    [(envelope, msg)] = inbox.messages
    assert envelope.rcpt_tos == ["office@hillside.example"]
    assert msg["Subject"] == "Amira Khan is inactive and still has items (Hillside Primary)"
    assert msg["Message-ID"] == f"<{Outbox.get().uid}@kiosk.alerts>"
    assert msg["X-Kiosk-Alert-Id"] == Outbox.get().uid
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and rich is not None
    text, html = plain.get_content(), rich.get_content()
    assert "Class camera 5B" in text and "left the school" in text
    assert "<h2>Amira Khan is inactive and still has items</h2>" in html
    assert "04A1B2C3" not in msg.as_string()  # never a badge id


def test_starttls_then_login(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    inbox: Inbox,
    deliverer_factory,
) -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(DATA / "smtp-test.crt", DATA / "smtp-test.key")
    controller = start_smtp(inbox, tls_context=server_tls, require_starttls=True)
    try:
        settings = use_email(settings, controller.port, "right password", starttls=True)
        client_tls = ssl.create_default_context(cafile=str(DATA / "smtp-test.crt"))
        sender = EmailSender(
            "office_mail",
            settings.sync.channels["office_mail"],
            settings.sync.smtp,
            5.0,
            ZoneInfo("Europe/London"),
            tls_context=client_tls,
        )
        hillside.sign_out("amira", "camera")
        hillside.service.set_staff_active(hillside.staff["amira"].id, False, "long absence")
        report = deliverer_factory(settings, senders={"office_mail": sender}).run()
        assert report.delivered == 1, report.errors
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_without_starttls_a_server_that_demands_it_is_reported(
    hillside: Hillside,
    settings: Settings,
    inbox: Inbox,
    deliverer_factory,
) -> None:
    controller = start_smtp(inbox)  # AUTH only after STARTTLS (aiosmtpd's default)
    try:
        settings = use_email(settings, controller.port, "right password", starttls=False)
        hillside.sign_out("amira", "camera")
        hillside.service.set_staff_active(hillside.staff["amira"].id, False, "left")
        report = deliverer_factory(settings).run()
        assert report.delivered == 0
        assert "Check [sync.smtp] security and username" in report.errors[0]
    finally:
        controller.stop()


def test_mail_server_down_waits(
    hillside: Hillside,
    settings: Settings,
    deliverer_factory,
) -> None:
    settings = use_email(settings, free_port(), "right password")
    hillside.sign_out("amira", "camera")
    hillside.service.set_staff_active(hillside.staff["amira"].id, False, "left")
    report = deliverer_factory(settings).run()
    assert "cannot reach the mail server" in report.errors[0]
    assert delivery_summary().waiting == 1


class DropsKeptConnections(Inbox):
    """A mail server that closes a connection as soon as it is used for a second message."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions = 0

    async def handle_MAIL(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        used = getattr(session, "kiosk_used", False)
        if used:
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        session.kiosk_used = True  # type: ignore[attr-defined]
        self.sessions += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


def test_a_kept_connection_the_server_closed_is_opened_again(
    hillside: Hillside,
    settings: Settings,
    deliverer_factory,
) -> None:
    inbox = DropsKeptConnections()
    controller = start_smtp(inbox, auth_require_tls=False)
    try:
        settings = use_email(settings, controller.port, "right password")
        settings = evolve(settings, {"sync.workers": 1})  # both messages on one kept connection
        for who, what in (("amira", "camera"), ("ben", "laptops")):
            hillside.sign_out(who, what)
            hillside.service.set_staff_active(hillside.staff[who].id, False, "left")
        report = deliverer_factory(settings).run()
        assert report.delivered == 2, report.errors
        assert len(inbox.messages) == 2
        assert inbox.sessions == 2  # the second message came on a fresh connection
    finally:
        controller.stop()

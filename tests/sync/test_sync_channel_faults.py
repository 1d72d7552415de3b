"""Alert channels against text, addresses and servers that used to break them.

Real receivers on loopback: aiosmtpd (plain, STARTTLS, implicit TLS, with and
without SMTPUTF8), pytest-httpserver for Teams, and plain socket servers that send
their answer a byte at a time. Settings come from a kiosk.toml, as a school's do.
"""

from __future__ import annotations

import email
import email.policy
import random
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import peewee as pw
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from pytest_httpserver import HTTPServer

from kiosk.clock import ManualClock
from kiosk.db import Delivery, Item, Outbox, Staff
from kiosk.errors import ConfigError
from kiosk.loans import LoanService
from kiosk.settings import Settings, load_settings
from sync.channels.base import Alert
from sync.channels.mail import EmailSender, one_line
from sync.channels.teams import card_for
from sync.delivery import Deliverer, DeliveryReport
from tests.sync.conftest import SECRET, free_port

DATA = Path(__file__).parent / "data"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, email.message.EmailMessage, bytes]] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append((envelope, msg, raw))
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def mail_server(inbox: Inbox) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


def settings_from(tmp_path: Path, db_path: Path, sync: str) -> Settings:
    """A kiosk.toml for the test school with the given [sync...] tables."""
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        f'[kiosk]\ndb = "{db_path}"\n\n[school]\nname = "Hillside Primary"\n\n{sync}',
        encoding="utf-8",
    )
    return load_settings(toml, env={})


def email_sync(port: int, *, to: str = '["it@hillside.example"]', smtp: str = "") -> str:
    return (
        "[sync]\ntimeout_seconds = 5\n\n"
        f'[sync.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'from_address = "kiosk@hillside.example"\n{smtp}\n'
        f'[sync.channels.it_mail]\ntype = "email"\nto = {to}\n\n'
        '[sync.routes]\nit = ["it_mail"]\n'
    )


def raise_damage(
    settings: Settings,
    clock: ManualClock,
    *,
    person: str = "Amira Khan",
    item: str = "Class camera 5B",
    note: str = "Cracked lens",
) -> None:
    """A member of staff signs an item out and reports it damaged: an alert for IT."""
    Staff.create(staff_id="S1", name=person, classes="5B", badge_uid="04A1B2C3")
    Item.create(asset_tag="CAM5B", name=item, kind="other", tag_uid="0499AA02")
    service = LoanService(settings, clock)
    clock.advance(5)
    service.tap("04A1B2C3")
    clock.advance(3)
    signed_out = service.tap("0499AA02")
    assert signed_out.loan is not None, signed_out
    service.report_damage(signed_out.loan.id, note)


def deliver(settings: Settings, clock: ManualClock, **kwargs: Any) -> DeliveryReport:
    deliverer = Deliverer(settings, clock, rng=random.Random(7), **kwargs)
    try:
        return deliverer.run()
    finally:
        deliverer.close()


# --- text from the database in an email -----------------------------------------------------

NASTY = "Amira\r\nBcc: everyone@elsewhere.example\r\n\r\nKhan\x00\x07\tthe\u2028second"


def test_no_name_or_note_can_break_an_email_or_add_a_header(
    tmp_path: Path,
    db_path: Path,
    db: pw.SqliteDatabase,
    clock: ManualClock,
    inbox: Inbox,
    mail_server: Controller,
) -> None:
    settings = settings_from(tmp_path, db_path, email_sync(mail_server.port))
    raise_damage(
        settings,
        clock,
        person=NASTY,
        item="Camera\nX-Injected: yes " + "very long name " * 200,
        note="Lens\r\nSubject: free iPads\x00 cracked",
    )

    report = deliver(settings, clock)

    assert report.delivered == 1, report.errors
    [(envelope, msg, raw)] = inbox.messages
    assert envelope.rcpt_tos == ["it@hillside.example"]  # nobody added by a Bcc line
    assert "Bcc" not in msg and "X-Injected" not in msg
    assert len(msg.get_all("Subject") or []) == 1
    subject = str(msg["Subject"])
    assert "\n" not in subject and "\r" not in subject and len(subject) <= 200
    assert subject.startswith("Camera X-Injected: yes very long name")
    assert b"\x00" not in raw and b"\x07" not in raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    plain = msg.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "Amira Bcc: everyone@elsewhere.example Khan the second" in text
    assert "Lens" in text and "Subject: free iPads cracked" in text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\r\nb", "a b"),
        ("a\x00b\x1bc\x7fd\x85e", "a b c d e"),
        ("tab\there", "tab here"),
        ("line\u2028para\u2029end", "line para end"),
        ("zero\u200bwidth", "zero width"),
        ("Siân Evans", "Siân Evans"),
        ("x" * 500, "x" * 197 + "..."),
    ],
)
def test_one_line_header_values(raw: str, clean: str) -> None:
    assert one_line(raw) == clean


# --- addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("office.school.example", "needs a name, an @ and a domain"),
        ("office@@school.example", "more than one @"),
        ("office @school.example", "a space"),
        ("office@school.example\n", "spaces around it"),
        ("<office@school.example>", "< >"),
        ("office@-school.example", "not a valid internet domain"),
        ("office@" + "a" * 64 + ".example", "not a valid internet domain"),
    ],
)
def test_an_address_that_can_never_be_used_is_refused_when_the_settings_load(
    tmp_path: Path, db_path: Path, address: str, why: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, db_path, email_sync(25, to=f"[{address!r}]".replace("'", '"')))
    message = str(caught.value)
    assert message.startswith("kiosk.toml: [sync.channels.it_mail] to: ")
    assert why in message


def test_a_bad_sender_address_is_refused_when_the_settings_load(
    tmp_path: Path, db_path: Path
) -> None:
    sync = email_sync(25).replace("kiosk@hillside.example", "kiosk at hillside")
    with pytest.raises(ConfigError, match=r"\[sync.smtp\] from_address: 'kiosk at hillside'"):
        settings_from(tmp_path, db_path, sync)


def test_a_domain_with_accents_is_sent_as_idna(
    tmp_path: Path,
    db_path: Path,
    db: pw.SqliteDatabase,
    clock: ManualClock,
    inbox: Inbox,
    mail_server: Controller,
) -> None:
    to = '["swyddfa@ysgol-môn.cymru"]'
    settings = settings_from(tmp_path, db_path, email_sync(mail_server.port, to=to))
    raise_damage(settings, clock)
    assert deliver(settings, clock).delivered == 1
    [(envelope, msg, _)] = inbox.messages
    assert envelope.rcpt_tos == ["swyddfa@xn--ysgol-mn-b4a.cymru"]
    assert str(msg["To"]) == "swyddfa@xn--ysgol-mn-b4a.cymru"


def test_accents_before_the_at_go_by_smtputf8_where_the_server_offers_it(
    tmp_path: Path, db_path: Path, db: pw.SqliteDatabase, clock: ManualClock, inbox: Inbox
) -> None:
    server = Controller(inbox, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=True)
    server.start()
    try:
        to = '["siân@ysgol.cymru"]'
        settings = settings_from(tmp_path, db_path, email_sync(server.port, to=to))
        raise_damage(settings, clock)
        assert deliver(settings, clock).delivered == 1
    finally:
        server.stop()
    [(envelope, msg, _)] = inbox.messages
    assert envelope.rcpt_tos == ["siân@ysgol.cymru"]
    assert "SMTPUTF8" in envelope.mail_options
    assert str(msg["To"]) == "siân@ysgol.cymru"


def test_accents_before_the_at_without_smtputf8_say_so_not_starttls(
    tmp_path: Path, db_path: Path, db: pw.SqliteDatabase, clock: ManualClock, inbox: Inbox
) -> None:
    server = Controller(inbox, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=False)
    server.start()
    try:
        to = '["siân@ysgol.cymru"]'
        settings = settings_from(tmp_path, db_path, email_sync(server.port, to=to))
        raise_damage(settings, clock)
        report = deliver(settings, clock)
    finally:
        server.stop()
    assert report.delivered == 0
    [error] = report.errors
    assert "does not offer SMTPUTF8" in error and "siân@ysgol.cymru" in error
    assert "starttls" not in error.lower() and "security" not in error
    assert "[sync.channels.it_mail] to" in error
    assert inbox.messages == []


# --- security: STARTTLS, implicit TLS, none ---------------------------------------------------


def server_tls() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(DATA / "smtp-test.crt", DATA / "smtp-test.key")
    return context


def client_tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(DATA / "smtp-test.crt"))


def test_implicit_tls_on_its_own_port(
    tmp_path: Path, db_path: Path, db: pw.SqliteDatabase, clock: ManualClock, inbox: Inbox
) -> None:
    """security = "tls": TLS from the first byte (port 465), as many school mail hosts want."""
    server = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        ssl_context=server_tls(),
        server_hostname="127.0.0.1",
    )
    server.start()
    try:
        sync = email_sync(server.port).replace('security = "none"', 'security = "tls"')
        settings = settings_from(tmp_path, db_path, sync)
        assert settings.sync.smtp.mode == "tls"
        raise_damage(settings, clock)
        sender = EmailSender(
            "it_mail",
            settings.sync.channels["it_mail"],
            settings.sync.smtp,
            settings.sync.timeout_seconds,
            ZoneInfo("Europe/London"),
            tls_context=client_tls(),
        )
        report = deliver(settings, clock, senders={"it_mail": sender})
        assert report.delivered == 1, report.errors
    finally:
        server.stop()
    assert len(inbox.messages) == 1


def test_implicit_tls_to_a_plain_port_says_what_to_check(
    tmp_path: Path,
    db_path: Path,
    db: pw.SqliteDatabase,
    clock: ManualClock,
    inbox: Inbox,
    mail_server: Controller,
) -> None:
    sync = email_sync(mail_server.port).replace('security = "none"', 'security = "tls"')
    settings = settings_from(tmp_path, db_path, sync)
    raise_damage(settings, clock)
    sender = EmailSender(
        "it_mail",
        settings.sync.channels["it_mail"],
        settings.sync.smtp,
        settings.sync.timeout_seconds,
        ZoneInfo("Europe/London"),
        tls_context=client_tls(),
    )
    report = deliver(settings, clock, senders={"it_mail": sender})
    assert report.delivered == 0
    assert (
        "is 127.0.0.1:" in report.errors[0] and 'a port for security = "tls"?' in report.errors[0]
    )


@pytest.mark.parametrize(
    ("smtp", "mode", "port"),
    [
        ("", "starttls", 587),
        ('security = "tls"', "tls", 465),
        ('security = "none"', "none", 25),
        ("starttls = true", "starttls", 587),  # settings files written before `security`
        ("starttls = false", "none", 25),
        ('security = "tls"\nport = 2465', "tls", 2465),
        ('security = "starttls"\nstarttls = true', "starttls", 587),
    ],
)
def test_security_and_its_usual_port(
    tmp_path: Path, db_path: Path, smtp: str, mode: str, port: int
) -> None:
    toml = f'[sync.smtp]\nhost = "mail.example"\nfrom_address = "k@hillside.example"\n{smtp}\n'
    settings = settings_from(tmp_path, db_path, toml)
    assert (settings.sync.smtp.mode, settings.sync.smtp.port_number) == (mode, port)


@pytest.mark.parametrize(
    ("smtp", "said"),
    [
        (
            'security = "ssl"',
            "[sync.smtp] security: expected one of starttls, tls, none, got 'ssl'",
        ),
        (
            'security = "tls"\nstarttls = true',
            '[sync.smtp] starttls: true contradicts security = "tls"; remove the starttls line',
        ),
        ("port = 70000", "[sync.smtp] port: expected a port number 1-65535"),
    ],
)
def test_smtp_security_mistakes_are_refused_in_one_line(
    tmp_path: Path, db_path: Path, smtp: str, said: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, db_path, f'[sync.smtp]\nhost = "mail.example"\n{smtp}\n')
    assert said in str(caught.value) and "\n" not in str(caught.value)


# --- receivers that answer a byte at a time ---------------------------------------------------


class Dribbler:
    """A TCP server that reads what it is sent and answers one byte at a time, for ever.

    ``greeting`` is sent at once on connecting (SMTP speaks first), ``answer`` after the
    request has arrived (HTTP); either way the last part repeats without end, so only a
    deadline on the whole answer ends the attempt.
    """

    def __init__(self, *, first: bytes, repeat: bytes, speaks_first: bool) -> None:
        self.first, self.repeat, self.speaks_first = first, repeat, speaks_first
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.stop = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def _dribble(self, conn: socket.socket) -> None:
        with conn:
            try:
                if not self.speaks_first:
                    conn.recv(65536)  # the request (headers and a small body)
                stream = iter(self.first)
                while not self.stop.wait(0.02):
                    byte = next(stream, None)
                    if byte is None:
                        stream = iter(self.repeat)
                        continue
                    conn.sendall(bytes([byte]))
            except OSError:
                return  # the client gave up and closed: what the deadline is for

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def run_pass_in_background(settings: Settings, clock: ManualClock) -> DeliveryReport:
    """One delivery pass on its own thread; it must end by itself (waited on as an event)."""
    reports: list[DeliveryReport] = []
    done = threading.Event()

    def run() -> None:
        reports.append(deliver(settings, clock))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(timeout=60), "the pass never ended: a slow receiver held it"
    return reports[0]


def dribbled_delivery_failed(error: str) -> None:
    row = Delivery.get()
    assert row.delivered_at is None and row.attempts == 1
    assert row.last_error == error
    assert Outbox.get().delivered_at is None


@pytest.mark.parametrize("kind", ["webhook", "teams"])
def test_a_receiver_that_answers_a_byte_at_a_time_fails_the_attempt_and_the_pass_ends(
    kind: str, tmp_path: Path, db_path: Path, db: pw.SqliteDatabase, clock: ManualClock
) -> None:
    slow = Dribbler(
        first=b"HTTP/1.1 200 OK\r\n", repeat=b"X-Still-Coming: yes\r\n", speaks_first=False
    )
    try:
        secret = f'secret = "{SECRET}"\n' if kind == "webhook" else ""
        settings = settings_from(
            tmp_path,
            db_path,
            "[sync]\ntimeout_seconds = 0.5\n\n"
            f'[sync.channels.slow]\ntype = "{kind}"\nurl = "http://127.0.0.1:{slow.port}/in"\n'
            f'{secret}\n[sync.routes]\nit = ["slow"]\n',
        )
        raise_damage(settings, clock)
        report = run_pass_in_background(settings, clock)
    finally:
        slow.close()
    assert report.delivered == 0
    [error] = report.errors
    assert error.endswith(f"no complete answer from 127.0.0.1:{slow.port} within 0.5 seconds.")
    dribbled_delivery_failed(error)


def test_a_mail_server_that_greets_a_byte_at_a_time_fails_the_attempt_and_the_pass_ends(
    tmp_path: Path, db_path: Path, db: pw.SqliteDatabase, clock: ManualClock
) -> None:
    slow = Dribbler(first=b"220-mail.example\r\n", repeat=b"220-still here\r\n", speaks_first=True)
    try:
        sync = email_sync(slow.port).replace("timeout_seconds = 5", "timeout_seconds = 0.5")
        settings = settings_from(tmp_path, db_path, sync)
        raise_damage(settings, clock)
        report = run_pass_in_background(settings, clock)
    finally:
        slow.close()
    assert report.delivered == 0
    [error] = report.errors
    assert error == (
        f"email it_mail: no complete answer from the mail server 127.0.0.1:{slow.port} "
        "within 0.5 seconds."
    )
    dribbled_delivery_failed(error)


# --- Teams cards ------------------------------------------------------------------------------


def text_blocks(node: Any) -> list[str]:
    """Every TextBlock text and Fact in a card: what Teams reads as Markdown."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            found.append(node["text"])
        if node.get("type") == "FactSet":
            found += [f"{f['title']} {f['value']}" for f in node["facts"]]
        for value in node.values():
            found += text_blocks(value)
    elif isinstance(node, list):
        for value in node:
            found += text_blocks(value)
    return found


def text_runs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "TextRun" else []
        return own + [t for v in node.values() for t in text_runs(v)]
    if isinstance(node, list):
        return [t for v in node for t in text_runs(v)]
    return []


MARKDOWN_NOTE = "Screen cracked, see [the photos](https://evil.example/x) **now** _please_"


def test_staff_text_in_a_teams_card_is_never_markdown(
    tmp_path: Path,
    db_path: Path,
    db: pw.SqliteDatabase,
    clock: ManualClock,
    hook_server: HTTPServer,
) -> None:
    settings = settings_from(
        tmp_path,
        db_path,
        f'[sync.channels.it_teams]\ntype = "teams"\nurl = "{hook_server.url_for("/wf")}"\n\n'
        '[sync.routes]\nit = ["it_teams"]\n',
    )
    hook_server.expect_request("/wf", method="POST").respond_with_data("", status=202)
    raise_damage(settings, clock, person="[Ms Khan](https://evil.example)", note=MARKDOWN_NOTE)

    assert deliver(settings, clock).delivered == 1

    [(request, _)] = hook_server.log
    card = request.get_json()["attachments"][0]["content"]
    runs = text_runs(card)
    assert MARKDOWN_NOTE in runs
    assert "[Ms Khan](https://evil.example)" in runs
    blocks = text_blocks(card)
    assert not any("evil.example" in b or "**" in b for b in blocks), blocks
    assert set(blocks) <= {"Item", "Person", "Signed out", "Due back", "Phone number", "Trip"}


def test_an_end_of_day_summary_card_keeps_item_names_out_of_markdown() -> None:
    from datetime import UTC, datetime

    alert = Alert(
        outbox_id=1,
        key="summary:2026-11-23",
        kind="summary",
        audience="office",
        payload={
            "kind": "summary",
            "school": "Hillside *Primary*",
            "summary": "1 item still out at 16:00",
            "items": [{"item": "[Camera](https://evil.example)", "person": "_Amira_"}],
        },
        created_at=datetime(2026, 11, 23, 16, 0, tzinfo=UTC),
    )
    card = card_for(alert, ZoneInfo("Europe/London"))["attachments"][0]["content"]
    assert "[Camera](https://evil.example)" in text_runs(card)
    assert "Hillside *Primary*" in text_runs(card)
    assert not any("evil" in b or "Hillside" in b for b in text_blocks(card))

"""Email over SMTP: STARTTLS, implicit TLS or neither; login when configured; two parts.

The alert's wire id (``outbox.uid``) becomes the Message-ID, so a message sent again after a crash
carries the same id and mail systems that de-duplicate can drop it.

One SMTP connection per worker thread is kept for the pass (a backlog after an
outage is sent without a login per message) and closed at the end of it.
A wrong password is the usual set-up mistake; it is reported in words the IT
lead can act on, and the alert waits for the next attempt.

Names and notes typed at the kiosk end up in the Subject and the body: header
values are cleaned (no line breaks, NUL or other control characters, a bounded
length), so no text in the database can break a message or add a header.
Addresses were checked when the settings were loaded; here their domains are
sent as IDNA, and an address with letters outside English before the @ is sent
with SMTPUTF8 where the server offers it, or refused with a message that says so.
Every attempt, from connecting to the server's last reply, has one total
deadline (``sync.channels.deadline``).
"""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
import threading
import unicodedata
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from zoneinfo import ZoneInfo

from kiosk.settings import Channel, Smtp
from kiosk.settings.checks import email_address_problem
from sync.channels.base import Alert, Outcome, SendResult
from sync.channels.deadline import Attempt, deadline
from sync.channels.render import SUMMARY_COLUMNS, render

log = logging.getLogger(__name__)

SmtpFactory = Callable[..., smtplib.SMTP]


def message_id(alert: Alert) -> str:
    safe = "".join(c if c.isalnum() or c in "-." else "." for c in alert.key)
    return f"<{safe}@kiosk.alerts>"


#: The longest Subject kept (the rest becomes "..."); RFC 5322 advises 78 per line.
SUBJECT_LIMIT = 200
#: The longest single line of text kept in the body (SMTP allows 998 bytes a line).
LINE_LIMIT = 900


def one_line(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """``text`` as one clean line: control characters and line breaks become spaces.

    Covers CR, LF, NUL, tabs, the other C0/C1 controls, Unicode line and paragraph
    separators and other format characters; runs of spaces become one; then at most
    ``limit`` characters.
    """
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") else c
        for c in str(text)
    )
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3].rstrip() + "..."


def body_text(text: str) -> str:
    """Body text: line breaks kept (as \\n), every other control character a space."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(one_line(line, LINE_LIMIT) for line in lines)


def smtp_address(address: str) -> str:
    """``address`` as SMTP sends it: the domain in IDNA ("xn--..."), the local part as is."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


class NoRecipient(ValueError):
    """A to_borrower channel was given an alert with no usable address for the borrower."""


def recipients(alert: Alert, channel: Channel) -> list[str]:
    """Who this alert is written to, as SMTP sends them: the channel's list, or for a
    ``to_borrower`` channel the borrower's own address from the alert, and nobody else.

    The channel's list was checked when the settings were loaded; a borrower's address
    comes from the staff list and is checked here, by the same rule.
    """
    if not channel.to_borrower:
        return [smtp_address(a) for a in channel.to]
    person = alert.payload.get("person") or {}
    address = str(person.get("email") or "")
    # One address, nothing that could add a header or another recipient.
    if why := email_address_problem(address):
        raise NoRecipient(
            f"no usable email address for {person.get('name') or 'the borrower'} "
            f"({address!r}: {why}): check their email in the staff list"
        )
    return [smtp_address(address)]


def message_for(alert: Alert, channel: Channel, smtp: Smtp, tz: ZoneInfo) -> EmailMessage:
    r = render(alert.payload, tz)
    title, school = one_line(r.title), one_line(r.school)
    msg = EmailMessage()
    msg["Subject"] = one_line(f"{title} ({school})" if school else title)
    msg["From"] = smtp_address(smtp.from_address)
    msg["To"] = ", ".join(recipients(alert, channel))
    msg["Date"] = formatdate(alert.created_at.timestamp(), localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(alert)
    msg["X-Kiosk-Alert-Id"] = one_line(alert.key)
    lines = [title, ""]
    lines += [f"{one_line(k)}: {one_line(v, LINE_LIMIT)}" for k, v in r.facts]
    if r.note:
        lines += ["", body_text(r.note)]
    if r.rows:
        lines.append("")
        lines += [one_line(" | ".join(c for c in row if c), LINE_LIMIT) for row in r.rows]
    lines += ["", f"-- {school} sign-out kiosk (alert {one_line(alert.key)})"]
    msg.set_content("\n".join(lines) + "\n")

    def e(text: str) -> str:
        return html.escape(body_text(text))

    parts = [f"<h2>{e(r.title)}</h2>"]
    if r.facts:
        parts.append(
            "<table>"
            + "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in r.facts)
            + "</table>"
        )
    if r.note:
        parts.append(f"<p>{e(r.note)}</p>")
    if r.rows:
        head = "".join(f"<th align='left'>{e(c)}</th>" for c in SUMMARY_COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in r.rows
        )
        parts.append(f"<table><tr>{head}</tr>{body}</table>")
    parts.append(f"<p><small>{e(r.school)} sign-out kiosk (alert {e(alert.key)})</small></p>")
    msg.add_alternative("<html><body>" + "".join(parts) + "</body></html>", subtype="html")
    return msg


class EmailSender:
    def __init__(
        self,
        name: str,
        channel: Channel,
        smtp: Smtp,
        timeout: float,
        tz: ZoneInfo,
        *,
        smtp_factory: SmtpFactory = smtplib.SMTP,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.channel = channel
        self.smtp = smtp
        self.timeout = timeout
        self.tz = tz
        self._factory = smtp_factory
        self._tls = tls_context
        self._local = threading.local()
        self._open: list[smtplib.SMTP] = []
        self._lock = threading.Lock()
        self._from = smtp_address(smtp.from_address)

    def not_ready(self) -> str:
        return ""

    def _tls_context(self) -> ssl.SSLContext:
        return self._tls or ssl.create_default_context()

    def _connection(self, attempt: Attempt) -> smtplib.SMTP:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        if conn is not None:
            attempt.watch(conn)
            return conn
        mode = self.smtp.mode
        # Made without a host, so that it connects (and reads the greeting) under the
        # attempt's deadline rather than inside the constructor.
        if mode == "tls":
            conn = smtplib.SMTP_SSL(timeout=self.timeout, context=self._tls_context())
        else:
            conn = self._factory(timeout=self.timeout)
        # The name TLS checks the certificate against; smtplib keeps it from the
        # constructor's host argument, which is not given here.
        conn._host = self.smtp.host  # type: ignore[attr-defined]
        attempt.watch(conn)
        try:
            conn.connect(self.smtp.host, self.smtp.port_number)
            attempt.watch(conn)  # it has its socket now
            conn.ehlo()
            if mode == "starttls":
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            if self.smtp.username:
                conn.login(self.smtp.username, self.smtp.password)
        except BaseException:
            _quietly_close(conn)
            raise
        self._local.conn = conn
        with self._lock:
            self._open.append(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)
            _quietly_close(conn)

    def _deliver(
        self, conn: smtplib.SMTP, msg: EmailMessage, to: list[str]
    ) -> dict[str, tuple[int, bytes]]:
        unicode = [a for a in (self._from, *to) if not a.isascii()]
        if unicode and not conn.has_extn("smtputf8"):
            raise _NoSmtpUtf8(unicode)
        return conn.send_message(msg, self._from, to)

    def send(self, alert: Alert) -> SendResult:
        with deadline(self.timeout) as attempt:
            result = self._send(alert, attempt)
        return result

    def _send(self, alert: Alert, attempt: Attempt) -> SendResult:
        what = f"email {self.name}"
        server = f"{self.smtp.host}:{self.smtp.port_number}"
        try:
            to = recipients(alert, self.channel)
        except NoRecipient as exc:
            # Trying again cannot help: the address is the alert's own.
            return SendResult(Outcome.GONE, f"{what}: {exc}.")
        msg = message_for(alert, self.channel, self.smtp, self.tz)
        try:
            try:
                conn = self._connection(attempt)
                refused = self._deliver(conn, msg, to)
            except smtplib.SMTPServerDisconnected:
                if attempt.expired:
                    raise
                # A kept connection the server has since closed: one fresh try.
                self._drop()
                conn = self._connection(attempt)
                refused = self._deliver(conn, msg, to)
        except _NoSmtpUtf8 as exc:
            self._drop()
            if self.channel.to_borrower and self._from.isascii():
                # This borrower's address only: the channel works for everyone else.
                return SendResult(
                    Outcome.GONE,
                    f"{what}: the mail server {server} does not take addresses with letters "
                    f"outside English before the @ (it does not offer SMTPUTF8): "
                    f"{', '.join(exc.addresses)}. Give this person a plain address in the "
                    "staff list.",
                )
            return SendResult(
                Outcome.RETRY,
                f"{what}: the mail server {server} does not take addresses with letters "
                f"outside English before the @ (it does not offer SMTPUTF8): "
                f"{', '.join(exc.addresses)}. Use a plain address in [sync.channels."
                f"{self.name}] to (or [sync.smtp] from_address), or a server that offers it.",
                channel_down=True,
            )
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            if attempt.expired:
                return SendResult(
                    Outcome.RETRY,
                    f"{what}: no complete answer from the mail server {server} within "
                    f"{self.timeout:g} seconds.",
                    channel_down=True,
                )
            return self._failed(what, server, exc)
        if refused:
            # The server took the message for some addresses: it is delivered, but say so.
            log.warning(
                "%s: the mail server refused some addresses for %s: %s",
                what,
                alert.key,
                ", ".join(refused),
            )
        return SendResult(Outcome.DELIVERED, status=250)

    def _failed(self, what: str, server: str, exc: Exception) -> SendResult:
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return SendResult(
                Outcome.RETRY,
                f"{what}: the mail server {server} refused the username or password "
                f"({exc.smtp_code} {_text(exc.smtp_error)}). Check [sync.smtp] username and "
                "password; the alert will be sent once they are right.",
                status=exc.smtp_code,
                channel_down=True,
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return SendResult(
                Outcome.RETRY,
                f"{what}: the mail server {server} does not support what the settings ask "
                f"({exc}). Check [sync.smtp] security and username.",
                channel_down=True,
            )
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            who = ", ".join(f"{a} ({c} {_text(m)})" for a, (c, m) in exc.recipients.items())
            return SendResult(
                Outcome.RETRY,
                f"{what}: the mail server refused every address: {who}.",
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            return SendResult(
                Outcome.RETRY,
                f"{what}: the mail server {server} answered {exc.smtp_code} "
                f"{_text(exc.smtp_error)}.",
                status=exc.smtp_code,
                channel_down=exc.smtp_code >= 400,
            )
        if isinstance(exc, ssl.SSLError) and self.smtp.mode == "tls":
            reason = f'TLS failed: {exc.reason or exc}; is {server} a port for security = "tls"?'
        elif isinstance(exc, ConnectionRefusedError):
            reason = "connection refused"
        else:
            reason = str(exc)
        return SendResult(
            Outcome.RETRY,
            f"{what}: cannot reach the mail server {server} ({reason}).",
            channel_down=True,
        )

    def close(self) -> None:
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(conn)
        self._local = threading.local()


class _NoSmtpUtf8(Exception):
    def __init__(self, addresses: list[str]) -> None:
        super().__init__(", ".join(addresses))
        self.addresses = addresses


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _quietly_close(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except OSError:
        log.debug("closing an SMTP connection failed", exc_info=True)

"""Email over SMTP: STARTTLS and login when configured, a plain text and an HTML part.

The alert's wire id (``outbox.uid``) becomes the Message-ID, so a message sent again after a crash
carries the same id and mail systems that de-duplicate can drop it.

One SMTP connection per worker thread is kept for the pass (a backlog after an
outage is sent without a login per message) and closed at the end of it.
A wrong password is the usual set-up mistake; it is reported in words the IT
lead can act on, and the alert waits for the next attempt.
"""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from zoneinfo import ZoneInfo

from kiosk.settings import Channel, Smtp
from sync.channels.base import Alert, Outcome, SendResult
from sync.channels.render import SUMMARY_COLUMNS, render

log = logging.getLogger(__name__)

SmtpFactory = Callable[..., smtplib.SMTP]


def message_id(alert: Alert) -> str:
    safe = "".join(c if c.isalnum() or c in "-." else "." for c in alert.key)
    return f"<{safe}@kiosk.alerts>"


def message_for(alert: Alert, channel: Channel, smtp: Smtp, tz: ZoneInfo) -> EmailMessage:
    r = render(alert.payload, tz)
    msg = EmailMessage()
    msg["Subject"] = f"{r.title} ({r.school})" if r.school else r.title
    msg["From"] = smtp.from_address
    msg["To"] = ", ".join(channel.to)
    msg["Date"] = formatdate(alert.created_at.timestamp(), localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(alert)
    msg["X-Kiosk-Alert-Id"] = alert.key
    lines = [r.title, ""]
    lines += [f"{k}: {v}" for k, v in r.facts]
    if r.note:
        lines += ["", r.note]
    if r.rows:
        lines.append("")
        lines += [" | ".join(c for c in row if c) for row in r.rows]
    lines += ["", f"-- {r.school} sign-out kiosk (alert {alert.key})"]
    msg.set_content("\n".join(lines) + "\n")
    e = html.escape
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

    def not_ready(self) -> str:
        return ""

    def _connection(self) -> smtplib.SMTP:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        conn = self._factory(self.smtp.host, self.smtp.port, timeout=self.timeout)
        try:
            conn.ehlo()
            if self.smtp.starttls:
                conn.starttls(context=self._tls or ssl.create_default_context())
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

    def send(self, alert: Alert) -> SendResult:
        what = f"email {self.name}"
        server = f"{self.smtp.host}:{self.smtp.port}"
        msg = message_for(alert, self.channel, self.smtp, self.tz)
        try:
            try:
                conn = self._connection()
                refused = conn.send_message(msg, self.smtp.from_address, list(self.channel.to))
            except smtplib.SMTPServerDisconnected:
                # A kept connection the server has since closed: one fresh try.
                self._drop()
                conn = self._connection()
                refused = conn.send_message(msg, self.smtp.from_address, list(self.channel.to))
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            return SendResult(
                Outcome.RETRY,
                f"{what}: the mail server {server} refused the username or password "
                f"({exc.smtp_code} {_text(exc.smtp_error)}). Check [sync.smtp] username and "
                "password; the alert will be sent once they are right.",
                status=exc.smtp_code,
                channel_down=True,
            )
        except smtplib.SMTPNotSupportedError as exc:
            self._drop()
            return SendResult(
                Outcome.RETRY,
                f"{what}: the mail server {server} does not support what the settings ask "
                f"({exc}). Check [sync.smtp] starttls and username.",
                channel_down=True,
            )
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop()
            who = ", ".join(f"{a} ({c} {_text(m)})" for a, (c, m) in exc.recipients.items())
            return SendResult(
                Outcome.RETRY,
                f"{what}: the mail server refused every address: {who}.",
            )
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return SendResult(
                Outcome.RETRY,
                f"{what}: the mail server {server} answered {exc.smtp_code} "
                f"{_text(exc.smtp_error)}.",
                status=exc.smtp_code,
                channel_down=exc.smtp_code >= 400,
            )
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else exc
            return SendResult(
                Outcome.RETRY,
                f"{what}: cannot reach the mail server {server} ({reason}).",
                channel_down=True,
            )
        if refused:
            # The server took the message for some addresses: it is delivered, but say so.
            log.warning(
                "%s: the mail server refused some addresses for %s: %s",
                what,
                alert.key,
                ", ".join(refused),
            )
        return SendResult(Outcome.DELIVERED, status=250)

    def close(self) -> None:
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(conn)
        self._local = threading.local()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _quietly_close(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except OSError:
        log.debug("closing an SMTP connection failed", exc_info=True)

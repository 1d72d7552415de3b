"""What makes settings right beyond their types: the kiosk's own rules for its keys.

Each check returns problems rather than raising, so that ``load_settings`` can
list every mistake in one start-up ("[kinds.camera] due: expected one of ...",
"[sync.routes] slt: 'slt_temas' is not a channel"). The loader says which file
or variable each one came from.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import NamedTuple
from zoneinfo import ZoneInfo

from kiosk.settings.schema import (
    ALERT_KINDS,
    AUDIENCES,
    BORROWER_KINDS,
    CHANNEL_TYPES,
    CHECKS,
    DUE_RULES,
    SMTP_SECURITY,
    WEEKDAYS,
    Settings,
    Smtp,
    Sync,
    Trust,
    Web,
)

Keys = tuple[str, ...]


class Problem(NamedTuple):
    """One mistake: where it is (section and key names) and what is wrong, in words."""

    keys: Keys
    message: str


def problems(s: Settings) -> list[Problem]:
    """Every rule the settings break, in the order of the file's sections, each once."""
    found = [
        *_school(s),
        *_kinds(s),
        *_kiosk(s),
        *_hardware(s),
        *_alerts(s),
        *_reminders(s),
        *_sync(s.sync),
        *_web(s.web),
        *_trust(s.trust),
    ]
    return list(dict.fromkeys(found))


def _school(s: Settings) -> Iterator[Problem]:
    for day in s.school.school_days:
        if day not in WEEKDAYS:
            yield Problem(("school", "school_days"), f"{day!r} is not one of {', '.join(WEEKDAYS)}")
    try:
        ZoneInfo(s.school.timezone)
    except (KeyError, ValueError, OSError):
        yield Problem(("school", "timezone"), f"unknown time zone {s.school.timezone!r}")
    for term in s.school.terms:
        if term.end < term.start:
            yield Problem(("school", "terms"), f"a term ends ({term.end}) before it starts")


def _kinds(s: Settings) -> Iterator[Problem]:
    for name, rule in s.kinds.items():
        if rule.due not in DUE_RULES:
            yield Problem(
                ("kinds", name, "due"),
                f"expected one of {', '.join(DUE_RULES)}, got {rule.due!r}",
            )
        for check in rule.checklist:
            if check not in CHECKS:
                yield Problem(
                    ("kinds", name, "checklist"), f"{check!r} is not one of {', '.join(CHECKS)}"
                )


def _kiosk(s: Settings) -> Iterator[Problem]:
    for key in (
        "session_seconds",
        "double_tap_seconds",
        "undo_seconds",
        "confirm_seconds",
        "admin_idle_seconds",
    ):
        if getattr(s.kiosk, key) <= 0:
            yield Problem(("kiosk", key), "must be more than 0")


def _hardware(s: Settings) -> Iterator[Problem]:
    for key, problem in s.hardware.problems():
        yield Problem(("hardware", *key.split(".")), problem)


def _alerts(s: Settings) -> Iterator[Problem]:
    if s.alerts.escalate_after_minutes < s.alerts.overdue_grace_minutes:
        yield Problem(
            ("alerts", "escalate_after_minutes"), "must not be less than overdue_grace_minutes"
        )


def _reminders(s: Settings) -> Iterator[Problem]:
    r = s.reminders
    if r.before_minutes < 0:
        yield Problem(("reminders", "before_minutes"), "must not be less than 0")
    if not r.enabled:
        return
    kinds = ["reminder"] if r.before_minutes else []
    kinds += ["reminder_overdue"] if r.when_overdue else []
    if not kinds:
        yield Problem(
            ("reminders", "enabled"), "nothing to send: before_minutes is 0 and when_overdue false"
        )
    for kind in kinds:
        if not s.sync.channels_for(kind, "borrower"):
            yield Problem(
                ("reminders", "enabled"),
                "reminders need somewhere to go: an email channel with to_borrower = true, "
                'named in [sync.routes] borrower = ["its name"]',
            )
            break


def _route_audience(key: str) -> str:
    """Who the alerts of a [sync.routes] key are for ("borrower" for the reminder kinds)."""
    if key in AUDIENCES:
        return key
    return "borrower" if key in BORROWER_KINDS else "others"


def is_webhook_secret(secret: str) -> bool:
    raw = secret.removeprefix("whsec_")
    try:
        return len(base64.b64decode(raw, validate=True)) >= 16
    except (binascii.Error, ValueError):
        return False


def _sync(sync: Sync) -> Iterator[Problem]:
    """Routes to missing channels, channels missing what they need, impossible timings."""
    for key in ("interval_seconds", "timeout_seconds", "backoff_base_seconds", "lease_seconds"):
        if getattr(sync, key) <= 0:
            yield Problem(("sync", key), "must be more than 0")
    for key in ("max_attempts", "batch_size", "workers"):
        if getattr(sync, key) < 1:
            yield Problem(("sync", key), "must be at least 1")
    if sync.backoff_cap_seconds < sync.backoff_base_seconds:
        yield Problem(("sync", "backoff_cap_seconds"), "must not be less than backoff_base_seconds")
    for name, ch in sync.channels.items():
        at: Keys = ("sync", "channels", name)
        if ch.type not in CHANNEL_TYPES:
            yield Problem(
                (*at, "type"), f"expected one of {', '.join(CHANNEL_TYPES)}, got {ch.type!r}"
            )
        if ch.type in ("webhook", "teams") and not ch.url.startswith(("https://", "http://")):
            yield Problem((*at, "url"), f"expected an address starting https://, got {ch.url!r}")
        if ch.type == "webhook" and not is_webhook_secret(ch.secret):
            yield Problem(
                (*at, "secret"),
                'expected a signing secret like "whsec_" followed by base64 '
                "(make one with: kiosk sync --new-secret)",
            )
        if ch.to_borrower and ch.type != "email":
            yield Problem((*at, "to_borrower"), "only an email channel can write to the borrower")
        if ch.type == "email":
            if ch.to_borrower and ch.to:
                yield Problem(
                    (*at, "to"),
                    "a to_borrower channel writes to each borrower's own address: leave to empty",
                )
            elif not ch.to_borrower and not ch.to:
                yield Problem(
                    (*at, "to"), f"expected a list of email addresses, got {list(ch.to)!r}"
                )
            for address in ch.to:
                if why := email_address_problem(address):
                    yield Problem((*at, "to"), f"{address!r} is not an email address: {why}")
            if not sync.smtp.host:
                yield Problem(("sync", "smtp", "host"), f"needed by email channel {name!r}")
            sender = sync.smtp.from_address
            if not sender:
                yield Problem(("sync", "smtp", "from_address"), f"needed by email channel {name!r}")
            elif why := email_address_problem(sender):
                yield Problem(
                    ("sync", "smtp", "from_address"), f"{sender!r} is not an email address: {why}"
                )
    yield from _smtp(sync.smtp)
    for key, names in sync.routes.items():
        if key not in AUDIENCES and key not in ALERT_KINDS:
            yield Problem(
                ("sync", "routes", key),
                f"unknown; expected an audience ({', '.join(AUDIENCES)}) "
                f"or an alert kind ({', '.join(ALERT_KINDS)})",
            )
        for name in names:
            if name not in sync.channels:
                known = ", ".join(sync.channels) or "none defined yet"
                yield Problem(
                    ("sync", "routes", key), f"{name!r} is not a channel (channels: {known})"
                )
                continue
            personal = sync.channels[name].to_borrower
            if _route_audience(key) == "borrower" and not personal:
                # A shared channel would show one person's reminder to everyone on it.
                yield Problem(
                    ("sync", "routes", key),
                    f"{name!r} is not a to_borrower email channel: reminders go only to "
                    "the borrower's own address",
                )
            elif _route_audience(key) != "borrower" and personal:
                yield Problem(
                    ("sync", "routes", key),
                    f"{name!r} writes to borrowers' own addresses: it can carry only reminders "
                    "(route it as borrower)",
                )


def _web(web: Web) -> Iterator[Problem]:
    """Values ``kiosk web`` could not start with (files are checked when it starts)."""
    if not 0 <= web.port <= 65535:
        yield Problem(("web", "port"), f"expected 0 to 65535, got {web.port}")
    for key in ("idle_minutes", "signin_attempts", "signin_lock_minutes"):
        if getattr(web, key) < 1:
            yield Problem(("web", key), "must be at least 1")
    if (web.tls_cert is None) != (web.tls_key is None):
        yield Problem(
            ("web", "tls_key" if web.tls_key is None else "tls_cert"),
            "set both tls_cert and tls_key (a certificate and its key) or neither",
        )
    if not web.listen.strip():
        yield Problem(("web", "listen"), 'expected an address like "127.0.0.1"')


def _smtp(smtp: Smtp) -> Iterator[Problem]:
    at: Keys = ("sync", "smtp")
    if smtp.security and smtp.security not in SMTP_SECURITY:
        yield Problem(
            (*at, "security"),
            f"expected one of {', '.join(SMTP_SECURITY)}, got {smtp.security!r}",
        )
    if smtp.security and smtp.starttls is not None:
        meant = "starttls" if smtp.starttls else "none"
        if meant != smtp.security:
            yield Problem(
                (*at, "starttls"),
                f'{str(smtp.starttls).lower()} contradicts security = "{smtp.security}"; '
                "remove the starttls line (security replaces it)",
            )
    if not 0 <= smtp.port <= 65535:
        yield Problem((*at, "port"), f"expected a port number 1-65535, got {smtp.port}")


def email_address_problem(address: str) -> str:
    """Why ``address`` cannot be used to send or receive an alert, or "" if it can.

    Letters outside English are fine: in the domain they are sent as IDNA
    ("xn--..."), before the @ they need a mail server that offers SMTPUTF8.
    """
    if not address or address != address.strip():
        return "it is empty or has spaces around it"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c in '<>,;"()[]\\' for c in address):
        return 'it has a space, a control character or one of < > , ; " ( ) [ ] \\ in it'
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "it needs a name, an @ and a domain, like office@school.example"
    if "@" in local:
        return "it has more than one @"
    if len(local.encode()) > 64:
        return "the part before the @ is longer than 64 bytes"
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return f"{domain!r} is not a valid internet domain"
    if len(ascii_domain) > 253 or any(
        not label or label.startswith("-") or label.endswith("-")
        for label in ascii_domain.split(".")
    ):
        return f"{domain!r} is not a valid internet domain"
    return ""


def _trust(trust: Trust) -> Iterator[Problem]:
    if trust.connect_timeout_seconds < 2:
        # libpq treats anything below 2 seconds as 2.
        yield Problem(("trust", "connect_timeout_seconds"), "must be at least 2")
    if trust.statement_timeout_seconds <= 0:
        yield Problem(("trust", "statement_timeout_seconds"), "must be more than 0")
    if not 1 <= trust.batch_size <= 10_000:
        yield Problem(("trust", "batch_size"), "must be from 1 to 10000")

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
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from kiosk.settings.schema import (
    ALERT_KINDS,
    AUDIENCES,
    CHANNEL_TYPES,
    CHECKS,
    DUE_RULES,
    WEEKDAYS,
    Settings,
    Sync,
)

Keys = tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """One mistake: where it is (section and key names) and what is wrong, in words."""

    keys: Keys
    message: str


def problems(s: Settings) -> list[Problem]:
    """Every rule the settings break, in the order of the file's sections, each once."""
    found = [*_school(s), *_kinds(s), *_kiosk(s), *_hardware(s), *_alerts(s), *_sync(s.sync)]
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
        if ch.type == "email":
            if not ch.to or any("@" not in a for a in ch.to):
                yield Problem(
                    (*at, "to"), f"expected a list of email addresses, got {list(ch.to)!r}"
                )
            if not sync.smtp.host:
                yield Problem(("sync", "smtp", "host"), f"needed by email channel {name!r}")
            if "@" not in sync.smtp.from_address:
                yield Problem(("sync", "smtp", "from_address"), f"needed by email channel {name!r}")
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

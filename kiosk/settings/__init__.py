"""One typed, frozen settings object: defaults, then a TOML file, then ``KIOSK_*`` variables.

A school's IT lead edits ``/etc/kiosk/kiosk.toml`` by hand, so every mistake must
stop start-up naming the file, the key and what was expected; all of them at once.

- ``schema``: the sections and keys, their types, defaults and documentation.
- ``loader``: TOML and environment variables into those objects, collecting problems.
- ``checks``: the kiosk's own rules for the values (routes name channels, and so on).
"""

from __future__ import annotations

from kiosk.settings.loader import SettingsError, evolve, load_settings, settings_from
from kiosk.settings.schema import (
    ALERT_KINDS,
    AUDIENCES,
    BORROWER_KINDS,
    CHANNEL_TYPES,
    CHECKS,
    DEFAULT_CONFIG,
    DEFAULT_DB,
    DUE_RULES,
    Alerts,
    Backup,
    Channel,
    KindRule,
    Kiosk,
    Reminders,
    Retention,
    School,
    Settings,
    Smtp,
    Sync,
    Term,
    Trust,
    Web,
)

__all__ = [
    "ALERT_KINDS",
    "AUDIENCES",
    "BORROWER_KINDS",
    "CHANNEL_TYPES",
    "CHECKS",
    "DEFAULT_CONFIG",
    "DEFAULT_DB",
    "DUE_RULES",
    "Alerts",
    "Backup",
    "Channel",
    "KindRule",
    "Kiosk",
    "Reminders",
    "Retention",
    "School",
    "Settings",
    "SettingsError",
    "Smtp",
    "Sync",
    "Term",
    "Trust",
    "Web",
    "evolve",
    "load_settings",
    "settings_from",
]

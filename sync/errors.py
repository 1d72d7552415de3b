"""Errors raised by the alert rules and delivery (one subclass of the kiosk's root)."""

from __future__ import annotations

from kiosk.errors import KioskError


class SyncError(KioskError):
    """Alerts could not be raised or delivered; the message says what to fix."""


class InvalidWebhook(SyncError, ValueError):
    """A received webhook failed its signature or timestamp check (see ``sync.signing``)."""

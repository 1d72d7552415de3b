"""Exceptions of the hardware layer: one root, one subclass per failure.

Every message is for the person who can fix it (the school's IT lead at the
Pi): what is wrong and what to check, in plain English.
"""

from __future__ import annotations


class HardwareError(Exception):
    """Root of everything the hardware package raises on purpose."""


class ReaderUnavailable(HardwareError, OSError):
    """A reader cannot be started: not wired, not enabled, no permission, not plugged in."""


class FeedbackUnavailable(HardwareError, OSError):
    """The LEDs and buzzer cannot be driven (no GPIO access, pin in use)."""


class GpioUnavailable(HardwareError, OSError):
    """No pin library can drive the GPIO pins (not a Pi, lgpio missing, pin in use)."""

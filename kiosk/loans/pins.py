"""Admin PINs: stored as salted PBKDF2 hashes, checked with a lockout after wrong guesses.

An admin badge alone does not open admin at the kiosk (a badge can be lost): the
PIN must follow. Five wrong PINs in a row lock admin for five minutes (settings).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import Staff
from kiosk.errors import Refused
from kiosk.journal import Journal
from kiosk.settings import Settings

PIN_ITERATIONS = 60_000


def hash_pin(pin: str, *, iterations: int = PIN_ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2${iterations}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2":
        return False
    got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(got.hex(), digest)


class AdminPins:
    """Checks admin PINs and counts wrong ones. Not thread-safe: called under the service lock."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.journal = Journal(clock)
        self._failures = 0
        self._locked_until = 0.0

    def locked_for(self) -> float:
        """Seconds admin stays locked after too many wrong PINs (0 when open)."""
        return max(0.0, self._locked_until - self.clock.monotonic())

    def check(self, staff_pk: int, pin: str) -> bool:
        """True if ``pin`` is this admin's PIN. Too many wrong PINs lock admin for a while."""
        if self.locked_for() > 0:
            raise Refused(f"Admin is locked for {int(self.locked_for() // 60) + 1} more minutes.")
        staff = Staff.get_or_none(Staff.id == staff_pk)
        ok = bool(
            staff and staff.role == "admin" and staff.pin_hash and check_pin(pin, staff.pin_hash)
        )
        with store.write():
            self.journal.event(
                "admin_login" if ok else "admin_pin_wrong", staff_id=staff.id if staff else None
            )
        if ok:
            self._failures = 0
            return True
        self._failures += 1
        kiosk = self.settings.kiosk
        if self._failures >= kiosk.admin_pin_attempts:
            self._failures = 0
            self._locked_until = self.clock.monotonic() + kiosk.admin_lock_minutes * 60
            raise Refused(f"Wrong PIN. Admin is locked for {kiosk.admin_lock_minutes} minutes.")
        return False

    def set_pin(self, staff_pk: int, pin: str) -> None:
        if not (pin.isdigit() and 4 <= len(pin) <= 8):
            raise Refused("A PIN is 4 to 8 digits.")
        with store.write():
            staff = Staff.get_by_id(staff_pk)
            staff.pin_hash = hash_pin(pin)
            staff.save()
            self.journal.event("pin_set", staff_id=staff.id)

"""Admin PINs: stored as salted PBKDF2 hashes, checked with a lockout after wrong guesses.

An admin badge alone does not open admin at the kiosk (a badge can be lost): the
PIN must follow. Five wrong PINs in a row lock admin for five minutes (settings),
and IT are told. The count and the lock are in the audit log, not in memory, so a
restart or a power cut does not give a guesser five fresh tries.

A PIN is 4 to 8 of the digits 0-9 (what the kiosk's keypad types), and not one that
is guessed first: one digit repeated, a run (1234, 9876, 7890), a pair repeated (1212).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import re
import secrets
from datetime import timedelta

from kiosk import alerts
from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import Event, Staff
from kiosk.errors import Refused
from kiosk.journal import Journal
from kiosk.settings import Settings
from kiosk.views import AlertRaised

PIN_ITERATIONS = 60_000

_PIN = re.compile(r"[0-9]{4,8}")


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


def _is_run(pin: str, step: int) -> bool:
    """1234, 8901 (a keypad's 0 follows 9), 4321 for step -1."""
    digits = [int(c) for c in pin]
    return all((b - a) % 10 == step % 10 for a, b in itertools.pairwise(digits))


def pin_problem(pin: str) -> str:
    """Why ``pin`` may not be an admin PIN, in words; empty when it may."""
    if not _PIN.fullmatch(pin):
        if any(c.isdigit() and not c.isascii() for c in pin):
            return (
                "A PIN is typed with the digits 0-9 as on the kiosk's keypad; these digits "
                "cannot be typed there."
            )
        return "A PIN is 4 to 8 digits (0-9)."
    if len(set(pin)) == 1:
        return "That PIN is one digit repeated, the first thing a guesser tries. Choose another."
    if _is_run(pin, 1) or _is_run(pin, -1):
        return "That PIN is a run of digits (like 1234), easily guessed. Choose another."
    halves = len(pin) % 2 == 0 and pin[: len(pin) // 2] * 2 == pin
    if halves or pin[:2] * (len(pin) // 2) == pin:
        return "That PIN repeats a pair of digits (like 1212), easily guessed. Choose another."
    return ""


def minutes_word(seconds: float) -> str:
    """ "5 more minutes" for up to 300 s left, "1 more minute" for the last 60."""
    n = max(1, math.ceil(seconds / 60))
    return f"{n} more minute{'s' if n != 1 else ''}"


class AdminPins:
    """Checks admin PINs and counts wrong ones in the audit log (it survives a restart)."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.journal = Journal(clock)

    def _lock_seconds(self) -> float:
        return self.settings.kiosk.admin_lock_minutes * 60.0

    def _last(self, *actions: str) -> Event | None:
        query = Event.select().where(Event.action.in_(actions)).order_by(Event.id.desc())
        return query.first()

    def locked_for(self) -> float:
        """Seconds admin stays locked after too many wrong PINs (0 when open).

        Measured on the wall clock (the lock must outlive a restart); a clock set back
        never makes it longer than the lock's own length.
        """
        lock = self._last("admin_locked")
        if lock is None or lock.detail.get("lifted"):
            return 0.0
        opened = self._last("admin_login")
        if opened is not None and opened.id > lock.id:
            return 0.0
        ends = lock.at + timedelta(seconds=self._lock_seconds())
        left = (ends - self.clock.now()).total_seconds()
        return min(max(0.0, left), self._lock_seconds())

    def _wrong_in_a_row(self) -> int:
        since = self._last("admin_login", "admin_locked")
        query = Event.select().where(Event.action == "admin_pin_wrong")
        if since is not None:
            query = query.where(Event.id > since.id)
        return int(query.count())

    def check(self, staff_pk: int, pin: str) -> bool:
        """True if ``pin`` is this admin's PIN. Too many wrong PINs lock admin for a while."""
        left = self.locked_for()
        if left > 0:
            raise Refused(f"Admin is locked for {minutes_word(left)}.")
        staff = Staff.get_or_none(Staff.id == staff_pk)
        ok = bool(
            staff and staff.role == "admin" and staff.pin_hash and check_pin(pin, staff.pin_hash)
        )
        kiosk = self.settings.kiosk
        with store.write():
            self.journal.event(
                "admin_login" if ok else "admin_pin_wrong", staff_id=staff.id if staff else None
            )
            if ok:
                return True
            if self._wrong_in_a_row() < kiosk.admin_pin_attempts:
                return False
            locked = self.journal.event(
                "admin_locked",
                staff_id=staff.id if staff else None,
                detail={"minutes": kiosk.admin_lock_minutes, "attempts": kiosk.admin_pin_attempts},
            )
            raised = self._tell_it(staff, locked)
        told = alerts.promise(raised, self.clock.synchronised())
        raise Refused(
            f"Wrong PIN. Admin is locked for {kiosk.admin_lock_minutes} minutes. {told}".strip()
        )

    def _tell_it(self, staff: Staff | None, event_id: int) -> AlertRaised | None:
        kiosk = self.settings.kiosk
        who = staff.name if staff is not None else "someone"
        note = (
            f"{kiosk.admin_pin_attempts} wrong admin PINs in a row after {who}'s badge: admin "
            f"at the kiosk is locked for {kiosk.admin_lock_minutes} minutes. If it was not "
            f"{who}, their badge may be in the wrong hands."
        )
        return alerts.raise_alert(
            self.clock,
            kind="admin_locked",
            audience="it",
            key=alerts.event_key("admin_locked", "event", event_id, event_id),
            body=alerts.payload(
                "admin_locked",
                staff=staff,
                note=note,
                school=self.settings.school.name,
                summary="Admin at the kiosk is locked after wrong PINs",
            ),
            channels=self.settings.sync.channels_for("admin_locked", "it"),
            cause_event_id=event_id,
        )

    def set_pin(self, staff_pk: int, pin: str) -> None:
        problem = pin_problem(pin)
        if problem:
            raise Refused(problem)
        with store.write():
            staff = Staff.get_by_id(staff_pk)
            staff.pin_hash = hash_pin(pin)
            staff.save()
            self.journal.event("pin_set", staff_id=staff.id)

"""Time for reader loops and the emulated chip, injectable so tests do not wait.

A reader polls, sleeps and times out; the emulated RC522 times out too. Both
read one ``Timebase``. On the kiosk it is the real monotonic clock; in tests
and benchmarks it can be ``VirtualTimebase``, where ``sleep`` moves time
forward at once, so "a card held for 60 seconds" runs in a fraction of a second
while the driver code sees exactly the delays it asked for.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Timebase(Protocol):
    def monotonic(self) -> float:
        """Seconds from an arbitrary start; never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Let up to ``seconds`` pass, returning early (True) if ``event`` is set."""
        ...


class SystemTimebase:
    """The real clock: ``time.monotonic`` and real sleeps."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(0.0, seconds))


class VirtualTimebase:
    """Time that moves only when someone sleeps or calls ``advance``; thread-safe.

    ``sleep`` returns at once after moving time forward, and yields the GIL so
    a test thread watching the clock gets to run.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        time.sleep(0)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        self.sleep(seconds)
        return event.is_set()

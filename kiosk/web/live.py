"""Live pages: one watcher for the whole process, one rendering per change per section.

The watcher asks the database whether anyone has committed (``ChangeWatch``, a few times a
second; it costs the kiosk nothing) and bumps ``generation`` when someone has, or when the
minute turns (an item becomes overdue without any tap). Every open page waits on that one
number; a section's fragment is rendered once per generation and sent to every page
showing it, so twenty open browsers cost one query per change, not twenty.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Protocol

from kiosk import sdnotify
from kiosk.clock import Clock
from kiosk.errors import StorageError

log = logging.getLogger(__name__)

#: How often the watcher looks at the database (a tap shows well within 2 seconds).
POLL_SECONDS = 0.25
#: The shortest time between two pushes to the open pages (see ``LiveHub.run``).
MIN_PUSH_SECONDS = 0.5


class Changes(Protocol):
    """What the watcher asks (``kiosk.db.ChangeWatch``): a number that moves on each commit."""

    def version(self) -> int: ...

    def close(self) -> None: ...


class LiveHub:
    """``remote``: ``version`` asks a server (the trust's PostgreSQL), so it runs off the event
    loop, a server that cannot be reached (ConnectionError) counts as unhealthy, and each
    change of health is pushed too (the open pages then say so, and keep their figures)."""

    def __init__(
        self,
        version: Callable[[], Hashable],
        clock: Clock,
        poll_seconds: float = POLL_SECONDS,
        min_push_seconds: float = MIN_PUSH_SECONDS,
        *,
        remote: bool = False,
    ) -> None:
        self._version = version
        self._remote = remote
        self._clock = clock
        self._poll = poll_seconds
        self._min_push = min_push_seconds
        # Random start: a page that reconnects to a restarted server never sees the same
        # number for different data, so it always gets fresh fragments.
        self.generation = secrets.randbelow(1 << 30)
        # Set (and replaced by a new one) at each change: every waiter wakes, none holds a
        # lock, so cancelling many waiters at once (a shutdown) cannot deadlock them.
        self._changed: asyncio.Event | None = None
        self._cache: dict[Hashable, bytes] = {}
        self._cache_generation = self.generation
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self.healthy = True

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _minute(self) -> tuple[int, int, int, int, int]:
        t = self._clock.now()
        return (t.year, t.month, t.day, t.hour, t.minute)

    def bump(self) -> None:
        changed = self._event()
        self.generation += 1
        self._changed = asyncio.Event()
        changed.set()

    async def run(self) -> None:
        """Watch until cancelled. Pings systemd's watchdog while the database answers (always,
        when ``remote``).

        Changes closer together than ``MIN_PUSH_SECONDS`` are sent together: a morning's
        rush of taps is drawn a couple of times a second, not once per tap.
        """
        last: Hashable = None
        minute = self._minute()
        interval = sdnotify.watchdog_interval()
        pinged = pushed = time.monotonic()  # real time, whatever clock the board shows
        pending = False
        first = True
        failures = (StorageError, ConnectionError) if self._remote else (StorageError,)
        while True:
            if not first:
                await asyncio.sleep(self._poll)
            try:
                now = await asyncio.to_thread(self._version) if self._remote else self._version()
            except failures as exc:
                if self.healthy:
                    log.error("live board: cannot read the board's data: %s", exc)
                    if self._remote:
                        pending = True
                self.healthy = False
                now, first = last, False
            else:
                if not self.healthy and self._remote:
                    log.info("live board: the board's data can be read again")
                    pending = True
                self.healthy = True
                if first:
                    last, first = now, False
            # A trust server that is down is no reason to restart: the pages say so instead.
            alive = self.healthy or self._remote
            if alive and interval and time.monotonic() - pinged >= interval / 2:
                sdnotify.watchdog_ping()
                pinged = time.monotonic()
            if now != last or self._minute() != minute:
                last, minute, pending = now, self._minute(), True
            if pending and time.monotonic() - pushed >= self._min_push:
                pending, pushed = False, time.monotonic()
                self.bump()

    async def wait(self, seen: int, timeout: float) -> int:
        """The generation once it differs from ``seen``, or after ``timeout`` seconds."""
        if self.generation == seen:
            # No change in time: the caller sends a keep-alive and checks the session.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event().wait(), timeout)
        return self.generation

    async def fragment(self, key: Hashable, render: Callable[[], Awaitable[bytes]]) -> bytes:
        """``render()`` once per generation for ``key``; every other caller shares the result."""
        generation = self.generation
        if self._cache_generation != generation:
            self._cache.clear()
            self._cache_generation = generation
        if key in self._cache:
            return self._cache[key]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if self._cache_generation == generation and key in self._cache:
                return self._cache[key]
            html = await render()
            if self._cache_generation == generation == self.generation:
                self._cache[key] = html
            return html

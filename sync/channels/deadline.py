"""A total deadline for one attempt: connecting, sending, and the whole answer.

A socket time-out counts per read. A receiver that sends its answer a byte at a
time resets it with every byte: one held a sync pass for 25.8 s with a 3 s
time-out. So each attempt also gets a deadline, kept by one watcher thread for the
whole process: when it passes, the watcher shuts down the sockets the attempt is
using, the blocked read returns at once, and the attempt fails with an error that
says the receiver was too slow. Nothing is left running behind.

Channels register what they use with ``Attempt.watch(obj)``: anything with a
``sock`` attribute (http.client and urllib3 connections, ``smtplib.SMTP``) or a
socket itself. For HTTP, ``DeadlineAdapter`` registers every connection a request
uses, whoever's pool it came from. One gap: smtplib's implicit TLS (port 465) sets
``sock`` only after its TLS handshake, so a server that dribbles the handshake
itself is bounded by the per-read time-out, not the deadline.
"""

from __future__ import annotations

import contextlib
import logging
import math
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

log = logging.getLogger(__name__)


class Attempt:
    """One attempt's deadline and the connections it is using."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self._using: list[Any] = []
        self._lock = threading.Lock()

    def watch(self, thing: Any) -> None:
        """Shut ``thing``'s socket down when the deadline passes (at once if it has)."""
        with self._lock:
            if not any(t is thing for t in self._using):
                self._using.append(thing)
            expired = self.expired
        if expired:
            _shut(thing)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            using = list(self._using)
        for thing in using:
            _shut(thing)


def _shut(thing: Any) -> None:
    sock = thing if isinstance(thing, socket.socket) else getattr(thing, "sock", None)
    if isinstance(sock, socket.socket):
        # shutdown, not close: the thread blocked in recv() wakes up and the owner
        # closes its own socket as usual.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Watcher:
    """One daemon thread that expires the attempts in flight whose deadline has passed.

    Only attempts in flight are kept (a handful: one per sync worker), so finding the
    next deadline is a glance at each, and a finished attempt costs nothing more.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._live: set[Attempt] = set()
        self._waiting_until = math.inf
        self._thread: threading.Thread | None = None

    def add(self, attempt: Attempt) -> None:
        with self._cond:
            self._live.add(attempt)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sync-deadlines", daemon=True
                )
                self._thread.start()
            if attempt.deadline < self._waiting_until:
                self._cond.notify()

    def remove(self, attempt: Attempt) -> None:
        with self._cond:
            self._live.discard(attempt)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [a for a in self._live if a.deadline <= now]
                self._live.difference_update(due)
                if not due:
                    self._waiting_until = min((a.deadline for a in self._live), default=math.inf)
                    wait = self._waiting_until - now
                    self._cond.wait(None if math.isinf(wait) else wait)
                    continue
            for attempt in due:
                try:
                    attempt.expire()
                except Exception:  # one failed shutdown must not stop the other deadlines
                    log.exception("expiring an attempt failed")


_WATCHER = _Watcher()
_current = threading.local()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Attempt]:
    """Give the attempt made inside this block ``seconds`` in total (this thread)."""
    attempt = Attempt(seconds)
    _WATCHER.add(attempt)
    outer = getattr(_current, "attempt", None)
    _current.attempt = attempt
    try:
        yield attempt
    finally:
        _current.attempt = outer
        _WATCHER.remove(attempt)


def current() -> Attempt | None:
    """The attempt this thread is making, if any."""
    attempt = getattr(_current, "attempt", None)
    return attempt if isinstance(attempt, Attempt) else None


# --- HTTP (requests / urllib3) -------------------------------------------------------------


class _Watched:
    """Mixed into urllib3's connections: each request registers it with the attempt."""

    def connect(self) -> None:
        attempt = current()
        if attempt is not None:
            attempt.watch(self)
        super().connect()  # type: ignore[misc]
        if attempt is not None:
            attempt.watch(self)  # now it has its socket (shut at once if already late)

    def request(self, *args: Any, **kwargs: Any) -> Any:
        attempt = current()
        if attempt is not None:
            attempt.watch(self)  # a kept-alive connection, connected by an earlier request
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections obey the attempt's deadline (direct or by proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager

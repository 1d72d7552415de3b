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
uses, whoever's pool it came from.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
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
    """One daemon thread that runs callbacks at their deadlines (monotonic time)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def call_at(self, when: float, callback: Callable[[], None]) -> int:
        with self._cond:
            token = next(self._ids)
            heapq.heappush(self._heap, (when, token, callback))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sync-deadlines", daemon=True
                )
                self._thread.start()
            if self._heap[0][1] == token:  # sooner than what the watcher waits for
                self._cond.notify()
            return token

    def cancel(self, token: int) -> None:
        with self._cond:
            self._cancelled.add(token)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, token, callback = self._heap[0]
                left = when - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
                if token in self._cancelled:
                    self._cancelled.discard(token)
                    continue
            try:
                callback()
            except Exception:  # a failed shutdown must not stop every other deadline
                log.exception("deadline callback failed")


_WATCHER = _Watcher()
_current = threading.local()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Attempt]:
    """Give the attempt made inside this block ``seconds`` in total (this thread)."""
    attempt = Attempt(seconds)
    token = _WATCHER.call_at(attempt.deadline, attempt.expire)
    outer = getattr(_current, "attempt", None)
    _current.attempt = attempt
    try:
        yield attempt
    finally:
        _current.attempt = outer
        _WATCHER.cancel(token)


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

"""Tell systemd the kiosk is ready, and keep telling it the kiosk is still working.

``kiosk.service`` is ``Type=notify`` with a ``WatchdogSec``: systemd counts the
kiosk as started only when it sends ``READY=1`` (after the readers started, so
a reader that cannot start shows as a failed start, not a blank screen), and
restarts it when ``WATCHDOG=1`` stops arriving. The ``Watchdog`` below pings
only while its ``alive()`` check passes: a reader thread stuck in an SPI call
stops the pings and systemd restarts the kiosk, which is the one repair that
needs nobody at the Pi.

The protocol is one datagram per message to the ``AF_UNIX`` socket named in
``$NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace), so it is
written here in a few lines instead of adding a dependency. Outside systemd
(the demo, tests, a shell) there is no socket and every call is a no-op that
returns False.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def _address(env: Mapping[str, str]) -> str | None:
    """The socket address from ``$NOTIFY_SOCKET``; None when unset or not a local socket."""
    name = env.get("NOTIFY_SOCKET", "")
    if name.startswith("@"):
        # Abstract namespace: a leading NUL byte instead of the '@'.
        return "\0" + name[1:]
    if name.startswith("/"):
        return name
    # Unset, or a form this module does not speak (vsock: "vsock:CID:PORT").
    return None


def notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (``"READY=1"``, ``"WATCHDOG=1"``, ...) to systemd.

    Returns True if the message was sent; False when not run by systemd or the
    socket refused it. Never raises: a kiosk must not stop because its service
    manager went away.
    """
    address = _address(os.environ if env is None else env)
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError as exc:
        log.warning("could not notify systemd (%s): %s", state.split("=", 1)[0], exc)
        return False
    return True


def ready(env: Mapping[str, str] | None = None) -> bool:
    """The kiosk has started (readers running, screen up)."""
    return notify("READY=1", env)


def stopping(env: Mapping[str, str] | None = None) -> bool:
    """The kiosk is shutting down on purpose."""
    return notify("STOPPING=1", env)


def watchdog_ping(env: Mapping[str, str] | None = None) -> bool:
    """Still working: resets systemd's watchdog timer."""
    return notify("WATCHDOG=1", env)


def status(text: str, env: Mapping[str, str] | None = None) -> bool:
    """One line shown by ``systemctl status kiosk``."""
    return notify("STATUS=" + " ".join(text.split()), env)


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between pings (half of ``$WATCHDOG_USEC``), or None without a watchdog.

    As in libsystemd, a ``$WATCHDOG_PID`` naming another process means the
    watchdog is that process's job, not ours.
    """
    env = os.environ if env is None else env
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not a number", env.get("WATCHDOG_USEC"))
        return None
    if usec <= 0:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    return usec / 2_000_000


class Heartbeat:
    """Liveness of a loop that is not a reader: the screen's event loop, say.

    The loop calls ``beat()`` (e.g. from a one-second timer); ``alive()`` is
    true while the last beat is at most ``max_age`` seconds old. A frozen UI
    then stops the watchdog just as a stuck reader does:
    ``Watchdog(lambda: ui.alive() and all(r.alive() for r in readers))``.
    """

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self._clock = clock
        self._last = clock()

    def beat(self) -> None:
        self._last = self._clock()

    def alive(self) -> bool:
        return self._clock() - self._last <= self.max_age


class Watchdog:
    """Pings systemd's watchdog from a background thread while ``alive()`` is true.

    ``alive`` is typically ``lambda: all(r.alive() for r in readers)``: each
    reader's loop records that it went round, so a loop blocked in a driver call
    reports False. Once ``alive()`` is False the pings stop for good (a stuck
    thread cannot be unstuck from here) and systemd restarts the kiosk after
    ``WatchdogSec``.
    """

    def __init__(
        self,
        alive: Callable[[], bool],
        *,
        interval: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._alive = alive
        self._env = os.environ if env is None else env
        self.interval = interval if interval is not None else watchdog_interval(self._env)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failed = False
        """Set once ``alive()`` said False (or raised): pings have stopped."""

    def start(self) -> bool:
        """Start pinging; False (and no thread) when systemd asked for no watchdog."""
        if self.interval is None or self._thread is not None:
            return self._thread is not None
        self._thread = threading.Thread(target=self._run, name="sd-watchdog", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Stop pinging (the kiosk is exiting). Safe to call twice."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _healthy(self) -> bool:
        try:
            return bool(self._alive())
        except Exception:
            log.exception("watchdog health check failed")
            return False

    def _run(self) -> None:
        assert self.interval is not None
        # Ping at once: the service may have been slow to get here.
        while not self._stop.is_set():
            if not self._healthy():
                self.failed = True
                log.error(
                    "a reader stopped responding: no more watchdog pings, systemd will restart"
                )
                status("A reader stopped responding; restarting the kiosk", self._env)
                return
            watchdog_ping(self._env)
            self._stop.wait(self.interval)

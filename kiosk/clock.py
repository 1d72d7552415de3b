"""Time for the kiosk, injectable so that rules and tests do not read the system clock.

The Pi has no real-time clock: after a power cut it boots in the past until NTP
answers. So wall time is stored in UTC and carried with a flag saying whether
the system clock was synchronised; durations (double taps, session time-outs,
undo windows) use monotonic time, which a clock jump cannot disturb.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from kiosk.errors import ConfigError

log = logging.getLogger(__name__)

#: Names an instant for the clock of every ``kiosk`` command run with it in its environment
#: ("2026-11-23T09:00:00+00:00"): see ``clock_from_env``.
CLOCK_ENV = "KIOSK_CLOCK"

#: systemd-timesyncd touches this file once the clock has been synchronised.
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")

#: The kernel's id of this boot (a new random UUID at every start).
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


def system_boot_id() -> str:
    try:
        return BOOT_ID_FILE.read_text(encoding="ascii").strip() or "unknown"
    except OSError:
        return "unknown"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current UTC time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start; never goes backwards."""
        ...

    def synchronised(self) -> bool:
        """Whether the wall clock is known to be right (NTP or similar)."""
        ...

    def boot_id(self) -> str:
        """This boot of the machine: monotonic times compare only within one boot."""
        ...


def _adjtimex_synchronised() -> bool | None:
    """Ask the kernel (adjtimex) whether NTP considers the clock synchronised.

    Returns None where the call is unavailable. TIME_ERROR (5) means "not
    synchronised"; the STA_UNSYNC status bit says the same.

    The C library is the one already loaded into this process (``CDLL(None)``):
    ``ctypes.util.find_library`` would run ``ldconfig`` in a subprocess for every
    command that asks (``kiosk status``, each ``kiosk sync``), and ctypes itself is
    imported only here, where it is used.
    """
    import ctypes

    class Timex(ctypes.Structure):
        # struct timex from <sys/timex.h>, Linux; the padding covers the tail.
        _fields_ = [
            ("modes", ctypes.c_uint),
            ("offset", ctypes.c_long),
            ("freq", ctypes.c_long),
            ("maxerror", ctypes.c_long),
            ("esterror", ctypes.c_long),
            ("status", ctypes.c_int),
            ("constant", ctypes.c_long),
            ("precision", ctypes.c_long),
            ("tolerance", ctypes.c_long),
            ("time_sec", ctypes.c_long),
            ("time_usec", ctypes.c_long),
            ("tick", ctypes.c_long),
            ("ppsfreq", ctypes.c_long),
            ("jitter", ctypes.c_long),
            ("shift", ctypes.c_int),
            ("stabil", ctypes.c_long),
            ("jitcnt", ctypes.c_long),
            ("calcnt", ctypes.c_long),
            ("errcnt", ctypes.c_long),
            ("stbcnt", ctypes.c_long),
            ("tai", ctypes.c_int),
            ("_pad", ctypes.c_int * 11),
        ]

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        tx = Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return None
    sta_unsync = 0x0040
    time_error = 5
    if state < 0:
        return None
    return state != time_error and not (tx.status & sta_unsync)


class SystemClock:
    """The real clock. Synchronisation is read from systemd, then the kernel.

    ``KIOSK_ASSUME_CLOCK_SYNCED=1`` forces "synchronised" for machines whose
    time is kept by something the checks cannot see (a container, a VM host).
    """

    def __init__(self, recheck_seconds: float = 30.0) -> None:
        self._recheck = recheck_seconds
        self._cached: tuple[float, bool] | None = None
        self._boot = system_boot_id()

    def boot_id(self) -> str:
        return self._boot

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def synchronised(self) -> bool:
        mono = time.monotonic()
        if self._cached and mono - self._cached[0] < self._recheck:
            return self._cached[1]
        value = self._probe()
        self._cached = (mono, value)
        return value

    @staticmethod
    def _probe() -> bool:
        if os.environ.get("KIOSK_ASSUME_CLOCK_SYNCED") == "1":
            return True
        if TIMESYNC_FLAG.exists():
            return True
        kernel = _adjtimex_synchronised()
        return bool(kernel)


class ManualClock:
    """A clock that moves only when told: for tests, benchmarks and the demo.

    A plain class, not a dataclass: this module loads with every command, and a
    dataclass's methods are compiled as its module loads (see ``kiosk.views``).
    """

    __slots__ = ("boot", "mono", "synced", "wall")

    def __init__(
        self,
        wall: datetime | None = None,
        mono: float = 1000.0,
        synced: bool = True,
        boot: str = "boot-1",
    ) -> None:
        self.wall = datetime(2026, 11, 23, 9, 0, tzinfo=UTC) if wall is None else wall
        self.mono = mono
        self.synced = synced
        self.boot = boot

    def __repr__(self) -> str:
        return (
            f"ManualClock(wall={self.wall!r}, mono={self.mono!r}, synced={self.synced!r}, "
            f"boot={self.boot!r})"
        )

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def synchronised(self) -> bool:
        return self.synced

    def boot_id(self) -> str:
        return self.boot

    def reboot(self, wall: datetime, *, synced: bool = False) -> None:
        """A power cut: a new boot, monotonic time from zero, the wall clock as the Pi guesses."""
        n = int(self.boot.rsplit("-", 1)[-1]) + 1 if self.boot.startswith("boot-") else 2
        self.boot, self.mono, self.wall, self.synced = f"boot-{n}", 5.0, wall, synced

    def advance(self, seconds: float) -> None:
        """Move both clocks forward together, as real time does."""
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def jump(self, seconds: float) -> None:
        """Move only the wall clock (NTP correcting a wrong clock); monotonic time is unmoved."""
        self.wall += timedelta(seconds=seconds)


class StartedClock:
    """A clock that reads ``start`` when made and then runs at the real rate, synchronised.

    What ``KIOSK_CLOCK`` hands a ``kiosk`` command: tests run real processes on a pinned
    school day ("Monday 09:00"), so that what they check does not depend on the hour
    they happen to run at; an IT lead can rehearse a day the same way on a copy.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the start of a clock needs a time zone (e.g. +00:00)")
        self._start = start.astimezone(UTC)
        self._mono0 = time.monotonic()
        self._boot = system_boot_id()

    def boot_id(self) -> str:
        return self._boot

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._mono0)

    def monotonic(self) -> float:
        return time.monotonic()

    def synchronised(self) -> bool:
        return True


def clock_from_env(env: Mapping[str, str] | None = None) -> Clock:
    """The system clock, or the ``StartedClock`` that ``KIOSK_CLOCK`` names."""
    env = os.environ if env is None else env
    spec = env.get(CLOCK_ENV, "").strip()
    if not spec:
        return SystemClock()
    try:
        start = datetime.fromisoformat(spec)
        return StartedClock(start)
    except ValueError as exc:
        raise ConfigError(
            f"{CLOCK_ENV}: expected an instant like 2026-11-23T09:00:00+00:00, got {spec!r}"
        ) from exc

"""USB keyboard-wedge badge readers (125 kHz: Paxton, HID Prox, EM4100) through evdev.

Such a reader is a keyboard that types the badge number and Enter. Read as a
keyboard it would type into whatever has focus, so the device is opened by its
stable ``/dev/input/by-id/...`` path and grabbed: its keystrokes come only
here. Unplugging it is ``ReaderLost``; plugging it back in (the by-id path
reappears) is ``ReaderBack``, found by retrying once a second.

Many of these readers repeat the number about once a second while a badge is
held near them; a repeat of the same number within ``repeat_seconds`` of the
last is the same tap.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
from collections.abc import Callable
from typing import Any, Protocol

from hardware.base import LoopReader
from hardware.errors import ReaderUnavailable
from hardware.events import Emit, InvalidUID, ReaderBack, ReaderLost, TagSeen, normalise_uid
from hardware.timebase import Timebase

log = logging.getLogger(__name__)

#: A number typed more slowly than this between keys is two half-numbers, not one.
KEY_GAP_SECONDS = 1.0


class InputSource(Protocol):
    """An open input device: ``evdev.InputDevice`` as this reader uses it."""

    name: str

    def grab(self) -> None: ...

    def read(self, timeout: float) -> list[Any]:
        """Input events waiting, or [] after ``timeout``; OSError once unplugged."""
        ...

    def close(self) -> None: ...


class EvdevSource:
    """A real ``evdev.InputDevice``."""

    def __init__(self, path: str) -> None:
        import evdev

        self._dev = evdev.InputDevice(path)
        self.name: str = self._dev.name

    def grab(self) -> None:
        self._dev.grab()

    def read(self, timeout: float) -> list[Any]:
        ready, _, _ = select.select([self._dev.fd], [], [], timeout)
        if not ready:
            return []
        try:
            return list(self._dev.read())
        except BlockingIOError:
            return []

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._dev.ungrab()
        with contextlib.suppress(OSError):
            self._dev.close()


def _keymap() -> tuple[dict[int, str], set[int], int]:
    from evdev import ecodes

    keys: dict[int, str] = {}
    for ch in "0123456789":
        keys[ecodes.ecodes[f"KEY_{ch}"]] = ch
        keys[ecodes.ecodes[f"KEY_KP{ch}"]] = ch
    for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        keys[ecodes.ecodes[f"KEY_{ch}"]] = ch
    enter = {ecodes.KEY_ENTER, ecodes.KEY_KPENTER}
    return keys, enter, ecodes.EV_KEY


class EvdevReader(LoopReader):
    """A keyboard-wedge reader at ``path``.

    Use the /dev/input/by-id/ path: unlike /dev/input/eventN it survives replugging.
    """

    def __init__(
        self,
        name: str = "USB badge reader",
        path: str = "",
        *,
        opener: Callable[[str], InputSource] | None = None,
        timebase: Timebase | None = None,
        retry_interval: float = 1.0,
        read_timeout: float = 0.25,
        repeat_seconds: float = 1.5,
    ) -> None:
        self.name = name
        self.path = path
        self._opener: Callable[[str], InputSource] = opener or EvdevSource
        self.retry_interval = retry_interval
        self.read_timeout = read_timeout
        self.repeat_seconds = repeat_seconds
        try:
            self._keys, self._enter, self._ev_key = _keymap()
        except ImportError as exc:
            raise ReaderUnavailable(
                f"{self.name}: the evdev package is not installed (pip install evdev); "
                "USB badge readers need Linux."
            ) from exc
        self._source: InputSource | None = None
        super().__init__(timebase)
        self._lost = False
        self._buffer: list[str] = []
        self._last_key = 0.0
        self._last_uid: tuple[str, float] | None = None
        self.device_name: str | None = None
        """The device's own name, as the kernel reports it (for ``kiosk hardware-check``)."""

    def open(self) -> str:
        """Open and grab the device; return its name.

        Raises ReaderUnavailable saying what to check.
        """
        try:
            source = self._opener(self.path)
        except FileNotFoundError as exc:
            raise ReaderUnavailable(
                f"{self.name}: {self.path} not found: is it plugged in? "
                "(ls -l /dev/input/by-id/ lists the connected readers)"
            ) from exc
        except PermissionError as exc:
            raise ReaderUnavailable(
                f"{self.name}: no permission to read {self.path}: add the kiosk user to "
                "the input group (sudo usermod -aG input USER) and log in again."
            ) from exc
        except OSError as exc:
            raise ReaderUnavailable(f"{self.name}: cannot open {self.path}: {exc}") from exc
        try:
            source.grab()
        except OSError as exc:
            source.close()
            busy = exc.errno == errno.EBUSY
            raise ReaderUnavailable(
                f"{self.name}: cannot take {self.path} for the kiosk alone"
                + (
                    ": another program has grabbed it (is a second kiosk running?)"
                    if busy
                    else f": {exc}"
                )
            ) from exc
        self._source = source
        self.device_name = source.name
        return source.name

    def start(self, emit: Emit) -> None:
        if self._thread is not None:
            return
        self._emit = emit
        if self._source is None:
            try:
                self.open()
            except ReaderUnavailable as exc:
                if not isinstance(exc.__cause__, FileNotFoundError):
                    raise
                # Unplugged at start: run anyway (the other readers may work) and
                # say so; it is picked up as soon as it is plugged in.
                self._go_lost("not plugged in")
        self._start_loop()

    def stop(self) -> None:
        self._stop_loop()
        self._close()
        self._emit = None

    def _turn(self) -> None:
        self.step()  # every wait inside is bounded (read_timeout, retry_interval)

    def _turn_failed(self, exc: Exception) -> None:
        self._close()
        self._go_lost(f"unexpected error ({exc})")
        # Pause before reopening, so an error that repeats cannot spin the loop.
        self._tb.wait(self._stop, self.retry_interval)

    def step(self) -> None:
        """Read what is waiting (up to ``read_timeout``), or retry a lost device."""
        if self._waiting:
            self._deliver()  # what the app could not take last time
        if self._source is None:
            try:
                self.open()
            except ReaderUnavailable as exc:
                log.debug("%s: %s", self.name, exc)
                self._go_lost("not plugged in")
                self._tb.wait(self._stop, self.retry_interval)
                return
            if self._lost:
                self._lost = False
                log.info("%s: plugged back in", self.name)
                self._send(ReaderBack(self.name, self._tb.monotonic()))
        assert self._source is not None
        try:
            events = self._source.read(self.read_timeout)
        except OSError as exc:
            log.warning("%s: lost: %s", self.name, exc)
            self._close()
            self._go_lost("unplugged" if exc.errno == errno.ENODEV else f"read error ({exc})")
            return
        for event in events:
            self._key(event)

    def _key(self, event: Any) -> None:
        if event.type != self._ev_key or event.value != 1:  # key down only, no repeats
            return
        at = float(event.timestamp())
        if self._buffer and at - self._last_key > KEY_GAP_SECONDS:
            log.debug("%s: dropped a half-typed number", self.name)
            self._buffer.clear()
        self._last_key = at
        if event.code in self._enter:
            text, self._buffer = "".join(self._buffer), []
            if text:
                self._typed(text)
        elif event.code in self._keys:
            self._buffer.append(self._keys[event.code])

    def _typed(self, text: str) -> None:
        try:
            uid = normalise_uid(text)
        except InvalidUID:
            log.warning("%s: ignored %r: not a badge number", self.name, text)
            return
        now = self._tb.monotonic()
        last, self._last_uid = self._last_uid, (uid, now)
        if last is not None and last[0] == uid and now - last[1] < self.repeat_seconds:
            return  # the badge is still being held to the reader
        self._send(TagSeen(uid, self.name, now))

    def _go_lost(self, reason: str) -> None:
        if self._lost:
            return
        self._lost = True
        self._buffer.clear()
        self._send(
            ReaderLost(
                self.name, f"{reason}: check the USB cable ({self.path})", self._tb.monotonic()
            )
        )

    def _close(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            source.close()

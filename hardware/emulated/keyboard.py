"""A USB keyboard-wedge badge reader, emulated as ``hardware.usb_reader`` sees it."""

from __future__ import annotations

import errno
import threading

from hardware.timebase import SystemTimebase, Timebase


class EmulatedKeyboard:
    """A USB keyboard-wedge badge reader as ``hardware.usb_reader`` sees it (tests, --emulate).

    Produces real ``evdev.InputEvent`` objects (``evdev`` is needed, no device
    node): ``swipe("0012345678")`` queues the key presses and Enter that such a
    reader types. ``unplug``/``plug`` make reads fail with ENODEV and opening
    fail with ENOENT, as the kernel does when the USB cable is pulled.
    ``open`` is the reader's ``opener``.
    """

    def __init__(
        self, timebase: Timebase | None = None, name: str = "Emulated RFID Reader"
    ) -> None:
        self.timebase: Timebase = timebase or SystemTimebase()
        self.name = name
        self.plugged = True
        self.grabbed = False
        self.denied = False
        self.opened = 0
        self._lock = threading.Lock()
        self._queue: list[tuple[float, object]] = []

    # the evdev-device side (InputSource)
    def open(self, path: str) -> EmulatedKeyboard:
        if self.denied:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        if not self.plugged:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        self.opened += 1
        return self

    def grab(self) -> None:
        self.grabbed = True

    def close(self) -> None:
        self.grabbed = False

    def read(self, timeout: float) -> list[object]:
        if not self.plugged:
            raise OSError(errno.ENODEV, "No such device")
        now = self.timebase.monotonic()
        with self._lock:
            first = min((at for at, _ in self._queue), default=None)
        if first is None or first > now + timeout:
            self.timebase.sleep(timeout)  # select() timing out
            return []
        if first > now:
            self.timebase.sleep(first - now)  # select() returning when a key arrives
            now = first
        with self._lock:
            due = [e for at, e in self._queue if at <= now]
            self._queue = [(at, e) for at, e in self._queue if at > now]
        return due

    # the person's side
    def swipe(
        self, text: str, after: float = 0.0, key_gap: float = 0.004, enter: bool = True
    ) -> None:
        """Queue ``text`` typed as key presses (down and up) ``after`` seconds from now."""
        from evdev import InputEvent, ecodes

        at = self.timebase.monotonic() + after
        codes = [ecodes.ecodes[f"KEY_{ch.upper()}"] for ch in text]
        if enter:
            codes.append(ecodes.KEY_ENTER)
        events: list[tuple[float, object]] = []
        for code in codes:
            for value in (1, 0):
                sec, usec = int(at), int((at % 1) * 1_000_000)
                events.append((at, InputEvent(sec, usec, ecodes.EV_KEY, code, value)))
                events.append((at, InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0)))
            at += key_gap
        with self._lock:
            self._queue.extend(events)

    def unplug(self) -> None:
        self.plugged = False
        with self._lock:
            self._queue = []

    def plug(self) -> None:
        self.plugged = True

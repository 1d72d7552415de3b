"""The two small interfaces every hardware backend implements: Reader and Feedback.

A ``Reader`` runs on its own thread (or none, for the keyboard) and calls
``emit`` with ``TagSeen`` / ``ReaderLost`` / ``ReaderBack``. ``emit`` must be
cheap and thread-safe: the app's emit posts a message to the UI thread.

``Feedback`` answers a person at the kiosk with light and sound. Every method
returns at once (blinking and beeping run in the background) and never raises
for hardware trouble: a dead LED must not stop a loan being recorded.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod

from hardware.events import Emit, InvalidUID, TagSeen, normalise_uid


class Reader(ABC):
    """A source of tag events. ``name`` is shown on the kiosk's status line."""

    name: str = "reader"

    @abstractmethod
    def start(self, emit: Emit) -> None:
        """Begin reading; call ``emit`` for every event, from any thread."""

    @abstractmethod
    def stop(self) -> None:
        """Stop reading and release the device. Safe to call twice."""

    def alive(self) -> bool:
        """Whether the reading loop is still running (for the systemd watchdog)."""
        return True


class LoopHealth:
    """The heartbeat of a reader's loop thread, for ``Reader.alive`` and so the watchdog.

    A thread can be alive yet stuck for good in a driver call (a wedged SPI bus, a USB
    read that never returns). Each turn of the loop calls ``beat``; ``fresh`` is false
    once no turn has come round for ``max_silence`` seconds of real time. Every wait and
    read in the readers' loops is bounded (about a second at most), so a healthy loop
    beats far more often than this.
    """

    def __init__(self, max_silence: float = 15.0) -> None:
        self.max_silence = max_silence
        self._at = time.monotonic()

    def beat(self) -> None:
        self._at = time.monotonic()

    def fresh(self) -> bool:
        return time.monotonic() - self._at < self.max_silence


class Feedback(ABC):
    """Light and sound for accepted and refused taps, and a lost reader."""

    @abstractmethod
    def accepted(self) -> None:
        """Green for 1 s and one short beep."""

    @abstractmethod
    def refused(self) -> None:
        """Red for 1 s and three short beeps."""

    @abstractmethod
    def reader_lost(self) -> None:
        """Red blinking until ``reader_back``."""

    @abstractmethod
    def reader_back(self) -> None:
        """Stop the lost-reader blinking."""

    @abstractmethod
    def close(self) -> None:
        """Everything off and pins released. Safe to call twice."""


class NullFeedback(Feedback):
    """No LEDs or buzzer (the demo, a desktop): remembers what it was asked, for tests."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def _note(self, what: str) -> None:
        with self._lock:
            self.calls.append(what)

    def accepted(self) -> None:
        self._note("accepted")

    def refused(self) -> None:
        self._note("refused")

    def reader_lost(self) -> None:
        self._note("reader_lost")

    def reader_back(self) -> None:
        self._note("reader_back")

    def close(self) -> None:
        self._note("close")


class KeyboardReader(Reader):
    """A UID typed into the kiosk screen and Enter: the demo's and the developer's reader.

    The screen calls ``feed`` with what was typed; nothing runs in the background.
    """

    def __init__(self, name: str = "keyboard") -> None:
        self.name = name
        self._emit: Emit | None = None

    def start(self, emit: Emit) -> None:
        self._emit = emit

    def stop(self) -> None:
        self._emit = None

    def feed(self, text: str) -> bool:
        """Emit what was typed as a tag; False (and nothing emitted) if it is not a UID."""
        if self._emit is None:
            return False
        try:
            uid = normalise_uid(text)
        except InvalidUID:
            return False
        self._emit(TagSeen(uid, self.name, time.monotonic()))
        return True

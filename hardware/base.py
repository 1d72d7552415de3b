"""The two small interfaces every hardware backend implements: Reader and Feedback.

A ``Reader`` runs on its own thread (or none, for the keyboard) and calls
``emit`` with ``TagSeen`` / ``ReaderLost`` / ``ReaderBack``. ``emit`` must be
cheap and thread-safe: the app's emit posts a message to the UI thread. If it
raises, a loop reader keeps the event and hands it over again on its next turn
(``LoopReader._send``): the app failing is never the reader failing.

``Feedback`` answers a person at the kiosk with light and sound. Every method
returns at once (blinking and beeping run in the background) and never raises
for hardware trouble: a dead LED must not stop a loan being recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import deque

from hardware.events import Emit, InvalidUID, ReaderEvent, TagSeen, normalise_uid
from hardware.timebase import SystemTimebase, Timebase

log = logging.getLogger(__name__)


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


#: A tap the app could not take for this long is dropped (and logged): by then the person
#: has tapped again or walked away, and acting on it later would act on a moment gone by.
STALE_TAP_SECONDS = 30.0
#: At most this many events wait for an app whose ``emit`` keeps failing; then the oldest go.
MAX_WAITING = 64


class LoopReader(Reader):
    """A reader whose device is read by a loop on its own thread (the RC522, USB readers).

    The loop calls ``_turn`` until stopped; an unexpected exception is logged and
    handed to ``_turn_failed`` (the loop must outlive any surprise). ``alive`` is true
    while the thread runs and its heartbeat (``health``) is fresh.

    Events go to the app through ``_send``, never straight to ``emit``: if ``emit``
    raises, the event waits and is handed over again at the start of the next
    turn (``_deliver``), in order, until the app takes it. An exception from the
    app is not a reader fault: no ReaderLost, no lost tap, no dead thread. Only a
    tap the app has refused for ``STALE_TAP_SECONDS`` is given up (logged).
    """

    def __init__(self, timebase: Timebase | None = None) -> None:
        self._tb: Timebase = timebase or SystemTimebase()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.health = LoopHealth()
        self._emit: Emit | None = None
        self._waiting: deque[ReaderEvent] = deque()
        self._emit_failing = False

    @abstractmethod
    def _turn(self) -> None:
        """One turn of the loop: read or poll once, and wait a bounded time."""

    @abstractmethod
    def _turn_failed(self, exc: Exception) -> None:
        """After an unexpected error in ``_turn``: report the reader lost, pause, and so on."""

    def _start_loop(self) -> None:
        self._stop.clear()
        self.health.beat()
        self._thread = threading.Thread(target=self._loop, name=f"reader:{self.name}", daemon=True)
        self._thread.start()

    def _stop_loop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def alive(self) -> bool:
        """The loop thread runs and has come round lately (a hung driver call fails this)."""
        return self._thread is not None and self._thread.is_alive() and self.health.fresh()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.health.beat()
            try:
                self._turn()
            except Exception as exc:  # the loop must outlive any surprise
                log.exception("%s: unexpected error", self.name)
                try:
                    self._turn_failed(exc)
                except Exception:  # ...including one while handling the first
                    log.exception("%s: handling that error failed too", self.name)
                    self._tb.wait(self._stop, 1.0)

    # ---- events to the app ------------------------------------------------

    def _send(self, event: ReaderEvent) -> None:
        """Give ``event`` to the app now, or on a later turn if ``emit`` raises. Never raises."""
        if self._emit is None:
            return
        if len(self._waiting) >= MAX_WAITING:
            dropped = self._waiting.popleft()
            log.error("%s: the app has taken no events for a while; dropped %s", self.name, dropped)
        self._waiting.append(event)
        self._deliver()

    def _deliver(self) -> None:
        """Hand the waiting events to ``emit``, oldest first; stop at the first that fails."""
        emit = self._emit
        while self._waiting and emit is not None:
            event = self._waiting[0]
            if isinstance(event, TagSeen) and self._tb.monotonic() - event.at > STALE_TAP_SECONDS:
                self._waiting.popleft()
                log.error(
                    "%s: gave up on tag %s: the app could not take it for %.0f s",
                    self.name,
                    event.uid,
                    STALE_TAP_SECONDS,
                )
                continue
            try:
                emit(event)
            except Exception:  # the app's fault, not the reader's: keep the event, keep reading
                if not self._emit_failing:
                    log.exception("%s: the app did not take %s; trying again", self.name, event)
                self._emit_failing = True
                return
            self._waiting.popleft()
        if self._emit_failing and not self._waiting:
            self._emit_failing = False
            log.warning("%s: the app takes events again; none was lost", self.name)


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

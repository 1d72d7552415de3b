"""The one place that turns ``[hardware]`` settings into readers and feedback.

The kiosk, ``kiosk hardware-check`` and the tests all build their hardware
here. Backends import their libraries (spidev, gpiozero, evdev, mfrc522) only
when built, so importing this module loads none of them.

Tests and ``--emulate`` pass what is not physically here: an emulated chip
(``emulator``), a gpiozero pin factory (``pin_factory``, e.g. ``MockFactory``),
an evdev device opener, a virtual ``timebase``. The emulated parts
(``hardware.emulated``) are loaded only when a reader of kind "emulator" is
asked for, never for a real reader.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from hardware.base import Feedback, KeyboardReader, NullFeedback, Reader
from hardware.config import HardwareConfig
from hardware.errors import HardwareError
from hardware.events import Emit
from hardware.timebase import Timebase

if TYPE_CHECKING:
    from hardware.emulated.chip import Emulator

log = logging.getLogger(__name__)


class ReaderGroup(Reader):
    """Several readers as one: their events merged into one stream (``emit`` is shared).

    E.g. an RC522 for item stickers and a USB reader for staff badges. Each
    event still names the reader it came from.
    """

    def __init__(self, readers: list[Reader]) -> None:
        if not readers:
            raise HardwareError("no readers configured")
        self.readers = list(readers)
        self.name = " + ".join(r.name for r in self.readers)
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[Reader]:
        return iter(self.readers)

    def __len__(self) -> int:
        return len(self.readers)

    @property
    def keyboard(self) -> KeyboardReader | None:
        """The keyboard reader, if there is one: the screen feeds it what is typed."""
        for reader in self.readers:
            if isinstance(reader, KeyboardReader):
                return reader
        return None

    def start(self, emit: Emit) -> None:
        # Readers call emit from their own threads; serialise so the app's emit
        # sees one event at a time even if it is not itself thread-safe.
        def merged(event: Any) -> None:
            with self._lock:
                emit(event)

        started: list[Reader] = []
        try:
            for reader in self.readers:
                reader.start(merged)
                started.append(reader)
        except BaseException:
            for reader in reversed(started):
                reader.stop()
            raise

    def stop(self) -> None:
        for reader in reversed(self.readers):
            try:
                reader.stop()
            except Exception:
                log.warning("stopping %s failed", reader.name, exc_info=True)

    def alive(self) -> bool:
        return all(r.alive() for r in self.readers)


def open_readers(
    config: HardwareConfig,
    *,
    emulator: Emulator | None = None,
    pin_factory: Any = None,
    evdev_opener: Callable[[str], Any] | None = None,
    timebase: Timebase | None = None,
) -> ReaderGroup:
    """Build (not start) every reader ``config.readers`` names, in that order.

    With ``emulator``, "rc522" talks to it instead of /dev/spidev (and
    "emulator" always does; a fresh one is made if none is given, reachable as
    the reader's ``emulator`` attribute).
    """
    from hardware.rc522 import RC522Reader
    from hardware.usb_reader import EvdevReader

    readers: list[Reader] = []
    rc = config.rc522
    for kind in config.readers:
        if kind in ("rc522", "emulator"):
            emu = emulator
            if kind == "emulator" and emu is None:
                from hardware.emulated.chip import Emulator

                emu = Emulator(timebase)
            reader = RC522Reader(
                rc.name if kind == "rc522" else "emulated RFID reader",
                bus=rc.spi_bus,
                device=rc.spi_device,
                speed_hz=rc.spi_speed_hz,
                reset_pin=rc.reset_pin if emu is None or pin_factory is not None else -1,
                poll_interval=rc.poll_interval,
                spi_factory=emu.spidev if emu is not None else None,
                pin_factory=pin_factory,
                timebase=timebase,
            )
            reader.emulator = emu
            readers.append(reader)
        elif kind == "evdev":
            readers.append(
                EvdevReader(
                    config.evdev.name, config.evdev.device, opener=evdev_opener, timebase=timebase
                )
            )
        elif kind == "keyboard":
            readers.append(KeyboardReader())
        else:
            raise HardwareError(f"unknown reader {kind!r}")
    return ReaderGroup(readers)


def open_feedback(
    config: HardwareConfig, pin_factory: Any = None, *, handle_sigterm: bool = False
) -> Feedback:
    """LEDs and buzzer per ``config`` (NullFeedback for ``feedback = "none"``).

    ``handle_sigterm``: switch them off when SIGTERM arrives (the kiosk's main
    process asks for this; it must be called from the main thread).
    Raises FeedbackUnavailable if the pins cannot be driven.
    """
    if config.feedback == "none":
        return NullFeedback()
    from hardware.feedback import GpioFeedback

    pins = config.pins
    feedback = GpioFeedback(pins.green_led, pins.red_led, pins.buzzer, pin_factory=pin_factory)
    if handle_sigterm:
        feedback.install_sigterm_handler()
    return feedback

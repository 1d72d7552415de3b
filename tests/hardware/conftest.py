"""Fixtures for the hardware tests: gpiozero's MockFactory, the emulated chip, virtual time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hardware.emulated.chip import Emulator
from hardware.events import ReaderEvent, TagSeen
from hardware.rc522 import RC522Reader
from hardware.timebase import VirtualTimebase


@pytest.fixture
def mock_factory() -> Iterator[object]:
    """gpiozero's own MockFactory, installed for the test and removed after it."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    previous = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = previous


@pytest.fixture
def tb() -> VirtualTimebase:
    return VirtualTimebase()


@pytest.fixture
def emu(tb: VirtualTimebase) -> Emulator:
    return Emulator(tb)


class Driven:
    """An RC522Reader stepped by hand on virtual time, collecting what it emits."""

    def __init__(self, reader: RC522Reader, tb: VirtualTimebase) -> None:
        self.reader = reader
        self.tb = tb
        self.events: list[ReaderEvent] = []
        reader.open()
        reader._emit = self.events.append  # what start() does, without the thread

    def run(self, seconds: float) -> None:
        end = self.tb.monotonic() + seconds
        while self.tb.monotonic() < end:
            self.tb.sleep(self.reader.step())

    def tags(self) -> list[str]:
        return [e.uid for e in self.events if isinstance(e, TagSeen)]


@pytest.fixture
def driven(emu: Emulator, tb: VirtualTimebase) -> Iterator[Driven]:
    reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev, timebase=tb)
    d = Driven(reader, tb)
    yield d
    reader.stop()

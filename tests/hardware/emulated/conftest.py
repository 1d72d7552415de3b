"""Fixtures for the emulated parts: the chip's SPI device, opened."""

from __future__ import annotations

import pytest

from hardware.emulated.chip import EmulatedSpiDev, Emulator


@pytest.fixture
def spi(emu: Emulator) -> EmulatedSpiDev:
    dev = emu.spidev()
    dev.open(0, 0)
    return dev

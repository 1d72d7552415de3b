"""The stock ``mfrc522`` 0.0.7 driver, unmodified, wired to the emulated chip.

The benchmark's baseline (what the kiosk's own driver is measured against) and
the tests that check the emulator against a driver it was not written for.
"""

from __future__ import annotations

import types

from hardware.emulated.chip import Emulator


class _RecordingGPIO:
    """Stands in for RPi.GPIO under the *unmodified* mfrc522 (no Pi here): records calls."""

    BOARD, BCM, OUT, IN = 10, 11, 0, 1

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self._mode: int | None = None

    def getmode(self) -> int | None:
        return self._mode

    def setmode(self, mode: int) -> None:
        self.calls.append(("setmode", (mode,)))
        self._mode = mode

    def setup(self, *args: object) -> None:
        self.calls.append(("setup", args))

    def output(self, *args: object) -> None:
        self.calls.append(("output", args))

    def cleanup(self) -> None:
        self.calls.append(("cleanup", ()))


def unmodified_mfrc522(emulator: Emulator) -> tuple[type, type]:
    """mfrc522 0.0.7's own ``MFRC522`` and ``SimpleMFRC522`` classes, wired to ``emulator``.

    Their code runs unchanged; only ``spidev.SpiDev`` (the emulator) and
    ``RPi.GPIO`` (a recorder) are substituted. The benchmark's baseline and
    the tests that check the emulator against a driver it was not written for.
    """
    from hardware.rc522 import load_mfrc522_module

    gpio = types.SimpleNamespace(GPIO=_RecordingGPIO())
    spidev = types.SimpleNamespace(SpiDev=emulator.spidev)
    core = load_mfrc522_module("MFRC522", {"RPi.GPIO": gpio, "spidev": spidev})
    simple = load_mfrc522_module(
        "SimpleMFRC522", {"RPi.GPIO": gpio, ".": types.SimpleNamespace(MFRC522=core.MFRC522)}
    )
    return core.MFRC522, simple.SimpleMFRC522

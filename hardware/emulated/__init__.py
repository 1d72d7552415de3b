"""Emulated hardware: the RC522 chip and its cards, a USB badge reader, the stock driver.

Why: there is no Pi here, and a mock that answers "card 04A22B1A" would test
nothing. Each part is emulated at the level the real code talks to, so the
kiosk's own driver code runs against it unchanged:

- ``chip``: an MFRC522 at register level behind a fake ``spidev.SpiDev``, with
  the faults a test or ``kiosk hardware-check --emulate`` injects;
- ``card``: the ISO 14443-A tags in its field (MIFARE Classic, NTAG/Ultralight);
- ``keyboard``: a USB keyboard-wedge badge reader as evdev shows it;
- ``stock_driver``: the unmodified ``mfrc522`` package wired to the chip (the
  benchmark's baseline, and a driver the emulator was not written for).

Nothing in production imports this package: ``hardware.factory`` loads it only
when an emulated reader is asked for (``readers = ["emulator"]``, ``--emulate``).
"""

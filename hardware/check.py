"""The checks behind ``kiosk hardware-check``: for the IT lead installing the Pi.

Finds each configured reader (RC522 version byte, USB reader name), waits for
one tap on each and prints the UID, then lights each LED and sounds the
buzzer. Every failure line says what to check. ``emulated_kit`` supplies an
emulated RC522, USB reader and gpiozero ``MockFactory`` pins, so the same code
runs with no Pi (``--emulate``), which is how it is tested.
"""

from __future__ import annotations

import itertools
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hardware.base import KeyboardReader, Reader
from hardware.config import HardwareConfig
from hardware.errors import FeedbackUnavailable, HardwareError, ReaderUnavailable
from hardware.events import ReaderLost, TagSeen
from hardware.factory import open_feedback, open_readers
from hardware.rc522 import KNOWN_VERSIONS, RC522Reader
from hardware.usb_reader import EvdevReader

if TYPE_CHECKING:
    from hardware.emulated.chip import Emulator
    from hardware.emulated.keyboard import EmulatedKeyboard

Say = Callable[[str], None]


@dataclass
class Kit:
    """What stands in for the physical parts (all None: the real ones)."""

    emulator: Emulator | None = None
    keyboard: EmulatedKeyboard | None = None
    pin_factory: Any = None
    tap: Callable[[Reader], None] = field(default=lambda reader: None)
    """Called while waiting for a tap on ``reader``: the emulated person taps."""


def emulated_kit(tap_after: float = 0.3) -> Kit:
    """An emulated RC522 and USB reader that each get one tap, and mock GPIO pins."""
    from gpiozero.pins.mock import MockFactory

    from hardware.emulated.card import Card
    from hardware.emulated.chip import Emulator
    from hardware.emulated.keyboard import EmulatedKeyboard

    emulator = Emulator()
    keyboard = EmulatedKeyboard()

    def tap(reader: Reader) -> None:
        if isinstance(reader, RC522Reader):
            emulator.place(Card.from_hex("04A1B2C3D4E5F6"), hold=1.0, after=tap_after)
        elif isinstance(reader, EvdevReader):
            keyboard.swipe("0012345678", after=tap_after)

    return Kit(emulator, keyboard, MockFactory(), tap)


def run_check(
    config: HardwareConfig,
    say: Say,
    *,
    kit: Kit | None = None,
    timeout: float = 20.0,
    taps: bool = True,
    pause: Callable[[float], None] = time.sleep,
) -> bool:
    """Check every reader and the feedback; True when all is well."""
    kit = kit or Kit()
    problems = 0
    readers = open_readers(
        config,
        emulator=kit.emulator,
        pin_factory=kit.pin_factory,
        evdev_opener=kit.keyboard.open if kit.keyboard is not None else None,
    )
    found: list[Reader] = []
    for reader in readers:
        try:
            if isinstance(reader, RC522Reader):
                version = reader.open()
                kind = KNOWN_VERSIONS.get(version, "unknown chip, may still work")
                say(
                    f"OK    {reader.name}: RC522 on /dev/spidev{reader.bus}.{reader.device}, "
                    f"version 0x{version:02X} ({kind})"
                )
            elif isinstance(reader, EvdevReader):
                name = reader.open()
                say(f'OK    {reader.name}: "{name}" at {reader.path}')
            elif isinstance(reader, KeyboardReader):
                say(f"--    {reader.name}: numbers typed on the kiosk's keyboard; nothing to check")
                continue
            found.append(reader)
        except (ReaderUnavailable, HardwareError) as exc:
            problems += 1
            say(f"FAIL  {exc}")
    if taps:
        for reader in found:
            problems += 0 if _one_tap(reader, say, kit, timeout) else 1
    for reader in found:
        reader.stop()
    problems += 0 if _feedback(config, say, kit, pause) else 1
    say("All checks passed." if not problems else f"{problems} problem(s) found: see FAIL above.")
    return problems == 0


def _one_tap(reader: Reader, say: Say, kit: Kit, timeout: float) -> bool:
    events: queue.Queue[Any] = queue.Queue()
    hint = (
        "hold a badge against the USB reader: if it does not beep or light, try another "
        "USB port or badge"
        if isinstance(reader, EvdevReader)
        else "hold a tag flat on the reader for a second; RC522s read about 3 cm at most, and "
        "check the antenna is not against metal"
    )
    say(f"...   tap a tag on the {reader.name} (waiting up to {timeout:.0f} s)")
    reader.start(events.put)
    kit.tap(reader)
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                say(f"FAIL  {reader.name}: no tag seen in {timeout:.0f} s: {hint}")
                return False
            try:
                event = events.get(timeout=left)
            except queue.Empty:
                continue
            if isinstance(event, TagSeen):
                say(f"OK    {reader.name}: read tag {event.uid}")
                return True
            if isinstance(event, ReaderLost):
                say(f"FAIL  {reader.name}: stopped answering: {event.reason}")
                return False
    finally:
        reader.stop()


def _feedback(config: HardwareConfig, say: Say, kit: Kit, pause: Callable[[float], None]) -> bool:
    if config.feedback == "none":
        say('--    LEDs and buzzer: feedback = "none" in the settings; nothing to check')
        return True
    pins = config.pins
    try:
        feedback = open_feedback(config, pin_factory=kit.pin_factory)
    except FeedbackUnavailable as exc:
        say(f"FAIL  {exc}")
        return False
    try:
        say(f"...   green LED (GPIO{pins.green_led}) on for 1 s and one beep: did it light?")
        feedback.accepted()
        pause(1.3)
        say(f"...   red LED (GPIO{pins.red_led}) on for 1 s and three beeps: did it light?")
        feedback.refused()
        pause(1.3)
    finally:
        feedback.close()
    if kit.pin_factory is not None:
        for label, pin in (
            ("green LED", pins.green_led),
            ("red LED", pins.red_led),
            ("buzzer", pins.buzzer),
        ):
            if pin >= 0:
                states = [s.state for s in kit.pin_factory.pin(pin).states]
                changes = sum(1 for a, b in itertools.pairwise(states) if a != b)
                say(f"OK    {label} (GPIO{pin}, emulated): switched on {changes // 2} time(s)")
    else:
        say("OK    LEDs and buzzer driven; if one stayed dark or silent, check its wiring")
    return True

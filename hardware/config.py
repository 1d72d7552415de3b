"""The ``[hardware]`` section of kiosk.toml: which readers, which pins.

Named tuples (the kiosk's settings loader reads them from TOML and checks
types and unknown keys); ``problems`` checks the values. Pin numbers are BCM
GPIO numbers, as gpiozero and ``pinout`` print them, not header pin positions.
"""

from __future__ import annotations

from typing import NamedTuple

#: Reader kinds for ``readers``.
READER_KINDS = ("rc522", "evdev", "keyboard", "emulator")
#: Choices for ``feedback``.
FEEDBACK_KINDS = ("gpio", "none")


class RC522Config(NamedTuple):
    name: str = "RFID reader"
    """What the kiosk calls this reader on screen."""
    spi_bus: int = 0
    """SPI bus: 0 for /dev/spidev0.*."""
    spi_device: int = 0
    """Chip select: 0 for CE0 (header pin 24), 1 for CE1 (pin 26)."""
    spi_speed_hz: int = 1_000_000
    """SPI clock. 1 MHz is safe with long jumper wires."""
    reset_pin: int = 25
    """GPIO for the RST line (GPIO25 is header pin 22); -1 if RST is wired to 3.3V."""
    poll_interval: float = 0.1
    """Seconds between looks for a tag. 0.1 answers a tap within about 150 ms."""


class EvdevConfig(NamedTuple):
    name: str = "USB badge reader"
    """What the kiosk calls this reader on screen."""
    device: str = ""
    """The reader's stable path, e.g. /dev/input/by-id/usb-Sycreader_RFID-event-kbd
    (see ``ls -l /dev/input/by-id/``). Needed when readers includes "evdev"."""


class PinsConfig(NamedTuple):
    green_led: int = 17
    """GPIO of the green LED (through a resistor to GND): tap accepted."""
    red_led: int = 27
    """GPIO of the red LED: tap refused, or blinking while a reader is lost."""
    buzzer: int = 22
    """GPIO of an active buzzer (one that sounds when powered); -1 if none."""


class HardwareConfig(NamedTuple):
    readers: tuple[str, ...] = ("rc522",)
    """Tag readers to use, together: rc522, evdev (USB badge reader), keyboard, emulator."""
    feedback: str = "gpio"
    """gpio: LEDs and buzzer on the pins below; none: no lights or sound."""
    rc522: RC522Config = RC522Config()
    """The RC522 reader on SPI."""
    evdev: EvdevConfig = EvdevConfig()
    """The USB keyboard-wedge badge reader."""
    pins: PinsConfig = PinsConfig()
    """LEDs and buzzer."""

    def problems(self) -> list[tuple[str, str]]:
        """(key, what is wrong) for each bad value; empty when all is well."""
        out: list[tuple[str, str]] = []
        if not self.readers:
            out.append(("readers", "name at least one reader"))
        for kind in self.readers:
            if kind not in READER_KINDS:
                out.append(("readers", f"{kind!r} is not one of {', '.join(READER_KINDS)}"))
        if len(set(self.readers)) != len(self.readers):
            out.append(("readers", "a reader is listed twice"))
        if self.feedback not in FEEDBACK_KINDS:
            out.append(("feedback", f"expected one of {', '.join(FEEDBACK_KINDS)}"))
        if "evdev" in self.readers and not self.evdev.device.startswith("/dev/input/"):
            out.append(
                (
                    "evdev.device",
                    "set it to the badge reader's path under /dev/input/by-id/ "
                    "(ls -l /dev/input/by-id/ lists them)",
                )
            )
        if self.rc522.poll_interval <= 0 or self.rc522.poll_interval > 1:
            out.append(("rc522.poll_interval", "expected more than 0 and at most 1 second"))
        if self.rc522.spi_bus < 0 or self.rc522.spi_device < 0:
            out.append(("rc522.spi_bus", "bus and device are 0 or more"))
        if self.rc522.spi_speed_hz < 10_000 or self.rc522.spi_speed_hz > 10_000_000:
            out.append(("rc522.spi_speed_hz", "expected 10000 to 10000000"))
        gpio = {"rc522.reset_pin": self.rc522.reset_pin}
        if self.feedback == "gpio":
            gpio |= {
                "pins.green_led": self.pins.green_led,
                "pins.red_led": self.pins.red_led,
                "pins.buzzer": self.pins.buzzer,
            }
        seen: dict[int, str] = {}
        for key, pin in gpio.items():
            if pin == -1 and key in ("rc522.reset_pin", "pins.buzzer"):
                continue
            if not 0 <= pin <= 27:
                out.append((key, f"GPIO {pin} does not exist (0 to 27)"))
            elif pin in (7, 8, 9, 10, 11) and "rc522" in self.readers:
                out.append((key, f"GPIO {pin} is used by SPI for the RC522"))
            elif pin in seen:
                out.append((key, f"GPIO {pin} is already used by {seen[pin]}"))
            else:
                seen[pin] = key
        return out

"""``kiosk hardware-check``: the same code path on emulated parts, and what each failure says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hardware.check import Kit, emulated_kit, run_check
from hardware.config import EvdevConfig, HardwareConfig
from hardware.emulated.chip import Fault


def check(config: HardwareConfig, kit: Kit, **kwargs: Any) -> tuple[bool, list[str]]:
    lines: list[str] = []
    ok = run_check(config, lines.append, kit=kit, pause=lambda s: None, **kwargs)
    return ok, lines


def both_readers() -> HardwareConfig:
    config = HardwareConfig(
        readers=("rc522", "evdev", "keyboard"),
        evdev=EvdevConfig(device="/dev/input/by-id/usb-Emulated-event-kbd"),
    )
    return config


def test_all_good_reports_each_part() -> None:
    ok, lines = check(both_readers(), emulated_kit(tap_after=0.05), timeout=5)
    text = "\n".join(lines)
    assert ok, text
    assert "version 0x92 (MFRC522 v2.0)" in text
    assert '"Emulated RFID Reader" at /dev/input/by-id/usb-Emulated-event-kbd' in text
    assert "RFID reader: read tag 04A1B2C3D4E5F6" in text
    assert "USB badge reader: read tag 0012345678" in text
    assert "green LED (GPIO17, emulated): switched on" in text
    assert lines[-1] == "All checks passed."


@pytest.mark.parametrize(
    ("fault", "advice"),
    [
        (Fault.READS_ZEROS, "check the wiring"),
        (Fault.NO_DEVICE, "enable SPI"),
        (Fault.PERMISSION, "spi and gpio groups"),
    ],
)
def test_rc522_failures_say_what_to_check(fault: str, advice: str) -> None:
    kit = emulated_kit()
    assert kit.emulator is not None
    kit.emulator.set_fault(fault)
    ok, lines = check(HardwareConfig(), kit, timeout=1)
    assert not ok
    fail = [line for line in lines if line.startswith("FAIL")]
    assert len(fail) == 1 and advice in fail[0]
    assert lines[-1] == "1 problem(s) found: see FAIL above."


def test_usb_reader_missing_or_forbidden() -> None:
    kit = emulated_kit()
    assert kit.keyboard is not None
    kit.keyboard.unplug()
    config = HardwareConfig(
        readers=("evdev",),
        feedback="none",
        evdev=EvdevConfig(device="/dev/input/by-id/usb-x-event-kbd"),
    )
    ok, lines = check(config, kit)
    assert not ok and "is it plugged in?" in lines[0]
    kit.keyboard.plug()
    kit.keyboard.denied = True
    ok, lines = check(config, kit)
    assert not ok and "input group" in lines[0]


def test_no_tap_within_the_timeout() -> None:
    kit = emulated_kit()
    kit.tap = lambda reader: None  # nobody taps
    ok, lines = check(HardwareConfig(feedback="none"), kit, timeout=0.3)
    assert not ok
    assert any("no tag seen in 0 s: hold a tag flat" in line for line in lines)


def test_gpio_not_available_says_what_to_check(mock_factory: Any) -> None:
    from gpiozero import LED

    kit = emulated_kit()
    kit.pin_factory = mock_factory
    holder = LED(17, pin_factory=mock_factory)
    try:
        ok, lines = check(HardwareConfig(), kit, taps=False)
    finally:
        holder.close()
    assert not ok
    assert any(
        line.startswith("FAIL  Cannot drive the LEDs") and "gpio group" in line for line in lines
    )


def test_installed_command_with_emulate(tmp_path: Path) -> None:
    kiosk = Path(sys.executable).parent / "kiosk"
    exe = str(kiosk) if kiosk.exists() else shutil.which("kiosk")
    assert exe, "the kiosk command is not installed"
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[hardware]\nreaders = ["rc522", "evdev"]\n'
        '[hardware.evdev]\ndevice = "/dev/input/by-id/usb-Emulated-event-kbd"\n'
    )
    r = subprocess.run(
        [exe, "hardware-check", "--emulate", "--config", str(config), "--timeout", "10"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "read tag 04A1B2C3D4E5F6" in r.stdout
    assert "read tag 0012345678" in r.stdout
    # With the real pauses: green once, red once, one beep then three.
    assert "green LED (GPIO17, emulated): switched on 1 time(s)" in r.stdout
    assert "red LED (GPIO27, emulated): switched on 1 time(s)" in r.stdout
    assert "buzzer (GPIO22, emulated): switched on 4 time(s)" in r.stdout
    assert r.stdout.rstrip().endswith("All checks passed.")

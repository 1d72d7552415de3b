"""The [hardware] settings section and the one factory that builds readers and feedback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hardware.base import KeyboardReader
from hardware.config import EvdevConfig, HardwareConfig
from hardware.emulated.card import Card
from hardware.emulated.chip import Emulator
from hardware.emulated.keyboard import EmulatedKeyboard
from hardware.errors import ReaderUnavailable
from hardware.events import ReaderEvent, TagSeen
from hardware.factory import ReaderGroup, open_readers
from hardware.rc522 import RC522Reader
from hardware.timebase import VirtualTimebase
from hardware.usb_reader import EvdevReader
from kiosk.errors import ConfigError
from kiosk.settings import load_settings
from tests.hardware.waiting import wait_for


def settings_from(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return load_settings(path, env={})


def test_defaults_are_one_rc522_and_gpio_feedback(tmp_path: Path) -> None:
    hw = load_settings(tmp_path / "absent.toml", env={}).hardware
    assert hw.readers == ("rc522",) and hw.feedback == "gpio"
    assert hw.rc522.reset_pin == 25 and hw.pins.green_led == 17


def test_hardware_section_is_read_and_typed(tmp_path: Path) -> None:
    hw = settings_from(
        tmp_path,
        '[hardware]\nreaders = ["rc522", "evdev"]\nfeedback = "none"\n'
        "[hardware.rc522]\nspi_device = 1\nreset_pin = -1\npoll_interval = 0.05\n"
        '[hardware.evdev]\ndevice = "/dev/input/by-id/usb-Sycreader-event-kbd"\n'
        "[hardware.pins]\nbuzzer = -1\n",
    ).hardware
    assert hw.readers == ("rc522", "evdev")
    assert hw.rc522.spi_device == 1 and hw.rc522.poll_interval == 0.05
    assert hw.evdev.device.endswith("Sycreader-event-kbd")
    assert hw.pins.buzzer == -1


def test_environment_overrides_a_hardware_key(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "absent.toml", env={"KIOSK_HARDWARE__FEEDBACK": "none"})
    assert s.hardware.feedback == "none"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[hardware]\nreader = []\n", "[hardware] reader: unknown key"),
        ('[hardware]\nreaders = "rc522"\n', "[hardware] readers: expected a list of text"),
        ('[hardware]\nreaders = ["nfc"]\n', "[hardware] readers: 'nfc' is not one of"),
        ('[hardware]\nreaders = ["evdev"]\n', "[hardware.evdev] device: set it"),
        ('[hardware]\nfeedback = "leds"\n', "[hardware] feedback: expected one of gpio, none"),
        ("[hardware.pins]\nred_led = 17\n", "[hardware.pins] red_led: GPIO 17 is already used"),
        ("[hardware.pins]\ngreen_led = 10\n", "green_led: GPIO 10 is used by SPI"),
        ("[hardware.pins]\nbuzzer = 40\n", "buzzer: GPIO 40 does not exist"),
        ("[hardware.rc522]\nreset_pin = 1.5\n", "[hardware.rc522] reset_pin: expected a whole"),
        ("[hardware.rc522]\npoll_interval = 0\n", "poll_interval: expected more than 0"),
    ],
)
def test_bad_hardware_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from(tmp_path, text)
    assert message in str(info.value)
    assert str(info.value).startswith("kiosk.toml:")


def test_factory_builds_each_kind_in_order() -> None:
    config = HardwareConfig(
        readers=("emulator", "evdev", "keyboard"), evdev=EvdevConfig(device="/dev/input/by-id/x")
    )
    group = open_readers(config)
    assert [type(r) for r in group] == [RC522Reader, EvdevReader, KeyboardReader]
    assert isinstance(group.keyboard, KeyboardReader)
    assert group.name == "emulated RFID reader + USB badge reader + keyboard"


def test_group_merges_rc522_and_usb_into_one_stream() -> None:
    tb = VirtualTimebase()
    emu, keyboard = Emulator(tb), EmulatedKeyboard(tb)
    config = HardwareConfig(
        readers=("rc522", "evdev", "keyboard"), evdev=EvdevConfig(device="/dev/input/by-id/x")
    )
    group = open_readers(config, emulator=emu, evdev_opener=keyboard.open, timebase=tb)
    events: list[ReaderEvent] = []
    group.start(events.append)
    try:
        assert group.alive()
        emu.place(Card.from_hex("04A22B1A"), hold=2.0)
        keyboard.swipe("0012345678")
        assert group.keyboard is not None and group.keyboard.feed("ab:cd:ef:01")
        wait_for(lambda: len([e for e in events if isinstance(e, TagSeen)]) >= 3, what=events)
    finally:
        group.stop()
    seen = {(e.reader, e.uid) for e in events if isinstance(e, TagSeen)}
    assert seen == {
        ("RFID reader", "04A22B1A"),
        ("USB badge reader", "0012345678"),
        ("keyboard", "ABCDEF01"),
    }
    assert not group.alive()


def test_group_start_failure_stops_what_had_started() -> None:
    tb = VirtualTimebase()
    emu, keyboard = Emulator(tb), EmulatedKeyboard(tb)
    keyboard.denied = True
    config = HardwareConfig(
        readers=("rc522", "evdev"), evdev=EvdevConfig(device="/dev/input/by-id/x")
    )
    group = open_readers(config, emulator=emu, evdev_opener=keyboard.open, timebase=tb)
    with pytest.raises(ReaderUnavailable):
        group.start(lambda e: None)
    assert not group.readers[0].alive()


def test_empty_group_is_refused() -> None:
    with pytest.raises(Exception, match="no readers"):
        ReaderGroup([])


def test_a_real_reader_never_loads_the_emulated_parts(tmp_path: Path) -> None:
    """Production builds its readers from hardware.factory: hardware.emulated stays unloaded."""
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[hardware]\nreaders = ["rc522", "evdev", "keyboard"]\nfeedback = "none"\n'
        '[hardware.evdev]\ndevice = "/dev/input/by-id/usb-Reader-event-kbd"\n'
    )
    emulated = tmp_path / "emulated.toml"
    emulated.write_text('[hardware]\nreaders = ["emulator"]\nfeedback = "none"\n')
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kiosk.settings import load_settings\n"
        "from hardware.factory import open_feedback, open_readers\n"
        f"hw = load_settings(Path({str(config)!r}), env={{}}).hardware\n"
        "group = open_readers(hw)\n"
        "open_feedback(hw)\n"
        "print([type(r).__name__ for r in group])\n"
        "print(sorted(m for m in sys.modules if m.startswith('hardware.emulated')))\n"
        f"open_readers(load_settings(Path({str(emulated)!r}), env={{}}).hardware)\n"
        "print('hardware.emulated.chip' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    built, loaded, after_emulator = r.stdout.splitlines()
    assert built == "['RC522Reader', 'EvdevReader', 'KeyboardReader']"
    assert loaded == "[]"
    assert (
        after_emulator == "True"
    )  # the same process loads it once an emulated reader is asked for


def test_group_readers_outlive_an_app_that_raises(tmp_path: Path) -> None:
    """RC522 and USB reader behind one group emit that raises at first: every tap, once."""
    tb = VirtualTimebase()
    emu, keyboard = Emulator(tb), EmulatedKeyboard(tb)
    config = settings_from(
        tmp_path,
        '[hardware]\nreaders = ["rc522", "evdev"]\nfeedback = "none"\n'
        '[hardware.evdev]\ndevice = "/dev/input/by-id/x"\n',
    ).hardware
    group = open_readers(config, emulator=emu, evdev_opener=keyboard.open, timebase=tb)
    failures = {"RFID reader": 3, "USB badge reader": 3}
    events: list[ReaderEvent] = []

    def emit(event: ReaderEvent) -> None:
        if failures.get(event.reader, 0) > 0:
            failures[event.reader] -= 1
            raise RuntimeError("the app fell over")
        events.append(event)

    group.start(emit)
    try:
        emu.place(Card.from_hex("04A22B1A"), hold=2.0)
        keyboard.swipe("0012345678")
        wait_for(lambda: len([e for e in events if isinstance(e, TagSeen)]) >= 2, what=events)
        assert group.alive()
    finally:
        group.stop()
    assert sorted((e.reader, e.uid) for e in events if isinstance(e, TagSeen)) == [
        ("RFID reader", "04A22B1A"),
        ("USB badge reader", "0012345678"),
    ]
    assert [e for e in events if not isinstance(e, TagSeen)] == []

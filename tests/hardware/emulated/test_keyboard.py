"""The emulated USB badge reader: real evdev events, on virtual time, and the cable pulled."""

from __future__ import annotations

import errno

import pytest
from evdev import ecodes

from hardware.emulated.keyboard import EmulatedKeyboard
from hardware.timebase import VirtualTimebase

PATH = "/dev/input/by-id/usb-Emulated_RFID_Reader-event-kbd"


def test_a_swipe_is_key_down_and_up_with_enter(tb: VirtualTimebase) -> None:
    keyboard = EmulatedKeyboard(tb)
    device = keyboard.open(PATH)
    keyboard.swipe("12", key_gap=0.01)
    events: list[object] = []
    while batch := device.read(0.5):  # each read returns what has arrived by then
        events += batch
    keys = [(e.code, e.value) for e in events if e.type == ecodes.EV_KEY]  # type: ignore[attr-defined]
    assert keys == [
        (ecodes.KEY_1, 1),
        (ecodes.KEY_1, 0),
        (ecodes.KEY_2, 1),
        (ecodes.KEY_2, 0),
        (ecodes.KEY_ENTER, 1),
        (ecodes.KEY_ENTER, 0),
    ]
    assert sum(e.type == ecodes.EV_SYN for e in events) == 6  # type: ignore[attr-defined]


def test_read_waits_on_virtual_time_like_select(tb: VirtualTimebase) -> None:
    keyboard = EmulatedKeyboard(tb)
    device = keyboard.open(PATH)
    start = tb.monotonic()
    assert device.read(0.25) == []
    assert tb.monotonic() - start == pytest.approx(0.25)  # timed out
    keyboard.swipe("7", after=0.1)
    start = tb.monotonic()
    assert device.read(1.0)  # returns when the first key arrives, not after the timeout
    assert tb.monotonic() - start == pytest.approx(0.1)


def test_unplugged_reads_fail_with_enodev_and_opening_with_enoent(tb: VirtualTimebase) -> None:
    keyboard = EmulatedKeyboard(tb)
    device = keyboard.open(PATH)
    keyboard.swipe("123")
    keyboard.unplug()
    with pytest.raises(OSError) as info:
        device.read(0.1)
    assert info.value.errno == errno.ENODEV
    with pytest.raises(FileNotFoundError):
        keyboard.open(PATH)
    keyboard.plug()
    assert keyboard.open(PATH).read(0.1) == []  # what was typed before the unplug is gone
    assert keyboard.opened == 2


def test_permission_denied_and_grab(tb: VirtualTimebase) -> None:
    keyboard = EmulatedKeyboard(tb)
    keyboard.denied = True
    with pytest.raises(PermissionError):
        keyboard.open(PATH)
    keyboard.denied = False
    device = keyboard.open(PATH)
    device.grab()
    assert keyboard.grabbed
    device.close()
    assert not keyboard.grabbed

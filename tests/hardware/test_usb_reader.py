"""The USB keyboard-wedge reader, fed real evdev.InputEvent objects (no /dev/uinput here)."""

from __future__ import annotations

import time

import pytest
from evdev import InputEvent, ecodes

from hardware.emulated.keyboard import EmulatedKeyboard
from hardware.errors import ReaderUnavailable
from hardware.events import ReaderBack, ReaderEvent, ReaderLost, TagSeen
from hardware.timebase import VirtualTimebase
from hardware.usb_reader import EvdevReader

PATH = "/dev/input/by-id/usb-Emulated_RFID_Reader-event-kbd"


class Rig:
    def __init__(self, tb: VirtualTimebase) -> None:
        self.tb = tb
        self.keyboard = EmulatedKeyboard(tb)
        self.reader = EvdevReader(path=PATH, opener=self.keyboard.open, timebase=tb)
        self.events: list[ReaderEvent] = []
        self.reader._emit = self.events.append  # start() without the thread

    def run(self, seconds: float) -> None:
        end = self.tb.monotonic() + seconds
        while self.tb.monotonic() < end:
            self.reader.step()

    def tags(self) -> list[str]:
        return [e.uid for e in self.events if isinstance(e, TagSeen)]


@pytest.fixture
def rig(tb: VirtualTimebase) -> Rig:
    r = Rig(tb)
    r.reader.open()
    return r


def test_swipe_is_one_tag_and_the_device_is_grabbed(rig: Rig) -> None:
    assert rig.keyboard.grabbed
    rig.keyboard.swipe("0012345678")
    rig.run(1)
    assert rig.tags() == ["0012345678"]
    assert rig.events[0].reader == "USB badge reader"


def test_hex_badges_are_normalised(rig: Rig) -> None:
    rig.keyboard.swipe("04a22b1a")
    rig.run(1)
    assert rig.tags() == ["04A22B1A"]


def test_badge_held_and_repeating_is_one_tap_then_a_new_tap_counts(rig: Rig) -> None:
    for i in range(5):  # the reader repeats the number every second while held
        rig.keyboard.swipe("0012345678", after=i * 1.0)
    rig.run(6)
    rig.keyboard.swipe("0012345678", after=2.0)  # taken away, tapped again later
    rig.run(3)
    assert rig.tags() == ["0012345678", "0012345678"]


def test_key_up_repeat_and_other_keys_are_ignored(rig: Rig) -> None:
    def key(code: int, value: int) -> InputEvent:
        now = rig.tb.monotonic()
        return InputEvent(int(now), int((now % 1) * 1e6), ecodes.EV_KEY, code, value)

    for event in (
        key(ecodes.KEY_LEFTSHIFT, 1),
        key(ecodes.KEY_1, 1),
        key(ecodes.KEY_1, 2),  # autorepeat
        key(ecodes.KEY_1, 0),
        key(ecodes.KEY_KP2, 1),
        key(ecodes.KEY_KPENTER, 1),
    ):
        rig.reader._key(event)
    assert rig.tags() == ["12"]


def test_a_half_typed_number_is_dropped(rig: Rig) -> None:
    rig.keyboard.swipe("0099", enter=False)
    rig.keyboard.swipe("0012345678", after=2.0)
    rig.run(3)
    assert rig.tags() == ["0012345678"]


def test_not_a_badge_number_is_ignored(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.keyboard.swipe("HELLO")
    rig.run(1)
    assert rig.tags() == []
    assert "not a badge number" in caplog.text


def test_unplug_and_replug_recover_by_themselves(rig: Rig) -> None:
    rig.keyboard.unplug()
    t_unplug = rig.tb.monotonic()
    rig.run(2)
    lost = [e for e in rig.events if isinstance(e, ReaderLost)]
    assert len(lost) == 1 and lost[0].at - t_unplug <= 5
    assert "unplugged" in lost[0].reason and PATH in lost[0].reason
    rig.keyboard.plug()
    t_plug = rig.tb.monotonic()
    rig.run(2)
    back = [e for e in rig.events if isinstance(e, ReaderBack)]
    assert len(back) == 1 and back[0].at - t_plug <= 5
    assert rig.keyboard.grabbed
    rig.keyboard.swipe("0012345678")
    rig.run(1)
    assert rig.tags() == ["0012345678"]


def test_unplugged_at_start_runs_and_is_found_when_plugged(tb: VirtualTimebase) -> None:
    keyboard = EmulatedKeyboard(tb)
    keyboard.unplug()
    reader = EvdevReader(path=PATH, opener=keyboard.open, timebase=tb)
    events: list[ReaderEvent] = []
    reader.start(events.append)
    try:
        assert isinstance(events[0], ReaderLost)
        keyboard.plug()
        deadline = time.monotonic() + 10
        while not any(isinstance(e, ReaderBack) for e in events) and time.monotonic() < deadline:
            time.sleep(0.01)
        keyboard.swipe("0012345678")
        while not any(isinstance(e, TagSeen) for e in events) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        reader.stop()
    assert [type(e) for e in events] == [ReaderLost, ReaderBack, TagSeen]
    assert not reader.alive()


def test_open_failures_say_what_to_check(tb: VirtualTimebase) -> None:
    keyboard = EmulatedKeyboard(tb)
    keyboard.denied = True
    reader = EvdevReader(path=PATH, opener=keyboard.open, timebase=tb)
    with pytest.raises(ReaderUnavailable, match="input group"):
        reader.start(lambda e: None)
    keyboard.denied = False
    keyboard.unplug()
    with pytest.raises(ReaderUnavailable, match="is it plugged in"):
        reader.open()


def test_grabbed_by_another_program(tb: VirtualTimebase) -> None:
    import errno

    class Busy(EmulatedKeyboard):
        def grab(self) -> None:
            raise OSError(errno.EBUSY, "Device or resource busy")

    keyboard = Busy(tb)
    reader = EvdevReader(path=PATH, opener=keyboard.open, timebase=tb)
    with pytest.raises(ReaderUnavailable, match="another program has grabbed it"):
        reader.open()


def test_an_emit_that_raises_loses_no_badge_and_keeps_the_device(rig: Rig) -> None:
    calls: list[object] = []

    def flaky(event: ReaderEvent) -> None:
        calls.append(event)
        if len(calls) <= 2:
            raise RuntimeError("the app fell over")
        rig.events.append(event)

    rig.reader._emit = flaky
    rig.keyboard.swipe("0012345678")
    rig.run(1)
    assert rig.tags() == ["0012345678"]
    assert not [e for e in rig.events if isinstance(e, ReaderLost | ReaderBack)]
    assert rig.keyboard.opened == 1 and rig.keyboard.grabbed  # never closed and reopened

"""LEDs and buzzer through gpiozero's MockFactory: the recorded pin state sequences."""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hardware.base import NullFeedback
from hardware.config import HardwareConfig
from hardware.errors import FeedbackUnavailable
from hardware.factory import open_feedback
from hardware.feedback import GpioFeedback
from tests.hardware.waiting import wait_for

GREEN, RED, BUZZER = 17, 27, 22


def states(factory: Any, pin: int) -> list[bool]:
    return [s.state for s in factory.pin(pin).states]


def wait_for_pins(done: Callable[[], bool]) -> None:
    """gpiozero blinks on its own threads, in real time: wait until it has."""
    wait_for(done, what="the pins never reached the expected states")


def changes(factory: Any, pin: int, n: int) -> Callable[[], bool]:
    return lambda: len(factory.pin(pin).states) >= n


@pytest.fixture
def fast(mock_factory: Any) -> Iterator[GpioFeedback]:
    fb = GpioFeedback(
        GREEN,
        RED,
        BUZZER,
        pin_factory=mock_factory,
        show_seconds=0.06,
        beep_seconds=0.02,
        blink_seconds=0.03,
    )
    yield fb
    fb.close()


def test_accepted_is_green_once_and_one_beep(fast: GpioFeedback, mock_factory: Any) -> None:
    fast.accepted()
    wait_for_pins(changes(mock_factory, GREEN, 3))
    wait_for_pins(changes(mock_factory, BUZZER, 3))
    assert states(mock_factory, GREEN) == [False, True, False]
    assert states(mock_factory, BUZZER) == [False, True, False]
    assert states(mock_factory, RED) == [False]


def test_refused_is_red_once_and_three_beeps(fast: GpioFeedback, mock_factory: Any) -> None:
    fast.refused()
    wait_for_pins(changes(mock_factory, RED, 3))
    wait_for_pins(changes(mock_factory, BUZZER, 7))
    assert states(mock_factory, RED) == [False, True, False]
    assert states(mock_factory, BUZZER) == [False, True, False, True, False, True, False]
    assert states(mock_factory, GREEN) == [False]


def test_reader_lost_blinks_red_until_back(fast: GpioFeedback, mock_factory: Any) -> None:
    fast.reader_lost()
    wait_for_pins(changes(mock_factory, RED, 7))  # 0.03 s on, 0.03 s off: several blinks
    fast.reader_back()  # gpiozero stops the blink before off() returns
    red = states(mock_factory, RED)
    assert red[0] is False and red[-1] is False
    assert red.count(True) >= 3
    assert all(a != b for a, b in itertools.pairwise(red))  # strictly alternating
    count = len(red)
    time.sleep(0.15)  # five blink periods: nothing more may happen (a check of absence)
    assert len(states(mock_factory, RED)) == count  # stopped


def test_two_lost_readers_blink_until_both_are_back(fast: GpioFeedback, mock_factory: Any) -> None:
    fast.reader_lost()
    fast.reader_lost()
    fast.reader_back()
    n = len(states(mock_factory, RED))
    wait_for_pins(changes(mock_factory, RED, n + 4))  # still blinking: one reader is still lost
    fast.reader_back()
    assert mock_factory.pin(RED).state is False


def test_close_switches_everything_off_mid_blink(fast: GpioFeedback, mock_factory: Any) -> None:
    fast.reader_lost()
    fast.accepted()
    wait_for_pins(changes(mock_factory, RED, 2))  # red is blinking
    fast.close()
    for pin in (GREEN, RED, BUZZER):
        assert states(mock_factory, pin)[-1] is False
    fast.close()  # twice is fine
    fast.accepted()  # after close: ignored, no error


def test_real_durations_one_second_on(mock_factory: Any) -> None:
    fb = GpioFeedback(GREEN, RED, BUZZER, pin_factory=mock_factory)
    try:
        fb.accepted()
        wait_for_pins(changes(mock_factory, GREEN, 3))
        wait_for_pins(changes(mock_factory, BUZZER, 3))
        green = mock_factory.pin(GREEN).states
        buzz = mock_factory.pin(BUZZER).states
        assert [s.state for s in green] == [False, True, False]
        # Seconds since the previous change: never shorter than asked; a busy machine may
        # only make them longer, and not by seconds.
        assert 0.95 <= green[2].timestamp < 5.0
        assert 0.08 <= buzz[2].timestamp < 1.0  # a short beep, not a second one
    finally:
        fb.close()


def test_sigterm_switches_everything_off_then_runs_the_old_handler(mock_factory: Any) -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        fb = open_feedback(HardwareConfig(), pin_factory=mock_factory, handle_sigterm=True)
        fb.reader_lost()
        wait_for_pins(changes(mock_factory, RED, 2))  # red is blinking
        os.kill(os.getpid(), signal.SIGTERM)
        wait_for_pins(lambda: bool(seen))  # the handler runs in this thread, between bytecodes
        assert seen == [signal.SIGTERM]
        for pin in (GREEN, RED, BUZZER):
            assert mock_factory.pin(pin).state is False
        assert signal.getsignal(signal.SIGTERM) is not fb._on_sigterm  # type: ignore[attr-defined]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_feedback_none_is_null() -> None:
    assert isinstance(open_feedback(HardwareConfig(feedback="none")), NullFeedback)


def test_pin_in_use_says_what_to_check(mock_factory: Any) -> None:
    from gpiozero import LED

    holder = LED(GREEN, pin_factory=mock_factory)
    try:
        with pytest.raises(FeedbackUnavailable, match="gpio group"):
            GpioFeedback(GREEN, RED, BUZZER, pin_factory=mock_factory)
        assert mock_factory.pin(RED).function == "input"  # what was opened was released
    finally:
        holder.close()

"""LEDs and buzzer through gpiozero's MockFactory: the recorded pin state sequences."""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hardware.base import NullFeedback
from hardware.config import HardwareConfig
from hardware.errors import FeedbackUnavailable
from hardware.factory import open_feedback
from hardware.feedback import GpioFeedback

GREEN, RED, BUZZER = 17, 27, 22


def states(factory: Any, pin: int) -> list[bool]:
    return [s.state for s in factory.pin(pin).states]


def settle(seconds: float = 0.25) -> None:
    time.sleep(seconds)  # gpiozero blinks on its own threads, in real time


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
    settle()
    assert states(mock_factory, GREEN) == [False, True, False]
    assert states(mock_factory, BUZZER) == [False, True, False]
    assert states(mock_factory, RED) == [False]


def test_refused_is_red_once_and_three_beeps(fast: GpioFeedback, mock_factory: Any) -> None:
    fast.refused()
    settle()
    assert states(mock_factory, RED) == [False, True, False]
    assert states(mock_factory, BUZZER) == [False, True, False, True, False, True, False]
    assert states(mock_factory, GREEN) == [False]


def test_reader_lost_blinks_red_until_back(fast: GpioFeedback, mock_factory: Any) -> None:
    fast.reader_lost()
    settle(0.3)  # 0.03 s on, 0.03 s off: several blinks
    fast.reader_back()
    settle(0.1)
    red = states(mock_factory, RED)
    assert red[0] is False and red[-1] is False
    assert red.count(True) >= 3
    assert all(a != b for a, b in itertools.pairwise(red))  # strictly alternating
    count = len(red)
    settle(0.15)
    assert len(states(mock_factory, RED)) == count  # stopped


def test_two_lost_readers_blink_until_both_are_back(fast: GpioFeedback, mock_factory: Any) -> None:
    fast.reader_lost()
    fast.reader_lost()
    fast.reader_back()
    settle(0.15)
    n = len(states(mock_factory, RED))
    settle(0.15)
    assert len(states(mock_factory, RED)) > n  # still blinking: one reader is still lost
    fast.reader_back()
    settle(0.1)
    assert mock_factory.pin(RED).state is False


def test_close_switches_everything_off_mid_blink(fast: GpioFeedback, mock_factory: Any) -> None:
    fast.reader_lost()
    fast.accepted()
    time.sleep(0.01)
    fast.close()
    for pin in (GREEN, RED, BUZZER):
        assert states(mock_factory, pin)[-1] is False
    fast.close()  # twice is fine
    fast.accepted()  # after close: ignored, no error


def test_real_durations_one_second_on(mock_factory: Any) -> None:
    fb = GpioFeedback(GREEN, RED, BUZZER, pin_factory=mock_factory)
    try:
        fb.accepted()
        time.sleep(1.15)
        green = mock_factory.pin(GREEN).states
        buzz = mock_factory.pin(BUZZER).states
        assert [s.state for s in green] == [False, True, False]
        assert 0.95 <= green[2].timestamp <= 1.1  # seconds since the previous change
        assert 0.08 <= buzz[2].timestamp <= 0.2  # a short beep
    finally:
        fb.close()


def test_sigterm_switches_everything_off_then_runs_the_old_handler(mock_factory: Any) -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        fb = open_feedback(HardwareConfig(), pin_factory=mock_factory, handle_sigterm=True)
        fb.reader_lost()
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
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

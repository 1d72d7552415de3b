"""The clock: UTC, monotonic, and whether the system clock is synchronised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk import clock as clock_module
from kiosk.clock import CLOCK_ENV, ManualClock, StartedClock, SystemClock, clock_from_env
from kiosk.errors import ConfigError


def test_system_clock_is_utc_and_monotonic():
    c = SystemClock()
    assert c.now().tzinfo is UTC
    a = c.monotonic()
    assert c.monotonic() >= a


def test_timesyncd_flag_file_means_synchronised(tmp_path, monkeypatch):
    flag = tmp_path / "synchronized"
    monkeypatch.setattr(clock_module, "TIMESYNC_FLAG", flag)
    monkeypatch.delenv("KIOSK_ASSUME_CLOCK_SYNCED", raising=False)
    monkeypatch.setattr(clock_module, "_adjtimex_synchronised", lambda: False)
    assert SystemClock(recheck_seconds=0).synchronised() is False
    flag.touch()
    assert SystemClock(recheck_seconds=0).synchronised() is True


def test_kernel_answer_is_used_without_the_flag(tmp_path, monkeypatch):
    monkeypatch.setattr(clock_module, "TIMESYNC_FLAG", tmp_path / "absent")
    monkeypatch.delenv("KIOSK_ASSUME_CLOCK_SYNCED", raising=False)
    monkeypatch.setattr(clock_module, "_adjtimex_synchronised", lambda: True)
    assert SystemClock(recheck_seconds=0).synchronised() is True


def test_adjtimex_answers_on_this_linux_machine():
    assert clock_module._adjtimex_synchronised() in (True, False)


def test_manual_clock_jump_moves_wall_time_only():
    c = ManualClock()
    wall, mono = c.now(), c.monotonic()
    c.jump(-3600)
    assert (c.now() - wall).total_seconds() == -3600 and c.monotonic() == mono


def test_kiosk_clock_names_the_instant_a_command_starts_at():
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    c = clock_from_env({CLOCK_ENV: "2026-11-23T09:00:00+00:00"})
    assert isinstance(c, StartedClock) and c.synchronised() is True
    first = c.now()
    assert timedelta(0) <= first - start < timedelta(seconds=60)
    assert c.now() >= first  # and it runs on from there


def test_kiosk_clock_in_local_time_is_the_same_instant():
    c = clock_from_env({CLOCK_ENV: "2026-06-01T10:00:00+01:00"})
    assert c.now().tzinfo is UTC and c.now().hour == 9


def test_no_kiosk_clock_is_the_system_clock():
    assert isinstance(clock_from_env({}), SystemClock)


@pytest.mark.parametrize("spec", ["monday", "2026-11-23T09:00:00"])
def test_a_bad_kiosk_clock_is_refused_naming_the_variable(spec):
    with pytest.raises(ConfigError, match="KIOSK_CLOCK: expected an instant like"):
        clock_from_env({CLOCK_ENV: spec})

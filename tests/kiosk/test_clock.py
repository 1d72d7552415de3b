"""The clock: UTC, monotonic, and whether the system clock is synchronised."""

from __future__ import annotations

from datetime import UTC

from kiosk import clock as clock_module
from kiosk.clock import ManualClock, SystemClock


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

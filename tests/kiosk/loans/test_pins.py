"""Admin PINs: the lockout after wrong ones, never for a non-admin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Outbox, Staff
from kiosk.errors import Refused
from kiosk.loans import LoanService
from kiosk.settings import Settings
from tests.conftest import TinySchool


def test_admin_pin_locks_after_five_wrong_tries(service, clock, tiny_school):
    service.set_pin(tiny_school.admin.id, "2468")
    assert service.check_admin_pin(tiny_school.admin.id, "2468") is True
    for _ in range(4):
        assert service.check_admin_pin(tiny_school.admin.id, "0000") is False
    with pytest.raises(Refused, match="locked for 5 minutes"):
        service.check_admin_pin(tiny_school.admin.id, "0000")
    with pytest.raises(Refused, match="locked"):
        service.check_admin_pin(tiny_school.admin.id, "2468")
    clock.advance(301)
    assert service.check_admin_pin(tiny_school.admin.id, "2468") is True


def test_pin_of_a_non_admin_never_opens_admin(service, clock, tiny_school):
    Staff.update(pin_hash=Staff.get_by_id(tiny_school.admin.id).pin_hash).execute()
    assert service.check_admin_pin(tiny_school.khan.id, "1234") is False


def lock_admin(service: LoanService, staff_pk: int) -> str:
    """Five wrong PINs; returns what the fifth one said."""
    for _ in range(4):
        assert service.check_admin_pin(staff_pk, "0000") is False
    with pytest.raises(Refused) as info:
        service.check_admin_pin(staff_pk, "0000")
    return str(info.value)


def test_the_lock_survives_a_restart(
    settings: Settings, clock: ManualClock, service: LoanService, tiny_school: TinySchool
) -> None:
    service.set_pin(tiny_school.admin.id, "2468")
    lock_admin(service, tiny_school.admin.id)
    clock.reboot(clock.now() + timedelta(seconds=30), synced=True)  # a power cut, a new process
    again = LoanService(settings, clock)
    with pytest.raises(Refused, match=r"Admin is locked for 5 more minutes\."):
        again.check_admin_pin(tiny_school.admin.id, "2468")
    clock.advance(271)  # five minutes after the lock, by the wall clock
    assert again.check_admin_pin(tiny_school.admin.id, "2468") is True


def test_wrong_pins_before_a_restart_still_count(
    settings: Settings, clock: ManualClock, service: LoanService, tiny_school: TinySchool
) -> None:
    service.set_pin(tiny_school.admin.id, "2468")
    for _ in range(4):
        assert service.check_admin_pin(tiny_school.admin.id, "0000") is False
    again = LoanService(settings, clock)
    with pytest.raises(Refused, match="locked for 5 minutes"):
        again.check_admin_pin(tiny_school.admin.id, "0000")


def test_the_lock_counts_down_in_whole_minutes_left(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    service.set_pin(tiny_school.admin.id, "2468")
    lock_admin(service, tiny_school.admin.id)
    said = []
    for wait in (0, 59, 121, 119):  # at 0 s, 59 s, 180 s and 299 s after the lock
        clock.advance(wait)
        with pytest.raises(Refused) as info:
            service.check_admin_pin(tiny_school.admin.id, "2468")
        said.append(str(info.value))
    assert said == [
        "Admin is locked for 5 more minutes.",
        "Admin is locked for 5 more minutes.",
        "Admin is locked for 2 more minutes.",
        "Admin is locked for 1 more minute.",
    ]


def test_it_are_told_when_admin_is_locked(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    service.set_pin(tiny_school.admin.id, "2468")
    said = lock_admin(service, tiny_school.admin.id)
    assert said.startswith("Wrong PIN. Admin is locked for 5 minutes.")
    assert "IT" in said  # what is true about telling them (no channel in these settings)
    alert = Outbox.get()
    assert (alert.kind, alert.audience) == ("admin_locked", "it")
    assert "Zoë Clarke" in alert.payload["note"] and "0000" not in str(alert.payload)


def test_a_clock_set_back_never_makes_the_lock_longer(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    service.set_pin(tiny_school.admin.id, "2468")
    lock_admin(service, tiny_school.admin.id)
    clock.jump(-86400)  # the wall clock goes back a day
    assert service.admin_locked_for() == pytest.approx(300)


@pytest.mark.parametrize(
    ("pin", "why"),
    [
        ("0000", "one digit repeated"),
        ("7777", "one digit repeated"),
        ("1234", "a run of digits"),
        ("4321", "a run of digits"),
        ("7890", "a run of digits"),
        ("345678", "a run of digits"),
        ("1212", "repeats a pair"),
        ("123", "4 to 8 digits"),
        ("123456789", "4 to 8 digits"),
        ("12a4", "4 to 8 digits"),
        ("\uff11\uff13\uff15\uff17", "cannot be typed there"),  # full-width 1357
        ("\u0661\u0663\u0665\u0667", "cannot be typed there"),  # Arabic-Indic 1357
    ],
)
def test_weak_or_untypable_pins_are_refused_with_the_reason(
    service: LoanService, tiny_school: TinySchool, pin: str, why: str
) -> None:
    with pytest.raises(Refused, match=why):
        service.set_pin(tiny_school.admin.id, pin)
    assert Staff.get_by_id(tiny_school.admin.id).pin_hash == ""


def test_a_good_pin_is_accepted(service: LoanService, tiny_school: TinySchool) -> None:
    service.set_pin(tiny_school.admin.id, "3917")
    assert service.check_admin_pin(tiny_school.admin.id, "3917") is True

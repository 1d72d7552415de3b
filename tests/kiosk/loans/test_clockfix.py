"""A wrong clock never sends a false alert: times taken before NTP answers are corrected.

Each case is a Pi that boots with its clock wrong and not synchronised, lends things,
and is then synchronised in the same boot (the wall clock jumps to the truth, the
monotonic clock runs on). Loans are made on both sides of that moment. Afterwards
the alert rules run and must raise no overdue alert and no escalation; the records
and the board show the true times; the audit log says what was corrected, by how much.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Loan, Outbox
from kiosk.loans import LoanService
from sync.rules import run_rules
from tests.conftest import TinySchool, loan_id, tap

#: What the time really is when the Pi starts lending: Monday 23 November 2026, 09:00.
TRUE_START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def overdue_alerts() -> list[str]:
    return [o.kind for o in Outbox.select() if o.kind.startswith("overdue")]


def boot_wrong(clock: ManualClock, wrong_by: timedelta) -> None:
    clock.wall, clock.synced = TRUE_START + wrong_by, False


def ntp_answers(clock: ManualClock, wrong_by: timedelta) -> None:
    """The clock is set: the wall clock jumps back to the truth; monotonic time runs on."""
    clock.jump(-wrong_by.total_seconds())
    clock.synced = True


CASES = {
    "3 days behind": timedelta(days=-3),
    "400 days behind": timedelta(days=-400),
    "30 days ahead": timedelta(days=30),
}


@pytest.mark.parametrize("wrong_by", list(CASES.values()), ids=list(CASES))
def test_loans_made_before_the_clock_was_set_raise_no_false_alert(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool, wrong_by: timedelta
) -> None:
    boot_wrong(clock, wrong_by)
    tap(service, clock, TinySchool.KHAN)
    camera = loan_id(tap(service, clock, TinySchool.CAMERA))  # really Monday 09:00:06
    tap(service, clock, TinySchool.JONES)
    phone = loan_id(tap(service, clock, TinySchool.PHONE))
    service.set_due(phone, clock.now() + timedelta(hours=2), trip="Swimming")
    clock.advance(300)
    ntp_answers(clock, wrong_by)  # 09:05 on the true Monday
    assert run_rules(service.settings, clock) == 0
    tap(service, clock, TinySchool.JONES)  # after the sync moment: a normal loan
    trolley = loan_id(tap(service, clock, TinySchool.TROLLEY))
    clock.advance(3600)  # 10:05: nothing is due yet, and nothing was ever overdue
    assert run_rules(service.settings, clock) == 0
    assert overdue_alerts() == []

    out = Loan.get_by_id(camera)
    assert TRUE_START <= out.out_at < TRUE_START + timedelta(minutes=1)
    assert out.due_at == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # the true day's end
    assert out.out_corrected == pytest.approx(-wrong_by.total_seconds())
    trip = Loan.get_by_id(phone)  # "back in two hours", two true hours after
    assert trip.due_at is not None
    assert timedelta(hours=2) <= trip.due_at - TRUE_START < timedelta(hours=2, minutes=1)
    assert Loan.get_by_id(trolley).out_corrected is None  # taken with the clock right
    fix = Event.get(Event.action == "clock_corrected")
    assert fix.detail["by_seconds"] == pytest.approx(-wrong_by.total_seconds())
    assert fix.detail["loans"] == 2
    board = {v.item.name: v for v in service.board()}
    assert board["Class camera 5B"].due_text == "15:30 today"
    assert not board["Class camera 5B"].time_uncertain
    # Every event of the morning reads the true time.
    assert all(e.at >= TRUE_START for e in Event.select())


def test_a_day_later_the_corrected_loans_are_overdue_for_real(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    wrong_by = timedelta(days=-3)
    boot_wrong(clock, wrong_by)
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    ntp_answers(clock, wrong_by)
    run_rules(service.settings, clock)
    clock.advance(8 * 3600)  # 17:00: past the true due time and the grace, not yet SLT's
    run_rules(service.settings, clock)
    assert overdue_alerts() == ["overdue"]


def test_a_return_before_the_clock_was_set_gets_its_true_time(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    boot_wrong(clock, timedelta(days=-3))
    tap(service, clock, TinySchool.KHAN)
    camera = loan_id(tap(service, clock, TinySchool.CAMERA))
    clock.advance(60)
    tap(service, clock, TinySchool.CAMERA)  # back a minute later
    ntp_answers(clock, timedelta(days=-3))
    run_rules(service.settings, clock)
    loan = Loan.get_by_id(camera)
    assert loan.closed_at is not None
    assert timedelta(minutes=1) <= loan.closed_at - loan.out_at < timedelta(minutes=2)
    assert loan.closed_at > TRUE_START


def test_a_clock_jump_while_synchronised_raises_nothing_false(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    clock.jump(3600)  # NTP steps the clock an hour: still the same day, still synchronised
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.TROLLEY)
    assert run_rules(service.settings, clock) == 0
    assert overdue_alerts() == [] and not Event.select().where(Event.corrected.is_null(False))


def test_a_reboot_before_the_clock_was_set_leaves_times_uncertain_and_never_escalates(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    boot_wrong(clock, timedelta(days=-3))  # the Pi thinks it is Friday 09:00
    tap(service, clock, TinySchool.KHAN)
    camera = loan_id(tap(service, clock, TinySchool.CAMERA))  # "due Friday 15:30"
    clock.reboot(TRUE_START + timedelta(days=-3, minutes=10))  # power cut, still no network
    service = LoanService(service.settings, clock)
    clock.wall, clock.synced = TRUE_START + timedelta(hours=1), True  # the truth, Monday 10:00
    run_rules(service.settings, clock)
    clock.advance(6 * 3600)  # Monday 16:00: "three days overdue" by the wrong times
    run_rules(service.settings, clock)
    assert "overdue_escalated" not in overdue_alerts()  # never escalated on a guess
    office = Outbox.get_or_none(Outbox.kind == "overdue")
    assert office is None or "times may be wrong" in office.payload["note"]
    (view,) = service.board()
    assert view.id == camera and view.time_uncertain
    assert Loan.get_by_id(camera).out_corrected is None

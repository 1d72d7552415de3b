"""The office's day as one read: loans and returns, short counts, damage, losses, calls,
what is overdue and the stock-take, by the school's local day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from kiosk.clock import ManualClock
from kiosk.errors import Refused
from kiosk.loans import LoanService
from kiosk.loans.day import day_facts
from kiosk.settings import Settings
from kiosk.views import Checklist
from tests.conftest import TinySchool, loan_id, tap

MONDAY = date(2026, 11, 23)


def at(clock: ManualClock, hh: int, mm: int = 0, day: int = 23) -> None:
    clock.wall = datetime(2026, 11, day, hh, mm, tzinfo=UTC)
    clock.mono += 60


def a_busy_monday(service: LoanService, clock: ManualClock) -> dict[str, int]:
    """Monday at Tiny School: damage, a short count, a loss, a trip with calls, an undo."""
    loans = {}
    tap(service, clock, TinySchool.KHAN)
    loans["camera"] = loan_id(tap(service, clock, TinySchool.CAMERA))
    tap(service, clock, TinySchool.JONES)
    loans["trolley"] = loan_id(tap(service, clock, TinySchool.TROLLEY))
    loans["phone"] = loan_id(tap(service, clock, TinySchool.PHONE))
    service.set_due(loans["phone"], datetime(2026, 11, 23, 12, 0, tzinfo=UTC), trip="Pool")
    tap(service, clock, TinySchool.BALL)
    service.undo()  # a mistake, undone: it never happened
    service.end_session()
    at(clock, 10)
    tap(service, clock, TinySchool.CAMERA)
    service.save_checklist(loans["camera"], Checklist(images_erased=True, damage="cracked lens"))
    at(clock, 11)
    tap(service, clock, TinySchool.TROLLEY)
    service.save_checklist(
        loans["trolley"], Checklist(counts={"iPads": 28, "headphones": 30}, damage="")
    )
    service.add_personal_call(loans["phone"], MONDAY, time(10, 30), "01234 567890", "Home")
    at(clock, 12, 30)
    tap(service, clock, TinySchool.KHAN)
    loans["ball"] = loan_id(tap(service, clock, TinySchool.BALL))
    service.end_session()
    service.report_lost(service.loan(loans["ball"]).item.id, None, "on the field")
    at(clock, 15)
    service.save_stock_take({TinySchool.TROLLEY}, by_staff_id=None)
    at(clock, 15, 10)
    return loans


def test_the_day_holds_every_kind_of_fact(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loans = a_busy_monday(service, clock)
    day = service.day()
    assert day.day == MONDAY and day.as_of == clock.now()
    assert [v.item.name for v in day.signed_out] == [
        "Class camera 5B",
        "iPad trolley 1",
        "Trip phone 1",
        "PE ball bag",
    ]
    assert [v.item.name for v in day.returned] == ["Class camera 5B", "iPad trolley 1"]
    (short,) = day.short
    assert short.loan.id == loans["trolley"] and short.text == "28 of 30 iPads"
    (damaged,) = day.damaged
    assert (damaged.item.name, damaged.note, damaged.person) == (
        "Class camera 5B",
        "cracked lens",
        "Amira Khan",
    )
    (lost,) = day.lost
    assert (lost.item.name, lost.note) == ("PE ball bag", "on the field")
    (call,) = day.calls
    assert call.phone == "Trip phone 1" and call.made_at == datetime(
        2026, 11, 23, 10, 30, tzinfo=UTC
    )
    assert [v.item.name for v in day.overdue] == ["Trip phone 1"]
    assert day.stock_take is not None
    assert {x.item.name for x in day.stock_take.missing} == {"Class camera 5B"}
    assert day.headline == (
        "4 out, 2 back, 1 short count, 1 damaged, 1 lost, 1 personal call, 1 overdue"
    )


def test_the_same_facts_for_the_alert_carry_no_numbers_called(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    a_busy_monday(service, clock)
    facts = day_facts(service.day(), service.calendar)
    assert facts["counts"]["calls"] == 1
    assert facts["calls"] == [{"phone": "Trip phone 1", "person": "John Jones", "at": "10:30"}]
    assert facts["short"] == [
        {"item": "iPad trolley 1", "person": "John Jones", "counted": "28 of 30 iPads"}
    ]
    assert facts["stock_take"]["missing"][0]["item"] == "Class camera 5B"
    assert "01234" not in str(facts) and "Home" not in str(facts)


def test_a_past_day_is_judged_at_its_end(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    clock.wall = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # Friday
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)  # due Friday 15:30...
    service.end_session()
    at(clock, 9, 30)  # ...back on Monday morning
    tap(service, clock, TinySchool.CAMERA)
    friday = service.day(date(2026, 11, 20))
    assert [v.item.name for v in friday.signed_out] == ["Class camera 5B"]
    assert friday.returned == ()
    assert [v.item.name for v in friday.overdue] == ["Class camera 5B"]
    assert friday.as_of == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    monday = service.day(MONDAY)
    assert [v.item.name for v in monday.returned] == ["Class camera 5B"]
    assert monday.signed_out == () and monday.overdue == ()


def test_days_are_the_schools_local_days(
    settings: Settings, db: object, tiny_school: TinySchool
) -> None:
    # 23:30 UTC on 15 June is 00:30 on 16 June in London (summer time).
    clock = ManualClock(wall=datetime(2026, 6, 15, 23, 30, tzinfo=UTC))
    service = LoanService(settings, clock)
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.BALL)
    clock.advance(3600)
    assert [v.item.name for v in service.day(date(2026, 6, 16)).signed_out] == ["PE ball bag"]
    assert service.day(date(2026, 6, 15)).signed_out == ()


def test_a_day_still_to_come_is_refused(service: LoanService, tiny_school: TinySchool) -> None:
    with pytest.raises(Refused, match="Tue 24 Nov 2026 has not happened yet"):
        service.day(date(2026, 11, 24))

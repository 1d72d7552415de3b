"""Spare cards work for one day for the person they are given to; lost badges stop at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Loan, SpareCard, Staff
from kiosk.errors import ImportFileError, Refused
from kiosk.importer import import_staff
from kiosk.loans import LoanService
from kiosk.views import Outcome
from tests.conftest import TinySchool, tap

SPARE_1 = "C0000001"
SPARE_2 = "C0000002"


def enrol_two(service: LoanService) -> tuple[int, int]:
    assert service.enrol_spare(SPARE_1) == "Enrolled as Spare card 1. Write 1 on the card."
    assert service.enrol_spare("c0:00:00:02") == "Enrolled as Spare card 2. Write 2 on the card."
    first, second = service.spare_cards()
    return first.id, second.id


def test_a_spare_card_given_to_a_supply_teacher_works_until_the_end_of_the_day(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    card, _ = enrol_two(service)
    free = service.tap(SPARE_1, "test")
    assert free.outcome is Outcome.REFUSED
    assert free.message == "Spare card 1 is not given to anyone today."
    res = service.give_spare_card(card, tiny_school.office.id, name="  Jo   Smith ", classes="5b")
    assert res.message == "Spare card 1 now works for Jo Smith until 15:30 today."
    jo = Staff.get(Staff.name == "Jo Smith")
    assert (jo.staff_id, jo.classes, jo.badge_uid) == ("VISITOR-0001", "5B", None)
    hello = tap(service, clock, SPARE_1)
    assert hello.outcome is Outcome.SESSION_STARTED and hello.message == "Hello, Jo Smith"
    assert hello.detail == "Tap an item. (Spare card 1 works until 15:30 today.)"
    out = tap(service, clock, TinySchool.CAMERA)  # she covers 5B, so 5B's camera is hers
    assert out.outcome is Outcome.SIGNED_OUT
    assert Event.get(Event.action == "badge").detail == {"card": "Spare card 1"}
    (view, _) = service.spare_cards()
    assert (view.state, view.describe) == ("in_use", "with Jo Smith until 15:30 today")
    # At the end of the school day the card switches itself off; her camera is overdue.
    clock.advance(6.5 * 3600 + 1)
    service.end_session()
    late = tap(service, clock, SPARE_1)
    assert late.outcome is Outcome.REFUSED
    assert late.message == "Spare card 1 switched itself off at 15:30 today."
    (view, _) = service.spare_cards()
    assert view.state == "ended"
    (loan,) = service.loans_for(jo.id)
    assert loan.overdue and loan.item.name == "Class camera 5B"


def test_the_next_visit_finds_the_visitor_by_name(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    first, second = enrol_two(service)
    service.give_spare_card(first, tiny_school.office.id, name="Jo Smith")
    clock.advance(86400)  # Tuesday
    res = service.give_spare_card(second, tiny_school.office.id, name="jo smith", classes="4A")
    assert res.message == "Spare card 2 now works for Jo Smith until 15:30 today."
    assert Staff.select().where(Staff.staff_id.startswith("VISITOR-")).count() == 1
    assert Staff.get(Staff.staff_id == "VISITOR-0001").classes == "4A"


def test_a_member_of_staff_who_forgot_their_badge_gets_a_card_for_the_day(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    card, _ = enrol_two(service)
    service.give_spare_card(card, tiny_school.office.id, staff_pk=tiny_school.khan.id)
    assert tap(service, clock, SPARE_1).message == "Hello, Ms Khan"
    assert tap(service, clock, TinySchool.BALL).outcome is Outcome.SIGNED_OUT
    assert Loan.get().borrower_id == tiny_school.khan.id


def test_giving_a_card_again_moves_it_and_taking_it_back_frees_it(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    card, _ = enrol_two(service)
    office = tiny_school.office.id
    service.give_spare_card(card, office, name="Jo Smith")
    res = service.give_spare_card(card, office, name="Sam Lee")
    assert res.message == (
        "Spare card 1 was Jo Smith's. Spare card 1 now works for Sam Lee until 15:30 today."
    )
    assert tap(service, clock, SPARE_1).message == "Hello, Sam Lee"
    back = service.take_back_spare_card(card, office)
    assert back.message == "Spare card 1 is back from Sam Lee and free to give again."
    assert service.session_staff_id is None
    assert tap(service, clock, SPARE_1).outcome is Outcome.REFUSED
    assert service.spare_cards()[0].describe == "free"


def test_a_lost_spare_card_is_switched_off(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    card, _ = enrol_two(service)
    service.give_spare_card(card, tiny_school.office.id, name="Jo Smith")
    service.spare_card_lost(card, tiny_school.office.id)
    r = tap(service, clock, SPARE_1)
    assert r.message == "Spare card 1 is switched off: it was reported lost."
    with pytest.raises(Refused, match="switched off"):
        service.give_spare_card(card, tiny_school.office.id, name="Sam Lee")
    assert service.enrol_spare(SPARE_1) == "Spare card 1 is switched on again."
    assert not SpareCard.get_by_id(card).switched_off


def test_a_card_given_after_school_works_until_midnight(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    card, _ = enrol_two(service)
    clock.advance(9 * 3600)  # 18:00, the parents' evening
    res = service.give_spare_card(card, tiny_school.office.id, name="Jo Smith")
    assert res.message == "Spare card 1 now works for Jo Smith until 00:00 tomorrow."
    clock.advance(5 * 3600)
    assert tap(service, clock, SPARE_1).outcome is Outcome.SESSION_STARTED
    clock.advance(3600)
    assert tap(service, clock, SPARE_1).outcome is Outcome.REFUSED


def test_spare_cards_are_refused_in_words(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    card, _ = enrol_two(service)
    office = tiny_school.office.id
    with pytest.raises(Refused, match="already Amira Khan's badge"):
        service.enrol_spare(TinySchool.KHAN)
    assert service.enrol_spare(SPARE_1) == "That tag is already Spare card 1."
    with pytest.raises(Refused, match="Only the office"):
        service.give_spare_card(card, tiny_school.khan.id, name="Jo Smith")
    with pytest.raises(Refused, match="Type the person's name"):
        service.give_spare_card(card, office, name=" J ")
    with pytest.raises(Refused, match="'YEAR-5' is not a class name"):
        service.give_spare_card(card, office, name="Jo Smith", classes="year-5")
    Staff.update(active=False, inactive_reason="left").where(
        Staff.id == tiny_school.jones.id
    ).execute()
    with pytest.raises(Refused, match=r"John Jones is switched off \(left\)"):
        service.give_spare_card(card, office, staff_pk=tiny_school.jones.id)
    with pytest.raises(Refused, match="already Spare card 1"):
        service.enrol_tag(SPARE_1, staff_pk=tiny_school.jones.id)


def test_a_staff_list_cannot_give_a_spare_cards_tag_as_a_badge(
    service: LoanService, tiny_school: TinySchool, tmp_path: Path
) -> None:
    enrol_two(service)
    csv = tmp_path / "staff.csv"
    csv.write_text(f"staff_id,name,badge_uid\nS9,Ann Lee,{SPARE_1}\n")
    with pytest.raises(ImportFileError, match="is already Spare card 1"):
        import_staff(csv, service.settings, service.clock)


def test_a_lost_badge_is_switched_off_at_once_and_said_so(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    res = service.switch_off_badge(tiny_school.khan.id, tiny_school.office.id)
    assert res.message.startswith("Amira Khan's badge is switched off.")
    assert "the office can sign out for Ms Khan" in res.message
    assert service.session_staff_id is None
    assert Staff.get_by_id(tiny_school.khan.id).badge_uid is None
    event = Event.get(Event.action == "badge_switched_off")
    assert (event.staff_id, event.detail) == (tiny_school.khan.id, {"by": "S3", "why": "lost"})
    r = tap(service, clock, TinySchool.KHAN)
    assert r.outcome is Outcome.REFUSED
    assert r.message == "This badge is switched off: it was reported lost."
    assert service.tag_owner(TinySchool.KHAN) == "Amira Khan's badge, switched off as lost"
    with pytest.raises(Refused, match="has no badge to switch off"):
        service.switch_off_badge(tiny_school.khan.id, tiny_school.office.id)
    # Found again: an admin enrols it and it works.
    assert service.enrol_tag(TinySchool.KHAN, staff_pk=tiny_school.khan.id) == (
        "Badge enrolled for Amira Khan."
    )
    assert tap(service, clock, TinySchool.KHAN).message == "Hello, Ms Khan"


def test_when_a_card_was_given_is_corrected_with_the_clock(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    card, _ = enrol_two(service)
    clock.synced = False
    clock.jump(-86400)  # the Pi's clock is a day behind: Sunday
    service.give_spare_card(card, tiny_school.office.id, name="Jo Smith")
    clock.jump(86400)  # NTP answers: it is Monday after all
    clock.synced = True
    service.correct_times()
    (view, _) = service.spare_cards()
    assert view.until == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
    assert tap(service, clock, SPARE_1).outcome is Outcome.SESSION_STARTED

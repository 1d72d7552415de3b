"""An item marked damaged asks first; a trolley passed on is counted by the next teacher."""

from __future__ import annotations

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Loan, Outbox, Problem
from kiosk.errors import Refused
from kiosk.loans import LoanService
from kiosk.views import Checklist, Outcome
from tests.conftest import TinySchool, loan_id, tap


def damage_the_camera(service: LoanService, clock: ManualClock) -> None:
    """Ms Khan brings camera 5B back with a cracked screen."""
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    back = tap(service, clock, TinySchool.CAMERA)
    service.save_checklist(loan_id(back), Checklist(images_erased=True, damage="cracked screen"))
    service.end_session()


def open_loans() -> list[Loan]:
    return list(Loan.select().where(Loan.closed_at.is_null()))


def test_borrowing_a_damaged_item_asks_first_and_lends_nothing_yet(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    damage_the_camera(service, clock)
    tap(service, clock, TinySchool.KHAN)
    r = tap(service, clock, TinySchool.CAMERA)
    assert r.outcome is Outcome.WARNING and r.asks_first
    assert r.message == "Class camera 5B is marked damaged: cracked screen."
    assert r.detail == "Borrow it anyway?"
    assert r.confirm_until == clock.monotonic() + service.settings.kiosk.confirm_seconds
    assert open_loans() == []
    assert Event.get(Event.action == "warned").detail == {
        "why": "damaged",
        "note": "cracked screen",
    }
    clock.advance(5)
    yes = service.borrow_anyway()
    assert yes.outcome is Outcome.SIGNED_OUT and yes.message == "Class camera 5B is yours."
    (loan,) = open_loans()
    assert loan.borrower_id == tiny_school.khan.id
    event = Event.get(Event.action == "sign_out", Event.loan == loan.id)
    assert event.detail == {"warned": "damaged"}
    # Lent anyway, it is still marked damaged and the problem is still open.
    assert Item.get_by_id(tiny_school.camera.id).status == "damaged"
    assert len(service.open_problems()) == 1


def test_yes_after_the_deadline_lends_nothing(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    damage_the_camera(service, clock)
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    clock.advance(service.settings.kiosk.confirm_seconds + 1)
    with pytest.raises(Refused, match="Too late: nothing was lent"):
        service.borrow_anyway()
    assert open_loans() == []


def test_no_another_tap_or_the_end_of_the_session_drops_the_question(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    damage_the_camera(service, clock)
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    service.leave_it()
    with pytest.raises(Refused):
        service.borrow_anyway()
    tap(service, clock, TinySchool.CAMERA, gap=3)
    tap(service, clock, TinySchool.BALL)  # another item instead: signed out, question gone
    with pytest.raises(Refused):
        service.borrow_anyway()
    tap(service, clock, TinySchool.CAMERA)
    service.end_session()
    with pytest.raises(Refused):
        service.borrow_anyway()
    assert [loan.item_id for loan in open_loans()] == [tiny_school.ball.id]


def test_yes_is_refused_if_someone_else_took_it_meanwhile(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    damage_the_camera(service, clock)
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    # A second kiosk (another service on the same database) lends it in between.
    other = LoanService(service.settings, clock)
    tap(other, clock, TinySchool.KHAN)
    tap(other, clock, TinySchool.CAMERA)
    assert other.borrow_anyway().outcome is Outcome.SIGNED_OUT
    with pytest.raises(Refused, match="just been signed out by someone else"):
        service.borrow_anyway()
    assert len(open_loans()) == 1


def test_being_handed_a_damaged_item_asks_too(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    out = tap(service, clock, TinySchool.TROLLEY)
    service.report_damage(loan_id(out), "two iPads with cracked screens")
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.TROLLEY)
    assert r.outcome is Outcome.WARNING
    assert r.message == "iPad trolley 1 is marked damaged: two iPads with cracked screens."
    assert r.detail == "Take it over anyway?"
    assert open_loans()[0].borrower_id == tiny_school.khan.id  # still Ms Khan's
    taken = service.borrow_anyway()
    assert taken.outcome is Outcome.HANDED_OVER
    assert open_loans()[0].borrower_id == tiny_school.jones.id


def test_an_item_marked_damaged_in_the_list_with_no_note_still_asks(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    Item.update(status="damaged").where(Item.id == tiny_school.ball.id).execute()
    tap(service, clock, TinySchool.KHAN)
    r = tap(service, clock, TinySchool.BALL)
    assert r.message == "PE ball bag is marked damaged."


def test_a_trolley_passed_on_asks_the_next_teacher_to_count(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.TROLLEY)
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.TROLLEY)
    assert r.outcome is Outcome.HANDED_OVER
    assert r.checklist == ("count",)
    assert [(c.name, c.count) for c in r.expected] == [("iPads", 30), ("headphones", 30)]
    assert r.previous is not None
    res = service.save_handover_count(r.previous.id, {"iPads": 27, "headphones": 30})
    assert res.message == (
        "Counted when passed on 27 of 30 iPads. No alert channel is set up for SLT: please "
        "tell SLT yourself. Put down to Ms Khan, who had it."
    )
    (alert,) = Outbox.select()
    assert alert.loan_id == r.previous.id and alert.kind == "lost"
    assert alert.payload["person"]["name"] == "Amira Khan"
    problem = Problem.get()
    assert problem.loan_id == r.previous.id and problem.detail == {"missing": {"iPads": 3}}
    assert Loan.get_by_id(r.previous.id).checklist == {"counts": {"iPads": 27, "headphones": 30}}
    # Mr Jones returns the 27 he was given: nothing more is put against him.
    back = tap(service, clock, TinySchool.TROLLEY)
    assert [c.count for c in back.expected] == [27, 30]
    done = service.save_checklist(
        loan_id(back), Checklist(counts={"iPads": 27, "headphones": 30}, damage="")
    )
    assert done.message == "Thank you, all recorded."
    assert Outbox.select().count() == 1


def test_a_full_count_when_passed_on_says_thank_you(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.TROLLEY)
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.TROLLEY)
    assert r.previous is not None
    res = service.save_handover_count(r.previous.id, {"iPads": 30, "headphones": 30})
    assert res.message == "Thank you: all there."
    assert Outbox.select().count() == 0 and Problem.select().count() == 0
    with pytest.raises(Refused, match="Count the headphones too"):
        service.save_handover_count(r.previous.id, {"iPads": 30})
    with pytest.raises(Refused, match="0 to 30 iPads"):
        service.save_handover_count(r.previous.id, {"iPads": 31, "headphones": 30})


def test_only_a_hand_over_is_counted_as_one(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    out = tap(service, clock, TinySchool.TROLLEY)
    with pytest.raises(Refused, match="was not passed on"):
        service.save_handover_count(loan_id(out), {"iPads": 30, "headphones": 30})


def test_things_without_contents_are_passed_on_without_a_count(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.BALL)
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.BALL)
    assert r.outcome is Outcome.HANDED_OVER and r.checklist == () and r.expected == ()

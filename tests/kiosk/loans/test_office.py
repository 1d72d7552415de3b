"""The office acting for someone: sign out, return, a camera lent once, contents changed."""

from __future__ import annotations

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Loan, OfficeAct, Staff
from kiosk.errors import Refused
from kiosk.exporter import export_person
from kiosk.loans import LoanService
from kiosk.retention import purge
from kiosk.settings import Retention
from kiosk.views import Checklist, Outcome
from tests.conftest import TinySchool, loan_id, tap


def open_loan(item: Item) -> Loan | None:
    return Loan.get_or_none(Loan.item == item, Loan.closed_at.is_null())


def test_signed_out_for_someone_without_a_badge_is_theirs_and_says_who_did_it(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    r = service.sign_out_for(tiny_school.jones.id, tiny_school.office.id, uid=TinySchool.BALL)
    assert r.outcome is Outcome.SIGNED_OUT
    assert (r.message, r.detail) == (
        "PE ball bag is signed out to Mr Jones.",
        "Back by 15:30 today.",
    )
    assert r.undo_until is not None
    loan = open_loan(tiny_school.ball)
    assert loan is not None and loan.borrower_id == tiny_school.jones.id
    event = Event.get(Event.action == "sign_out")
    assert event.staff_id == tiny_school.jones.id
    assert event.detail == {"by": "S3", "act": "signed_out_for", "reason": ""}
    act = OfficeAct.get()
    assert (act.loan_id, act.act, act.by_id) == (loan.id, "signed_out_for", tiny_school.office.id)
    (history,) = service.staff_history(tiny_school.jones.id)
    assert history.office == ("signed out by Siân Evans (office)",)
    # It is his like any other loan: he returns it with a tap.
    back = tap(service, clock, TinySchool.BALL)
    assert back.outcome is Outcome.RETURNED and back.loan is not None
    assert back.loan.borrower is not None and back.loan.borrower.greeting == "Mr Jones"


def test_a_trip_phone_signed_out_for_someone_asks_when_it_will_be_back(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    r = service.sign_out_for(
        tiny_school.khan.id, tiny_school.admin.id, item_pk=tiny_school.phone.id
    )
    assert r.asks_return_time and r.detail == "When will it be back?"


def test_the_office_is_refused_in_words(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    office = tiny_school.office.id
    with pytest.raises(Refused, match="Only the office can do that"):
        service.sign_out_for(tiny_school.jones.id, tiny_school.khan.id, uid=TinySchool.BALL)
    with pytest.raises(Refused, match="not an item's"):
        service.sign_out_for(tiny_school.jones.id, office, uid=TinySchool.KHAN)
    with pytest.raises(Refused, match="not a tag number"):
        service.sign_out_for(tiny_school.jones.id, office, uid="hello!")
    with pytest.raises(Refused, match=r"This camera belongs to 5B\. To lend it to Mr Jones once"):
        service.sign_out_for(tiny_school.jones.id, office, uid=TinySchool.CAMERA)
    with pytest.raises(Refused, match="Say why it is lent to another class"):
        service.sign_out_for(tiny_school.jones.id, office, uid=TinySchool.CAMERA, lend_once=True)
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.BALL)
    with pytest.raises(Refused, match=r"PE ball bag is out with Amira Khan\. Return it for them"):
        service.sign_out_for(tiny_school.jones.id, office, uid=TinySchool.BALL)
    with pytest.raises(Refused, match="already signed out to Ms Khan"):
        service.sign_out_for(tiny_school.khan.id, office, uid=TinySchool.BALL)
    Staff.update(active=False).where(Staff.id == tiny_school.jones.id).execute()
    with pytest.raises(Refused, match="John Jones is switched off"):
        service.sign_out_for(tiny_school.jones.id, office, uid=TinySchool.TROLLEY)
    assert OfficeAct.select().count() == 0


def test_a_class_camera_lent_once_to_another_class_with_a_reason(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    r = service.sign_out_for(
        tiny_school.jones.id,
        tiny_school.office.id,
        uid=TinySchool.CAMERA,
        lend_once=True,
        reason=" 4A's camera is  being repaired ",
    )
    assert r.message == "Class camera 5B is lent once to Mr Jones."
    act = OfficeAct.get()
    assert (act.act, act.reason) == ("lent_to_class", "4A's camera is being repaired")
    (history,) = service.item_history(tiny_school.camera.id)
    assert history.office == ("lent once by Siân Evans (office): 4A's camera is being repaired",)
    # Once: the rule still holds for his next tap.
    tap(service, clock, TinySchool.CAMERA)  # he returns it
    tap(service, clock, TinySchool.JONES)
    again = tap(service, clock, TinySchool.CAMERA)
    assert again.outcome is Outcome.REFUSED and again.message == "This camera belongs to 5B."


def test_returned_for_someone_asks_the_checklist_and_says_who_returned_it(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    service.end_session()
    r = service.return_for(tiny_school.office.id, uid=TinySchool.CAMERA, reason="in the staffroom")
    assert r.outcome is Outcome.RETURNED
    assert r.message == "Class camera 5B is back, returned for Ms Khan."
    assert r.checklist == ("images", "damage")
    loan = Loan.get_by_id(loan_id(r))
    assert (loan.outcome, loan.closed_by_id, loan.borrower_id) == (
        "returned",
        tiny_school.office.id,
        tiny_school.khan.id,
    )
    service.save_checklist(loan.id, Checklist(images_erased=True, damage=""))
    (history,) = service.item_history(tiny_school.camera.id)
    assert history.office == ("returned by Siân Evans (office): in the staffroom",)
    assert Event.get(Event.action == "return").detail["by"] == "S3"


def test_return_for_something_not_out_is_refused_and_a_lost_one_is_found(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    with pytest.raises(Refused, match="PE ball bag is not out: there is nothing to return"):
        service.return_for(tiny_school.office.id, uid=TinySchool.BALL)
    service.report_lost(tiny_school.ball.id, tiny_school.office.id)
    r = service.return_for(tiny_school.office.id, item_pk=tiny_school.ball.id)
    assert r.outcome is Outcome.FOUND
    assert Item.get_by_id(tiny_school.ball.id).status == "available"
    assert service.open_problems() == []


def test_a_damaged_item_signed_out_for_someone_asks_first(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    Item.update(status="damaged").where(Item.id == tiny_school.ball.id).execute()
    r = service.sign_out_for(tiny_school.jones.id, tiny_school.office.id, uid=TinySchool.BALL)
    assert r.outcome is Outcome.WARNING and r.detail == "Sign it out anyway?"
    assert open_loan(tiny_school.ball) is None
    yes = service.borrow_anyway()
    assert yes.message == "PE ball bag is signed out to Mr Jones."
    assert OfficeAct.get().act == "signed_out_for"


def test_a_trolleys_contents_change_with_a_reason(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    trolley, office = tiny_school.trolley.id, tiny_school.office.id
    with pytest.raises(Refused, match="Say why it changes"):
        service.change_contents(trolley, {"iPads": 29}, "", office)
    with pytest.raises(Refused, match="holds no laptops"):
        service.change_contents(trolley, {"laptops": 29}, "x", office)
    with pytest.raises(Refused, match="nothing changed"):
        service.change_contents(trolley, {"iPads": 30}, "x", office)
    with pytest.raises(Refused, match="has no contents"):
        service.change_contents(tiny_school.ball.id, {"balls": 3}, "x", office)
    with pytest.raises(Refused, match="Only the office"):
        service.change_contents(trolley, {"iPads": 29}, "one sent for repair", tiny_school.khan.id)
    res = service.change_contents(trolley, {"iPads": 29}, "one sent for repair", office)
    assert res.message == "iPad trolley 1 now holds 29 iPads and 30 headphones."
    event = Event.get(Event.action == "contents_changed")
    assert event.detail["reason"] == "one sent for repair" and event.staff_id == office
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.TROLLEY)
    back = tap(service, clock, TinySchool.TROLLEY)
    assert [c.count for c in back.expected] == [29, 30]


def test_retention_forgets_who_in_the_office_acted_with_the_borrower(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    service.sign_out_for(tiny_school.jones.id, tiny_school.office.id, uid=TinySchool.BALL)
    tap(service, clock, TinySchool.BALL)
    clock.advance(401 * 86400)
    purge(Retention(loans_days=400), clock)
    act = OfficeAct.get()
    assert act.by_id is None and act.act == "signed_out_for"
    (history,) = service.item_history(tiny_school.ball.id)
    assert history.office == ("signed out by the office",)


def test_a_subject_access_request_lists_what_they_did_as_the_office(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    service.sign_out_for(
        tiny_school.jones.id, tiny_school.office.id, uid=TinySchool.BALL, reason="badge at home"
    )
    data = export_person("S3", service.settings.retention)
    (act,) = data["office_acts"]
    assert (act["item"], act["act"], act["reason"]) == (
        "PE ball bag",
        "signed_out_for",
        "badge at home",
    )
    assert act["at"] == clock.now().isoformat()
    assert export_person("S2", service.settings.retention)["office_acts"] == []

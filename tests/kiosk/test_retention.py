"""Retention and subject access: old loans lose the person, recent ones keep it; a SAR is complete."""

from __future__ import annotations

from datetime import date, time, timedelta

from kiosk.db import Event, Loan, Outbox, PersonalCall, UnknownTag
from kiosk.exporter import export_person
from kiosk.retention import purge
from kiosk.views import Checklist
from tests.conftest import TinySchool, loan_id, tap


def borrow_and_return(service, clock, badge: str, item: str) -> int:
    tap(service, clock, badge)
    returned = loan_id(tap(service, clock, item))
    tap(service, clock, item)
    return returned


def test_purge_anonymises_old_closed_loans_only(service, clock, tiny_school):
    old = borrow_and_return(service, clock, TinySchool.JONES, TinySchool.PHONE)
    service.add_personal_call(old, date(2026, 11, 23), time(9, 0), "01234 567890", "Childcare")
    clock.advance(86400 * 401)
    recent = borrow_and_return(service, clock, TinySchool.JONES, TinySchool.BALL)
    tap(service, clock, TinySchool.KHAN)
    still_out = loan_id(tap(service, clock, TinySchool.CAMERA))
    tap(service, clock, "DEADBEEF")
    clock.advance(86400 * 31)
    report = purge(service.settings.retention, service.clock)
    assert report.loans_anonymised == 1
    assert report.calls_deleted == 1
    assert report.unknown_tags_deleted == 1
    gone = Loan.get_by_id(old)
    assert (gone.borrower_id, gone.closed_by_id, gone.anonymised) == (None, None, True)
    assert gone.item_id == tiny_school.phone.id and gone.outcome == "returned"
    assert Event.select().where(Event.loan == old, Event.staff.is_null(False)).count() == 0
    assert Loan.get_by_id(recent).borrower_id == tiny_school.jones.id
    assert Loan.get_by_id(still_out).borrower_id == tiny_school.khan.id
    assert PersonalCall.select().count() == 0 and UnknownTag.select().count() == 0
    # Running it again changes nothing more.
    assert purge(service.settings.retention, service.clock).loans_anonymised == 0


def test_purge_deletes_delivered_alerts_after_their_period(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.TROLLEY)
    returned = loan_id(tap(service, clock, TinySchool.TROLLEY))
    service.save_checklist(returned, Checklist(counts={"iPads": 1}))
    Outbox.update(delivered_at=clock.now()).execute()
    clock.advance(86400 * 91)
    assert purge(service.settings.retention, service.clock).alerts_deleted == 1


def test_subject_access_export_holds_everything_about_the_person(service, clock, tiny_school):
    borrowed = borrow_and_return(service, clock, TinySchool.JONES, TinySchool.PHONE)
    service.add_personal_call(borrowed, date(2026, 11, 23), time(9, 0), "01234 567890", "Childcare")
    service.set_staff_active(tiny_school.jones.id, False, "left")
    data = export_person("S2", service.settings.retention)
    assert data["person"]["name"] == "John Jones"
    assert data["person"]["badge_uid"] == TinySchool.JONES
    assert data["person"]["inactive_reason"] == "left"
    (loan,) = data["loans"]
    assert loan["item"] == "Trip phone 1" and loan["borrowed_by_them"]
    assert loan["personal_calls"][0]["number"] == "01234 567890"
    assert loan["personal_calls"][0]["made_at"] == "2026-11-23T09:00:00+00:00"
    actions = [e["action"] for e in data["events"]]
    assert actions[:4] == ["badge", "sign_out", "return", "personal_call"]
    assert "staff_inactive" in actions
    # Nobody else's data is in it.
    assert "Amira Khan" not in str(data)


def test_anonymised_loans_no_longer_appear_in_a_sar(service, clock, tiny_school):
    borrow_and_return(service, clock, TinySchool.JONES, TinySchool.BALL)
    clock.advance(timedelta(days=401).total_seconds())
    purge(service.settings.retention, service.clock)
    assert export_person("S2", service.settings.retention)["loans"] == []

"""A tag on the reader: badges, sign-outs, returns, hand-overs and refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Loan, Outbox, UnknownTag
from kiosk.loans import LoanService
from kiosk.views import Outcome
from tests.conftest import TinySchool, tap


def open_loans() -> list[Loan]:
    return list(Loan.select().where(Loan.closed_at.is_null()))


def test_badge_opens_a_session_and_greets_by_known_as(service, clock, tiny_school):
    r = tap(service, clock, TinySchool.KHAN)
    assert r.outcome is Outcome.SESSION_STARTED
    assert r.message == "Hello, Ms Khan"
    assert r.detail == "Tap an item."
    assert service.session_staff_id == tiny_school.khan.id
    assert Event.get(Event.action == "badge").staff_id == tiny_school.khan.id


def test_badge_then_item_signs_out_with_end_of_day_due(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    r = tap(service, clock, TinySchool.CAMERA)
    assert r.outcome is Outcome.SIGNED_OUT
    assert r.message == "Class camera 5B is yours."
    assert r.detail == "Back by 15:30 today."
    (loan,) = open_loans()
    assert loan.borrower_id == tiny_school.khan.id
    assert loan.due_at == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
    assert loan.off_site is False
    assert Event.get(Event.action == "sign_out").loan_id == loan.id


def test_session_expires_after_20_seconds_without_a_tap(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    r = tap(service, clock, TinySchool.CAMERA, gap=21)
    assert r.outcome is Outcome.REFUSED
    assert r.message == "Tap your badge first,"
    assert open_loans() == []


def test_each_tap_keeps_the_session_open(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA, gap=15)
    r = tap(service, clock, TinySchool.BALL, gap=15)
    assert r.outcome is Outcome.SIGNED_OUT
    assert len(open_loans()) == 2


def test_next_badge_replaces_the_session(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.BALL)
    (loan,) = open_loans()
    assert loan.borrower_id == tiny_school.jones.id


def test_item_tapped_again_by_holder_returns_it(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    r = tap(service, clock, TinySchool.CAMERA)
    assert r.outcome is Outcome.RETURNED
    assert r.checklist == ("images", "damage")
    loan = Loan.get()
    assert loan.outcome == "returned" and loan.closed_by_id == tiny_school.khan.id


def test_item_with_no_session_is_returned_without_a_badge(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.TROLLEY)
    service.end_session()
    r = tap(service, clock, TinySchool.TROLLEY)
    assert r.outcome is Outcome.RETURNED
    assert r.message == "Thank you. iPad trolley 1 is back."
    assert r.checklist == ("count", "damage")
    loan = Loan.get()
    assert loan.closed_at is not None and loan.closed_by_id is None


def test_item_with_no_session_and_not_out_asks_for_a_badge(service, clock, tiny_school):
    r = tap(service, clock, TinySchool.BALL)
    assert r.outcome is Outcome.REFUSED
    assert (r.message, r.detail) == ("Tap your badge first,", "then tap PE ball bag again.")
    assert open_loans() == []


def test_someone_elses_item_is_handed_over_and_both_are_recorded(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.TROLLEY)
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.TROLLEY)
    assert r.outcome is Outcome.HANDED_OVER
    assert r.detail.startswith("Passed on from Ms Khan.")
    old, new = Loan.select().order_by(Loan.id)
    assert old.outcome == "handed_over" and old.closed_by_id == tiny_school.jones.id
    assert new.borrower_id == tiny_school.jones.id and new.closed_at is None
    actions = [
        e.action for e in Event.select().where(Event.item == tiny_school.trolley).order_by(Event.id)
    ]
    assert actions == ["sign_out", "return", "sign_out"]


def test_hand_over_still_obeys_the_home_class_rule(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.CAMERA)
    assert r.outcome is Outcome.REFUSED
    assert r.message == "This camera belongs to 5B."
    assert open_loans()[0].borrower_id == tiny_school.khan.id


def test_class_camera_refused_to_other_class_with_reason(service, clock, tiny_school):
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.CAMERA)
    assert (r.message, r.detail) == ("This camera belongs to 5B.", "Ask the office.")
    assert r.refused
    assert open_loans() == []
    assert Event.get(Event.action == "refused").detail["why"] == "This camera belongs to 5B."


def test_unknown_tag_refused_and_recorded_once_per_ten_minutes(service, clock, tiny_school):
    r = tap(service, clock, "DEADBEEF")
    assert r.outcome is Outcome.UNKNOWN_TAG
    assert "Ask the office to enrol it" in r.detail
    tap(service, clock, "DEADBEEF", gap=60)
    tap(service, clock, "DEADBEEF", gap=60)
    assert UnknownTag.select().count() == 1
    tap(service, clock, "DEADBEEF", gap=600)
    assert UnknownTag.select().count() == 2
    assert Outbox.select().count() == 0


def test_same_tag_within_two_seconds_does_nothing(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    r = tap(service, clock, TinySchool.CAMERA, gap=1.5)
    assert r.outcome is Outcome.IGNORED
    assert len(open_loans()) == 1


def test_badge_held_on_the_reader_is_one_tap(service, clock, tiny_school):
    outcomes = [tap(service, clock, TinySchool.KHAN, gap=0.5).outcome for _ in range(20)]
    assert outcomes.count(Outcome.SESSION_STARTED) == 1
    assert Event.select().where(Event.action == "badge").count() == 1


def test_uids_are_normalised(service, clock, tiny_school):
    tap(service, clock, "a0:00:00:01")
    r = tap(service, clock, "b0 00 00 02")
    assert r.outcome is Outcome.SIGNED_OUT


def test_trip_phone_asks_for_return_time_and_is_off_site(service, clock, tiny_school):
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.PHONE)
    assert r.asks_return_time
    assert r.detail == "When will you be back?"
    loan = Loan.get()
    assert loan.off_site is True
    assert loan.due_at == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # default: end of day
    back = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    res = service.set_due(loan.id, back, trip="Swimming, Leisure Centre")
    assert res.message == "Trip phone 1: back by 17:00 today."
    loan = Loan.get()
    assert loan.due_at == back and loan.trip == "Swimming, Leisure Centre"


def test_sign_out_after_end_of_day_is_due_next_school_day(service, clock, tiny_school):
    clock.wall = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # Friday after school
    tap(service, clock, TinySchool.KHAN)
    r = tap(service, clock, TinySchool.CAMERA)
    assert Loan.get().due_at == datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    assert r.detail == "Back by 15:30 on Mon 30 Nov."


def test_lost_item_tapped_again_is_found(service, clock, tiny_school):
    service.report_lost(tiny_school.ball.id, None)
    r = tap(service, clock, TinySchool.BALL)
    assert r.outcome is Outcome.FOUND
    assert Item.get_by_id(tiny_school.ball.id).status == "available"


def test_retired_item_is_refused(service, clock, tiny_school):
    Item.update(status="retired").where(Item.id == tiny_school.ball.id).execute()
    tap(service, clock, TinySchool.KHAN)
    r = tap(service, clock, TinySchool.BALL)
    assert (r.message, r.detail) == ("PE ball bag is no longer in use.", "Give it to the office.")


def test_inactive_badge_is_refused(service, clock, tiny_school):
    service.set_staff_active(tiny_school.jones.id, False, "left")
    r = tap(service, clock, TinySchool.JONES)
    assert (r.message, r.detail) == ("This badge is switched off.", "Ask the office.")


def test_events_record_whether_the_clock_was_synchronised(service, clock, tiny_school):
    clock.synced = False
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    assert [e.clock_synced for e in Event.select()] == [False, False]
    assert Loan.get().out_clock_synced is False


def test_database_refuses_a_second_open_loan_for_one_item(service, clock, tiny_school):
    import peewee as pw

    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.BALL)
    with pytest.raises(pw.IntegrityError):
        Loan.create(item=tiny_school.ball, borrower=tiny_school.jones, out_at=clock.now())


def test_service_works_with_a_fresh_clock_instance(settings, db, tiny_school):
    clock = ManualClock()
    svc = LoanService(settings, clock)
    assert svc.tap(TinySchool.KHAN).outcome is Outcome.SESSION_STARTED

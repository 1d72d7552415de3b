"""The loan rules, one test per rule, on a real SQLite file with a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Loan, Outbox, PersonalCall, Staff, UnknownTag
from kiosk.errors import Refused
from kiosk.service import LoanService
from kiosk.views import Checklist, Outcome
from tests.conftest import School, tap


def open_loans() -> list[Loan]:
    return list(Loan.select().where(Loan.closed_at.is_null()))


def test_badge_opens_a_session_and_greets_by_known_as(service, clock, school):
    r = tap(service, clock, School.KHAN)
    assert r.outcome is Outcome.SESSION_STARTED
    assert r.message == "Hello, Ms Khan"
    assert r.detail == "Tap an item."
    assert service.session_staff_id == school.khan.id
    assert Event.get(Event.action == "badge").staff_id == school.khan.id


def test_badge_then_item_signs_out_with_end_of_day_due(service, clock, school):
    tap(service, clock, School.KHAN)
    r = tap(service, clock, School.CAMERA)
    assert r.outcome is Outcome.SIGNED_OUT
    assert r.message == "Class camera 5B is yours."
    assert r.detail == "Back by 15:30 today."
    (loan,) = open_loans()
    assert loan.borrower_id == school.khan.id
    assert loan.due_at == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
    assert loan.off_site is False
    assert Event.get(Event.action == "sign_out").loan_id == loan.id


def test_session_expires_after_20_seconds_without_a_tap(service, clock, school):
    tap(service, clock, School.KHAN)
    r = tap(service, clock, School.CAMERA, gap=21)
    assert r.outcome is Outcome.REFUSED
    assert r.message == "Tap your badge first,"
    assert open_loans() == []


def test_each_tap_keeps_the_session_open(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA, gap=15)
    r = tap(service, clock, School.BALL, gap=15)
    assert r.outcome is Outcome.SIGNED_OUT
    assert len(open_loans()) == 2


def test_next_badge_replaces_the_session(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.JONES)
    tap(service, clock, School.BALL)
    (loan,) = open_loans()
    assert loan.borrower_id == school.jones.id


def test_item_tapped_again_by_holder_returns_it(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    r = tap(service, clock, School.CAMERA)
    assert r.outcome is Outcome.RETURNED
    assert r.checklist == ("images", "damage")
    loan = Loan.get()
    assert loan.outcome == "returned" and loan.closed_by_id == school.khan.id


def test_item_with_no_session_is_returned_without_a_badge(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.TROLLEY)
    service.end_session()
    r = tap(service, clock, School.TROLLEY)
    assert r.outcome is Outcome.RETURNED
    assert r.message == "Thank you. iPad trolley 1 is back."
    assert r.checklist == ("count", "damage")
    loan = Loan.get()
    assert loan.closed_at is not None and loan.closed_by_id is None


def test_item_with_no_session_and_not_out_asks_for_a_badge(service, clock, school):
    r = tap(service, clock, School.BALL)
    assert r.outcome is Outcome.REFUSED
    assert (r.message, r.detail) == ("Tap your badge first,", "then tap PE ball bag again.")
    assert open_loans() == []


def test_someone_elses_item_is_handed_over_and_both_are_recorded(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.TROLLEY)
    tap(service, clock, School.JONES)
    r = tap(service, clock, School.TROLLEY)
    assert r.outcome is Outcome.HANDED_OVER
    assert r.detail.startswith("Passed on from Ms Khan.")
    old, new = Loan.select().order_by(Loan.id)
    assert old.outcome == "handed_over" and old.closed_by_id == school.jones.id
    assert new.borrower_id == school.jones.id and new.closed_at is None
    actions = [
        e.action for e in Event.select().where(Event.item == school.trolley).order_by(Event.id)
    ]
    assert actions == ["sign_out", "return", "sign_out"]


def test_hand_over_still_obeys_the_home_class_rule(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    tap(service, clock, School.JONES)
    r = tap(service, clock, School.CAMERA)
    assert r.outcome is Outcome.REFUSED
    assert r.message == "This camera belongs to 5B."
    assert open_loans()[0].borrower_id == school.khan.id


def test_class_camera_refused_to_other_class_with_reason(service, clock, school):
    tap(service, clock, School.JONES)
    r = tap(service, clock, School.CAMERA)
    assert (r.message, r.detail) == ("This camera belongs to 5B.", "Ask the office.")
    assert r.refused
    assert open_loans() == []
    assert Event.get(Event.action == "refused").detail["why"] == "This camera belongs to 5B."


def test_unknown_tag_refused_and_recorded_once_per_ten_minutes(service, clock, school):
    r = tap(service, clock, "DEADBEEF")
    assert r.outcome is Outcome.UNKNOWN_TAG
    assert "Ask the office to enrol it" in r.detail
    tap(service, clock, "DEADBEEF", gap=60)
    tap(service, clock, "DEADBEEF", gap=60)
    assert UnknownTag.select().count() == 1
    tap(service, clock, "DEADBEEF", gap=600)
    assert UnknownTag.select().count() == 2
    assert Outbox.select().count() == 0


def test_same_tag_within_two_seconds_does_nothing(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    r = tap(service, clock, School.CAMERA, gap=1.5)
    assert r.outcome is Outcome.IGNORED
    assert len(open_loans()) == 1


def test_badge_held_on_the_reader_is_one_tap(service, clock, school):
    outcomes = [tap(service, clock, School.KHAN, gap=0.5).outcome for _ in range(20)]
    assert outcomes.count(Outcome.SESSION_STARTED) == 1
    assert Event.select().where(Event.action == "badge").count() == 1


def test_uids_are_normalised(service, clock, school):
    tap(service, clock, "a0:00:00:01")
    r = tap(service, clock, "b0 00 00 02")
    assert r.outcome is Outcome.SIGNED_OUT


def test_undo_a_sign_out_within_ten_seconds(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    clock.advance(9)
    r = service.undo()
    assert r.outcome is Outcome.UNDONE
    assert r.message == "Undone: Class camera 5B is not signed out."
    assert open_loans() == []
    assert Loan.get().outcome == "undone"
    assert Event.get(Event.action == "undo").detail["undid"] == "sign_out"


def test_undo_after_ten_seconds_is_refused(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    clock.advance(11)
    with pytest.raises(Refused, match="too late"):
        service.undo()
    assert len(open_loans()) == 1


def test_undo_a_return_reopens_the_loan(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    tap(service, clock, School.CAMERA)
    service.undo()
    (loan,) = open_loans()
    assert loan.borrower_id == school.khan.id and loan.outcome is None


def test_undo_a_hand_over_gives_it_back(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.BALL)
    tap(service, clock, School.JONES)
    tap(service, clock, School.BALL)
    r = service.undo()
    assert r.message == "Undone: PE ball bag stays with Ms Khan."
    (loan,) = open_loans()
    assert loan.borrower_id == school.khan.id


def test_trip_phone_asks_for_return_time_and_is_off_site(service, clock, school):
    tap(service, clock, School.JONES)
    r = tap(service, clock, School.PHONE)
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


def test_due_time_on_a_non_school_day_moves_to_next_school_days_end(service, clock, school):
    tap(service, clock, School.JONES)
    tap(service, clock, School.PHONE)
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    service.set_due(Loan.get().id, saturday)
    assert Loan.get().due_at == datetime(2026, 11, 30, 15, 30, tzinfo=UTC)


def test_sign_out_after_end_of_day_is_due_next_school_day(service, clock, school):
    clock.wall = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # Friday after school
    tap(service, clock, School.KHAN)
    r = tap(service, clock, School.CAMERA)
    assert Loan.get().due_at == datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    assert r.detail == "Back by 15:30 on Mon 30 Nov."


def test_set_due_in_the_past_is_refused(service, clock, school):
    tap(service, clock, School.JONES)
    tap(service, clock, School.PHONE)
    with pytest.raises(Refused, match="already passed"):
        service.set_due(Loan.get().id, clock.now() - timedelta(minutes=1))


def test_count_short_on_return_raises_one_loss_alert(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.TROLLEY)
    r = tap(service, clock, School.TROLLEY)
    res = service.save_checklist(
        r.loan.id, Checklist(counts={"iPads": 28, "headphones": 30}, damage="")
    )
    assert "28 of 30 iPads" in res.message
    (alert,) = Outbox.select()
    assert (alert.kind, alert.audience, alert.key) == ("lost", "slt", f"lost:loan:{r.loan.id}")
    assert alert.payload["summary"] == "iPad trolley 1 came back short: 28 of 30 iPads"
    assert "badge" not in str(alert.payload).lower()
    assert School.KHAN not in str(alert.payload)
    # Saving the checklist again (a second press) raises nothing new.
    service.save_checklist(r.loan.id, Checklist(counts={"iPads": 28, "headphones": 30}))
    assert Outbox.select().count() == 1


def test_full_count_raises_nothing(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.TROLLEY)
    r = tap(service, clock, School.TROLLEY)
    res = service.save_checklist(
        r.loan.id, Checklist(counts={"iPads": 30, "headphones": 30}, damage="")
    )
    assert res.message == "Thank you, all recorded."
    assert Outbox.select().count() == 0
    assert Loan.get().checklist == {"counts": {"iPads": 30, "headphones": 30}, "damage": ""}


def test_images_not_erased_is_recorded_and_reported_to_the_office(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    r = tap(service, clock, School.CAMERA)
    service.save_checklist(r.loan.id, Checklist(images_erased=False, damage=""))
    alert = Outbox.get()
    assert (alert.kind, alert.audience) == ("images_not_erased", "office")
    assert Loan.get().checklist["images_erased"] is False


def test_damage_on_return_raises_a_damage_report_to_it(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    r = tap(service, clock, School.CAMERA)
    service.save_checklist(r.loan.id, Checklist(images_erased=True, damage="Cracked screen"))
    alert = Outbox.get()
    assert (alert.kind, alert.audience) == ("damaged", "it")
    assert alert.payload["note"] == "Cracked screen"
    assert Item.get_by_id(school.camera.id).status == "damaged"
    assert Loan.get().condition_note == "Cracked screen"


def test_checklist_on_a_loan_that_was_not_returned_is_refused(service, clock, school):
    tap(service, clock, School.KHAN)
    r = tap(service, clock, School.CAMERA)
    with pytest.raises(Refused, match="has not been returned"):
        service.save_checklist(r.loan.id, Checklist(damage=""))


def test_report_lost_closes_the_loan_marks_item_and_alerts_slt_once(service, clock, school):
    tap(service, clock, School.JONES)
    r = tap(service, clock, School.PHONE)
    res = service.report_lost(school.phone.id, school.jones.id, note="Left on the coach")
    assert res.message == "Trip phone 1 is recorded as lost. SLT have been told."
    assert Item.get_by_id(school.phone.id).status == "lost"
    assert Loan.get().outcome == "lost"
    alert = Outbox.get()
    assert (alert.kind, alert.audience, alert.key) == ("lost", "slt", f"lost:loan:{r.loan.id}")
    assert alert.payload["item"]["phone_number"] == "07700 900101"


def test_lost_item_tapped_again_is_found(service, clock, school):
    service.report_lost(school.ball.id, None)
    r = tap(service, clock, School.BALL)
    assert r.outcome is Outcome.FOUND
    assert Item.get_by_id(school.ball.id).status == "available"


def test_retired_item_is_refused(service, clock, school):
    Item.update(status="retired").where(Item.id == school.ball.id).execute()
    tap(service, clock, School.KHAN)
    r = tap(service, clock, School.BALL)
    assert (r.message, r.detail) == ("PE ball bag is no longer in use.", "Give it to the office.")


def test_personal_calls_are_recorded_against_the_loan(service, clock, school):
    tap(service, clock, School.JONES)
    r = tap(service, clock, School.PHONE)
    service.record_personal_call(r.loan.id, "23/11 12:10", "01234 567890", "Childcare")
    call = PersonalCall.get()
    assert (call.loan_id, call.number, call.reason) == (r.loan.id, "01234 567890", "Childcare")
    with pytest.raises(Refused, match="number"):
        service.record_personal_call(r.loan.id, "now", " ", "x")


def test_inactive_person_holding_items_raises_an_office_alert(service, clock, school):
    tap(service, clock, School.JONES)
    tap(service, clock, School.BALL)
    res = service.set_staff_active(school.jones.id, False, "left")
    assert "still have items out" in res.message
    alert = Outbox.get()
    assert (alert.kind, alert.audience) == ("leaver_with_items", "office")
    assert "PE ball bag" in alert.payload["note"]
    assert service.session_staff_id is None


def test_inactive_person_without_items_raises_nothing(service, clock, school):
    service.set_staff_active(school.jones.id, False, "long absence")
    assert Outbox.select().count() == 0
    assert Staff.get_by_id(school.jones.id).inactive_reason == "long absence"


def test_inactive_badge_is_refused(service, clock, school):
    service.set_staff_active(school.jones.id, False, "left")
    r = tap(service, clock, School.JONES)
    assert (r.message, r.detail) == ("This badge is switched off.", "Ask the office.")


def test_events_record_whether_the_clock_was_synchronised(service, clock, school):
    clock.synced = False
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    assert [e.clock_synced for e in Event.select()] == [False, False]
    assert Loan.get().out_clock_synced is False


def test_database_refuses_a_second_open_loan_for_one_item(service, clock, school):
    import peewee as pw

    tap(service, clock, School.KHAN)
    tap(service, clock, School.BALL)
    with pytest.raises(pw.IntegrityError):
        Loan.create(item=school.ball, borrower=school.jones, out_at=clock.now())


def test_board_lists_overdue_first_with_phone_numbers(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    tap(service, clock, School.JONES)
    r = tap(service, clock, School.PHONE)
    service.set_due(r.loan.id, datetime(2026, 11, 23, 10, 0, tzinfo=UTC), trip="Museum")
    clock.advance(3600 * 2)  # 11:00: the phone is overdue, the camera is not
    board = service.board()
    assert [v.item.name for v in board] == ["Trip phone 1", "Class camera 5B"]
    assert board[0].overdue and board[0].item.phone_number == "07700 900101"
    assert board[0].trip == "Museum"
    assert [v.item.name for v in service.board(overdue_only=True)] == ["Trip phone 1"]
    assert [v.item.name for v in service.board(search="khan")] == ["Class camera 5B"]
    assert [v.item.name for v in service.board(kind="trip_phone")] == ["Trip phone 1"]


def test_admin_pin_locks_after_five_wrong_tries(service, clock, school):
    service.set_pin(school.admin.id, "2468")
    assert service.check_admin_pin(school.admin.id, "2468") is True
    for _ in range(4):
        assert service.check_admin_pin(school.admin.id, "0000") is False
    with pytest.raises(Refused, match="locked for 5 minutes"):
        service.check_admin_pin(school.admin.id, "0000")
    with pytest.raises(Refused, match="locked"):
        service.check_admin_pin(school.admin.id, "2468")
    clock.advance(301)
    assert service.check_admin_pin(school.admin.id, "2468") is True


def test_pin_of_a_non_admin_never_opens_admin(service, clock, school):
    Staff.update(pin_hash=Staff.get_by_id(school.admin.id).pin_hash).execute()
    assert service.check_admin_pin(school.khan.id, "1234") is False


def test_enrol_tag_refuses_a_tag_already_in_use(service, clock, school):
    with pytest.raises(Refused, match="already Amira Khan's badge"):
        service.enrol_tag(School.KHAN, item_pk=school.ball.id)
    assert (
        service.enrol_tag("c0ffee", staff_pk=school.office.id) == "Badge enrolled for Siân Evans."
    )
    assert tap(service, clock, "C0FFEE").outcome is Outcome.SESSION_STARTED


def test_stock_take_lists_missing_items_and_who_had_them_last(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.BALL)
    tap(service, clock, School.BALL)
    missing = service.stock_take({School.CAMERA, School.TROLLEY, School.PHONE})
    assert [(i.name, last.borrower.name if last else None) for i, last in missing] == [
        ("PE ball bag", "Amira Khan")
    ]


def test_service_works_with_a_fresh_clock_instance(settings, db, school):
    clock = ManualClock()
    svc = LoanService(settings, clock)
    assert svc.tap(School.KHAN).outcome is Outcome.SESSION_STARTED


def test_undo_after_the_item_was_reported_lost_is_refused(service, clock, school):
    # Found by the state machine: return, report lost, then Undo reopened a lost item's loan.
    tap(service, clock, School.KHAN)
    tap(service, clock, School.BALL)
    tap(service, clock, School.BALL)
    service.report_lost(school.ball.id, None)
    with pytest.raises(Refused, match="too late"):
        service.undo()
    assert open_loans() == []
    assert Item.get_by_id(school.ball.id).status == "lost"


def test_stock_take_finds_items_in_the_cupboard_that_are_shown_as_out(service, clock, school):
    tap(service, clock, School.KHAN)
    tap(service, clock, School.CAMERA)
    here = service.out_but_here({School.CAMERA, School.BALL})
    assert [(v.item.name, v.borrower.name) for v in here] == [("Class camera 5B", "Amira Khan")]
    assert service.out_but_here(set()) == []

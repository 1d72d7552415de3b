"""After the tap: return times, the checklist and its alerts, losses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.db import Item, Loan, Outbox
from kiosk.errors import Refused
from kiosk.views import Checklist
from tests.conftest import TinySchool, loan_id, tap


def test_due_time_on_a_non_school_day_moves_to_next_school_days_end(service, clock, tiny_school):
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.PHONE)
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    service.set_due(Loan.get().id, saturday)
    assert Loan.get().due_at == datetime(2026, 11, 30, 15, 30, tzinfo=UTC)


def test_set_due_in_the_past_is_refused(service, clock, tiny_school):
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.PHONE)
    with pytest.raises(Refused, match="already passed"):
        service.set_due(Loan.get().id, clock.now() - timedelta(minutes=1))


def test_count_short_on_return_raises_one_loss_alert(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.TROLLEY)
    r = tap(service, clock, TinySchool.TROLLEY)
    res = service.save_checklist(
        loan_id(r), Checklist(counts={"iPads": 28, "headphones": 30}, damage="")
    )
    assert "28 of 30 iPads" in res.message
    (alert,) = Outbox.select()
    assert (alert.kind, alert.audience, alert.key) == ("lost", "slt", f"lost:loan:{loan_id(r)}")
    assert alert.payload["summary"] == "iPad trolley 1 came back short: 28 of 30 iPads"
    assert "badge" not in str(alert.payload).lower()
    assert TinySchool.KHAN not in str(alert.payload)
    # Saving the checklist again (a second press) raises nothing new.
    service.save_checklist(loan_id(r), Checklist(counts={"iPads": 28, "headphones": 30}))
    assert Outbox.select().count() == 1


def test_full_count_raises_nothing(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.TROLLEY)
    r = tap(service, clock, TinySchool.TROLLEY)
    res = service.save_checklist(
        loan_id(r), Checklist(counts={"iPads": 30, "headphones": 30}, damage="")
    )
    assert res.message == "Thank you, all recorded."
    assert Outbox.select().count() == 0
    assert Loan.get().checklist == {"counts": {"iPads": 30, "headphones": 30}, "damage": ""}


def test_images_not_erased_is_recorded_and_reported_to_the_office(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    r = tap(service, clock, TinySchool.CAMERA)
    service.save_checklist(loan_id(r), Checklist(images_erased=False, damage=""))
    alert = Outbox.get()
    assert (alert.kind, alert.audience) == ("images_not_erased", "office")
    assert Loan.get().checklist["images_erased"] is False


def test_damage_on_return_raises_a_damage_report_to_it(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    r = tap(service, clock, TinySchool.CAMERA)
    service.save_checklist(loan_id(r), Checklist(images_erased=True, damage="Cracked screen"))
    alert = Outbox.get()
    assert (alert.kind, alert.audience) == ("damaged", "it")
    assert alert.payload["note"] == "Cracked screen"
    assert Item.get_by_id(tiny_school.camera.id).status == "damaged"
    assert Loan.get().condition_note == "Cracked screen"


def test_checklist_on_a_loan_that_was_not_returned_is_refused(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    r = tap(service, clock, TinySchool.CAMERA)
    with pytest.raises(Refused, match="has not been returned"):
        service.save_checklist(loan_id(r), Checklist(damage=""))


def test_report_lost_closes_the_loan_marks_item_and_alerts_slt_once(service, clock, tiny_school):
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.PHONE)
    res = service.report_lost(tiny_school.phone.id, tiny_school.jones.id, note="Left on the coach")
    assert res.message == (
        "Trip phone 1 is recorded as lost. "
        "No alert channel is set up for SLT: please tell SLT yourself."
    )
    assert Item.get_by_id(tiny_school.phone.id).status == "lost"
    assert Loan.get().outcome == "lost"
    alert = Outbox.get()
    assert (alert.kind, alert.audience, alert.key) == ("lost", "slt", f"lost:loan:{loan_id(r)}")
    assert alert.payload["item"]["phone_number"] == "07700 900101"

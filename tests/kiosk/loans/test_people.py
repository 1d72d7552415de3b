"""People and tags: leavers with items, badges and tags enrolled."""

from __future__ import annotations

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Outbox, Staff
from kiosk.loans import LoanService
from kiosk.loans.people import TagInUse
from kiosk.views import Outcome
from tests.conftest import TinySchool, tap


def test_inactive_person_holding_items_raises_an_office_alert(service, clock, tiny_school):
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.BALL)
    res = service.set_staff_active(tiny_school.jones.id, False, "left")
    assert "still have items out" in res.message
    alert = Outbox.get()
    assert (alert.kind, alert.audience) == ("leaver_with_items", "office")
    assert "PE ball bag" in alert.payload["note"]
    assert service.session_staff_id is None


def test_inactive_person_without_items_raises_nothing(service, clock, tiny_school):
    service.set_staff_active(tiny_school.jones.id, False, "long absence")
    assert Outbox.select().count() == 0
    assert Staff.get_by_id(tiny_school.jones.id).inactive_reason == "long absence"


def test_enrol_tag_asks_before_moving_a_tag_already_in_use(service, clock, tiny_school):
    with pytest.raises(TagInUse, match=r"^This is Amira Khan's badge\. Give it to PE ball bag"):
        service.enrol_tag(TinySchool.KHAN, item_pk=tiny_school.ball.id)
    assert Staff.get_by_id(tiny_school.khan.id).badge_uid == TinySchool.KHAN  # nothing moved
    assert (
        service.enrol_tag("c0ffee", staff_pk=tiny_school.office.id)
        == "Badge enrolled for Siân Evans."
    )
    assert tap(service, clock, "C0FFEE").outcome is Outcome.SESSION_STARTED


def test_a_tag_moves_to_its_new_owner_when_asked(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    with pytest.raises(TagInUse) as info:
        service.enrol_tag(TinySchool.KHAN, staff_pk=tiny_school.jones.id)
    assert str(info.value) == "This is Amira Khan's badge. Give it to John Jones instead?"
    said = service.enrol_tag(TinySchool.KHAN, staff_pk=tiny_school.jones.id, move=True)
    assert said == "Badge enrolled for John Jones. It is no longer Amira Khan's badge."
    assert Staff.get_by_id(tiny_school.khan.id).badge_uid is None
    assert tap(service, clock, TinySchool.KHAN).staff is not None
    assert service.session_staff_id == tiny_school.jones.id
    moved = Event.get(Event.action == "enrol")
    assert moved.detail == {"uid": TinySchool.KHAN, "moved_from": "staff S1"}


def test_an_item_tag_moves_from_another_item_when_asked(
    service: LoanService, tiny_school: TinySchool
) -> None:
    with pytest.raises(TagInUse, match=r"This is the tag on Class camera 5B\. Give it to PE ball"):
        service.enrol_tag(TinySchool.CAMERA, item_pk=tiny_school.ball.id)
    service.enrol_tag(TinySchool.CAMERA, item_pk=tiny_school.ball.id, move=True)
    assert Item.get_by_id(tiny_school.camera.id).tag_uid is None
    assert Item.get_by_id(tiny_school.ball.id).tag_uid == TinySchool.CAMERA


def test_enrolling_a_tag_on_its_own_owner_changes_nothing(
    service: LoanService, tiny_school: TinySchool
) -> None:
    said = service.enrol_tag(TinySchool.KHAN, staff_pk=tiny_school.khan.id)
    assert said == "That tag is already Amira Khan's."

"""People and tags: leavers with items, badges and tags enrolled."""

from __future__ import annotations

import pytest

from kiosk.db import Outbox, Staff
from kiosk.errors import Refused
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


def test_enrol_tag_refuses_a_tag_already_in_use(service, clock, tiny_school):
    with pytest.raises(Refused, match="already Amira Khan's badge"):
        service.enrol_tag(TinySchool.KHAN, item_pk=tiny_school.ball.id)
    assert (
        service.enrol_tag("c0ffee", staff_pk=tiny_school.office.id)
        == "Badge enrolled for Siân Evans."
    )
    assert tap(service, clock, "C0FFEE").outcome is Outcome.SESSION_STARTED

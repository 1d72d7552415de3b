"""What the kiosk says about telling people is what is true at that moment."""

from __future__ import annotations

import base64

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Outbox
from kiosk.loans import LoanService
from kiosk.settings import Channel, Settings, evolve
from kiosk.views import Checklist
from tests.conftest import TinySchool, loan_id, tap

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def with_slt_channel(settings: Settings) -> Settings:
    hook = Channel(type="webhook", url="https://slt.example/hook", secret=SECRET)
    return evolve(
        settings, {"sync.channels": {"slt_hook": hook}, "sync.routes": {"slt": ["slt_hook"]}}
    )


@pytest.mark.parametrize(
    ("routed", "clock_set", "said"),
    [
        (True, True, "SLT will be told: the alert is waiting to be sent."),
        (True, False, "SLT will be told once the kiosk's clock is set."),
        (False, True, "No alert channel is set up for SLT: please tell SLT yourself."),
    ],
)
def test_a_loss_says_who_will_be_told_never_that_they_have_been(
    settings: Settings,
    clock: ManualClock,
    tiny_school: TinySchool,
    routed: bool,
    clock_set: bool,
    said: str,
) -> None:
    service = LoanService(with_slt_channel(settings) if routed else settings, clock)
    clock.synced = clock_set
    res = service.report_lost(tiny_school.ball.id, None)
    assert res.message == f"PE ball bag is recorded as lost. {said}"
    assert "have been told" not in res.message and "has been told" not in res.message
    assert Outbox.get().delivered_at is None  # it really is only waiting


def test_the_checklist_says_the_same_for_each_audience(
    settings: Settings, clock: ManualClock, tiny_school: TinySchool
) -> None:
    service = LoanService(with_slt_channel(settings), clock)
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.TROLLEY)
    r = tap(service, clock, TinySchool.TROLLEY)
    res = service.save_checklist(loan_id(r), Checklist(counts={"iPads": 29}, damage="Cracked"))
    assert res.warnings == (
        "Counted back 29 of 30 iPads. SLT will be told: the alert is waiting to be sent.",
        "Damage recorded. No alert channel is set up for IT: please tell IT yourself.",
    )


def test_a_leaver_with_items_says_whether_the_office_will_hear(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.BALL)
    res = service.set_staff_active(tiny_school.jones.id, False, "left")
    assert res.message == (
        "John Jones is inactive. They still have items out. "
        "No alert channel is set up for the office: please tell the office yourself."
    )

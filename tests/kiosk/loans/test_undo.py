"""Undo: the last sign-out, return or hand-over, within the window, never a lost item."""

from __future__ import annotations

import pytest

from kiosk.db import Event, Item, Loan
from kiosk.errors import Refused
from kiosk.views import Outcome
from tests.conftest import TinySchool, tap


def open_loans() -> list[Loan]:
    return list(Loan.select().where(Loan.closed_at.is_null()))


def test_undo_a_sign_out_within_ten_seconds(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    clock.advance(9)
    r = service.undo()
    assert r.outcome is Outcome.UNDONE
    assert r.message == "Undone: Class camera 5B is not signed out."
    assert open_loans() == []
    assert Loan.get().outcome == "undone"
    assert Event.get(Event.action == "undo").detail["undid"] == "sign_out"


def test_undo_after_ten_seconds_is_refused(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    clock.advance(11)
    with pytest.raises(Refused, match="too late"):
        service.undo()
    assert len(open_loans()) == 1


def test_undo_a_return_reopens_the_loan(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    tap(service, clock, TinySchool.CAMERA)
    service.undo()
    (loan,) = open_loans()
    assert loan.borrower_id == tiny_school.khan.id and loan.outcome is None


def test_undo_a_hand_over_gives_it_back(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.BALL)
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.BALL)
    r = service.undo()
    assert r.message == "Undone: PE ball bag stays with Ms Khan."
    (loan,) = open_loans()
    assert loan.borrower_id == tiny_school.khan.id


def test_undo_after_the_item_was_reported_lost_is_refused(service, clock, tiny_school):
    # Found by the state machine: return, report lost, then Undo reopened a lost item's loan.
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.BALL)
    tap(service, clock, TinySchool.BALL)
    service.report_lost(tiny_school.ball.id, None)
    with pytest.raises(Refused, match="too late"):
        service.undo()
    assert open_loans() == []
    assert Item.get_by_id(tiny_school.ball.id).status == "lost"

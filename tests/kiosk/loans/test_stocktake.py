"""The end-of-day stock-take is kept: missing items with their last holder, items here that
the records show as out, and an alert to the office in the same transaction."""

from __future__ import annotations

import json
from datetime import timedelta

from kiosk.clock import ManualClock
from kiosk.db import Event, Outbox, StockTake, StockTakeLine
from kiosk.loans import LoanService
from kiosk.loans.stocktake import read_stock_take
from kiosk.retention import purge
from kiosk.settings import Channel, Settings, evolve
from tests.conftest import TinySchool, tap


def test_a_saved_stock_take_says_what_is_missing_out_and_here(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.BALL)  # Ms Khan borrows the ball bag...
    tap(service, clock, TinySchool.BALL)  # ...and brings it back: it is then not in the cupboard
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.PHONE)  # out with Mr Jones
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)  # out with Ms Khan, yet it is in the cupboard
    service.end_session()
    clock.advance(6 * 3600)
    saved = service.save_stock_take(
        {TinySchool.CAMERA, TinySchool.TROLLEY}, by_staff_id=tiny_school.admin.id
    )
    take = saved.stock_take
    assert take.seen == 2 and take.by == "Zoë Clarke"
    assert [
        (x.item.name, x.loan.borrower.name if x.loan and x.loan.borrower else None)
        for x in take.missing
    ] == [("PE ball bag", "Amira Khan")]
    assert [x.item.name for x in take.out] == ["Trip phone 1"]
    assert [
        (x.item.name, x.loan.borrower.name if x.loan and x.loan.borrower else None)
        for x in take.here
    ] == [("Class camera 5B", "Amira Khan")]
    assert take.summary == "1 missing, 1 out on loan, 1 here but shown as out"
    assert saved.message == (
        "Stock-take saved: 1 missing, 1 out on loan, 1 here but shown as out. "
        "No alert channel is set up for the office: please tell the office yourself."
    )
    # Kept: its event, its lines, and the alert to the office pointing at that event.
    event = Event.get(Event.action == "stock_take")
    assert event.detail == {"seen": 2, "missing": 1, "out": 1, "here": 1}
    assert StockTake.get().event_id == event.id
    assert StockTakeLine.select().count() == 3
    alert = Outbox.get(Outbox.kind == "stock_take")
    assert (alert.audience, alert.event_id) == ("office", event.id)
    assert alert.payload["summary"] == (
        "Stock-take at 15:00: 1 missing, 1 out on loan, 1 here but shown as out"
    )
    rows = {r["item"]: r for r in alert.payload["items"]}
    assert rows["PE ball bag"]["state"] == "MISSING"
    assert rows["PE ball bag"]["person"] == "Amira Khan"
    assert rows["Class camera 5B"]["state"] == "HERE, shown as out"
    text = json.dumps(alert.payload)
    assert TinySchool.CAMERA not in text and TinySchool.KHAN not in text  # no tag numbers


def test_each_stock_take_is_its_own_alert_and_the_promise_follows_the_routes(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool, settings: Settings
) -> None:
    mail = Channel(type="email", to=("office@example.org",))
    routed = evolve(
        settings,
        {
            "sync.channels": {"office_mail": mail},
            "sync.routes": {"office": ("office_mail",)},
            "sync.smtp.host": "127.0.0.1",
            "sync.smtp.from_address": "kiosk@example.org",
        },
    )
    service = LoanService(routed, clock)
    everything = {TinySchool.CAMERA, TinySchool.TROLLEY, TinySchool.PHONE, TinySchool.BALL}
    first = service.save_stock_take(everything - {TinySchool.BALL})
    assert first.message == (
        "Stock-take saved: 1 missing. The office will be told: the alert is waiting to be sent."
    )
    second = service.save_stock_take(everything)  # the ball bag turned up
    assert second.message.startswith("Stock-take saved: everything is here.")
    assert Outbox.select().where(Outbox.kind == "stock_take").count() == 2


def test_retention_reaches_the_names_of_an_old_stock_take(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.BALL)
    tap(service, clock, TinySchool.BALL)
    saved = service.save_stock_take(set(), by_staff_id=tiny_school.admin.id)
    clock.advance(timedelta(days=401).total_seconds())
    purge(service.settings.retention, clock)
    # A fresh read of the same stock-take, as the day's report makes it.
    take = read_stock_take(StockTake.get_by_id(saved.stock_take.id), service.queries)
    ball = next(x for x in take.missing if x.item.name == "PE ball bag")
    assert ball.loan is not None and ball.loan.borrower is None  # the person is gone
    assert take.by == ""  # and so is who did the stock-take

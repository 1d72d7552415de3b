"""The end-of-day summary carries the day's facts (the office's Today view), and the
stock-take's result reaches the office by email: both through a real SMTP server."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from aiosmtpd.controller import Controller

from kiosk.clock import ManualClock
from kiosk.db import Outbox
from kiosk.settings import Settings
from kiosk.views import Checklist
from sync.rules import run_rules
from tests.sync.conftest import Hillside
from tests.sync.mailserver import Inbox, use_email


def at(clock: ManualClock, hh: int, mm: int = 0) -> None:
    clock.wall = datetime(2026, 11, 23, hh, mm, tzinfo=UTC)


def test_the_summary_and_the_stock_take_tell_the_office_the_day(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    inbox: Inbox,
    smtp_server: Controller,
    deliverer_factory: Any,
) -> None:
    settings = use_email(settings, smtp_server.port, "right password")
    service = hillside.service
    trolley = hillside.sign_out("amira", "trolley")
    phone = hillside.sign_out("ben", "phone")
    at(clock, 11)
    hillside.give_back("trolley")
    service.save_checklist(trolley, Checklist(counts={"iPads": 27}, damage="a bent hinge"))
    service.add_personal_call(phone, date(2026, 11, 23), time(10, 15), "01234 567890", "Home")
    at(clock, 15, 45)
    service.save_stock_take({hillside.items["camera"].tag_uid or ""})
    at(clock, 16, 0)
    run_rules(settings, clock)
    summary = Outbox.get(Outbox.kind == "summary")
    today = summary.payload["today"]
    assert today["headline"] == (
        "2 out, 1 back, 1 short count, 1 damaged, 1 personal call, 1 overdue"
    )
    assert today["short"] == [
        {"item": "iPad trolley key 1", "person": "Amira Khan", "counted": "27 of 30 iPads"}
    ]
    assert today["calls"] == [{"phone": "Trip phone 1", "person": "Ben Ortiz", "at": "10:15"}]
    assert today["stock_take"]["summary"] == "2 missing, 1 out on loan"
    report = deliverer_factory(settings).run()
    assert report.delivered >= 2, report.errors
    by_subject = {str(m["Subject"]).strip(): m for _, m in inbox.messages}
    mail = by_subject["1 item still out at 16:00 (1 overdue) (Hillside Primary)"]
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Today: 2 out, 1 back, 1 short count, 1 damaged" in text
    assert "Stock-take: 15:45: 2 missing, 1 out on loan" in text
    assert "iPad trolley key 1 | Amira Khan | SHORT: 27 of 30 iPads" in text
    assert "DAMAGED: a bent hinge" in text
    assert "Trip phone 1 | Ben Ortiz | personal call 10:15" in text
    assert "01234 567890" not in mail.as_string()  # the number called stays in the kiosk
    stock = by_subject["Stock-take at 15:45: 2 missing, 1 out on loan (Hillside Primary)"]
    stock_body = stock.get_body(("plain",))
    assert stock_body is not None
    assert (
        "iPad trolley key 1 | Amira Khan | back 11:00 today | MISSING" in stock_body.get_content()
    )

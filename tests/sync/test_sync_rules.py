"""The time-based alert rules against a fixed clock: school days, weekends, INSET, no NTP."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time, timedelta

from pytest_httpserver import HTTPServer

from kiosk.clock import ManualClock
from kiosk.db import Event, Outbox
from kiosk.loans import LoanService
from kiosk.settings import Settings, Term, evolve
from sync.delivery import Deliverer
from sync.rules import run_rules
from sync.runner import run_pass
from tests.sync.conftest import MONDAY_9AM, Hillside, add_webhook


def at(clock: ManualClock, day: int, hh: int, mm: int = 0) -> None:
    """Set the clock to ``hh:mm`` on 2026-11-``day`` (London is on GMT in November)."""
    clock.wall = clock.wall.replace(day=day, hour=hh, minute=mm, second=0)


def alerts() -> list[tuple[str, str, str]]:
    return [(o.kind, o.audience, o.key) for o in Outbox.select().order_by(Outbox.created_at)]


def test_overdue_after_grace_then_escalated_each_once(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    loan = hillside.sign_out("amira", "trolley")  # Monday 09:00, due 15:30
    settings = evolve(settings, {"alerts.summary_at": time(23, 59)})
    at(clock, 23, 15, 59)
    assert run_rules(settings, clock) == 0
    at(clock, 23, 16, 0)
    assert run_rules(settings, clock) == 1
    assert alerts() == [("overdue", "office", f"overdue:loan:{loan}")]
    assert run_rules(settings, clock) == 0  # run twice: nothing new
    at(clock, 23, 17, 29)
    assert run_rules(settings, clock) == 0
    at(clock, 23, 17, 30)
    assert run_rules(settings, clock) == 1
    assert run_rules(settings, clock) == 0
    assert [a[0:2] for a in alerts()] == [("overdue", "office"), ("overdue_escalated", "slt")]


def test_each_alert_has_its_event_and_minimum_personal_data(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    loan = hillside.sign_out("amira", "trolley")
    at(clock, 23, 16, 0)
    settings = evolve(settings, {"alerts.summary_at": time(23, 59)})
    run_rules(settings, clock)
    row = Outbox.get(Outbox.key == f"overdue:loan:{loan}")
    event = Event.get_by_id(row.event_id)
    assert event.action == "alert_raised"
    assert event.loan_id == loan
    assert event.detail["key"] == row.key
    assert row.payload["person"]["name"] == "Amira Khan"
    assert row.payload["item"]["name"] == "iPad trolley key 1"
    assert row.payload["summary"] == "iPad trolley key 1 is overdue"
    assert "15:30 today" in row.payload["note"]
    text = json.dumps(row.payload)
    for uid in ("04A1B2C3", "0499AA01"):  # badge and tag ids never leave the kiosk
        assert uid not in text


def test_returned_items_raise_nothing(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    hillside.sign_out("amira", "trolley")
    at(clock, 23, 15, 0)
    hillside.give_back("trolley")
    at(clock, 23, 18, 0)
    settings = evolve(settings, {"alerts.summary_at": time(23, 59)})
    assert run_rules(settings, clock) == 0


def test_weekend_waits_for_monday(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    clock.wall = MONDAY_9AM - timedelta(days=3)  # Friday 20th, 09:00
    loan = hillside.sign_out("amira", "trolley")  # due Friday 15:30; nobody ran sync on Friday
    for day, hh in ((21, 10), (21, 18), (22, 12)):  # Saturday and Sunday
        at(clock, day, hh)
        assert run_rules(settings, clock) == 0
    at(clock, 23, 8, 0)  # Monday morning, before the summary time
    assert run_rules(settings, clock) == 2
    assert alerts() == [
        ("overdue", "office", f"overdue:loan:{loan}"),
        ("overdue_escalated", "slt", f"overdue_escalated:loan:{loan}"),
    ]


def test_inset_day_and_holidays_are_not_school_days(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    settings = evolve(settings, {"school.inset_days": [date(2026, 11, 23)]})
    settings = evolve(settings, {"school.terms": [Term(date(2026, 9, 2), date(2026, 12, 18))]})
    hillside = dataclasses.replace(hillside, service=LoanService(settings, clock))
    hillside.sign_out("amira", "trolley")  # Monday is INSET: due Tuesday 15:30
    at(clock, 23, 23, 0)
    assert run_rules(settings, clock) == 0
    at(clock, 24, 16, 5)  # Tuesday, after grace and after the summary time
    assert run_rules(settings, clock) == 2  # overdue + the summary
    assert {a[0] for a in alerts()} == {"overdue", "summary"}
    clock.wall = datetime(2026, 12, 21, 10, 0, tzinfo=clock.wall.tzinfo)  # Christmas holiday
    assert run_rules(settings, clock) == 0


def test_unsynchronised_clock_raises_nothing_until_it_is_set(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    loan = hillside.sign_out("amira", "trolley")
    at(clock, 23, 18, 0)
    clock.synced = False
    assert run_rules(settings, clock) == 0
    assert alerts() == []
    clock.synced = True
    assert run_rules(settings, clock) == 3
    assert [a[2] for a in alerts()] == [
        f"overdue:loan:{loan}",
        f"overdue_escalated:loan:{loan}",
        "summary:2026-11-23",
    ]


def test_end_of_day_summary_once_per_school_day(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    hillside.sign_out("amira", "trolley")
    hillside.sign_out("amira", "camera")
    hillside.give_back("camera")
    at(clock, 23, 15, 59)
    assert run_rules(settings, clock) == 0
    at(clock, 23, 16, 0)
    assert run_rules(settings, clock) == 2  # the summary, and the trolley key is overdue
    summary = Outbox.get(Outbox.key == "summary:2026-11-23")
    assert summary.audience == "office"
    assert summary.payload["summary"] == "1 item still out at 16:00 (1 overdue)"
    assert [i["item"] for i in summary.payload["items"]] == ["iPad trolley key 1"]
    assert summary.payload["items"][0]["person"] == "Amira Khan"
    at(clock, 23, 22, 0)
    settings = evolve(settings, {"alerts.escalate_after_minutes": 24 * 60})
    assert run_rules(settings, clock) == 0
    hillside.give_back("trolley")
    at(clock, 24, 16, 30)  # Tuesday: a new day, a new summary
    assert run_rules(settings, clock) == 1
    tuesday = Outbox.get(Outbox.key == "summary:2026-11-24")
    assert tuesday.payload["summary"] == "Everything is back at 16:00"
    at(clock, 28, 16, 30)  # Saturday: none
    assert run_rules(settings, clock) == 0


def test_trip_phone_due_time_chosen_at_sign_out(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    loan = hillside.sign_out("ben", "phone")
    hillside.service.set_due(loan, MONDAY_9AM.replace(hour=18), trip="Science museum")
    settings = evolve(settings, {"alerts.summary_at": time(23, 59)})
    at(clock, 23, 18, 29)
    assert run_rules(settings, clock) == 0
    at(clock, 23, 18, 30)
    assert run_rules(settings, clock) == 1
    row = Outbox.get(Outbox.kind == "overdue")
    assert "Trip: Science museum" in row.payload["note"]
    assert row.payload["item"]["phone_number"] == "07700 900123"


def test_nothing_is_sent_while_the_clock_is_not_set_and_the_pass_says_why(
    hillside: Hillside, settings: Settings, clock: ManualClock, hook_server: HTTPServer
) -> None:
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    hillside.service.report_lost(hillside.items["camera"].id, None, "Not on the shelf")
    clock.synced = False
    report = run_pass(settings, clock, Deliverer(settings, clock))
    assert report.delivered == 0 and report.waiting_for_clock
    assert hook_server.log == []
    assert report.reasons()[0].startswith("The kiosk's clock is not set yet, so no alert is sent")
    assert report.exit_code() == 7

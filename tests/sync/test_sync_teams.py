"""Teams through a Workflows webhook URL: an Adaptive Card, and channels that fail apart."""

from __future__ import annotations

from datetime import time
from typing import Any

from pytest_httpserver import HTTPServer

from kiosk.clock import ManualClock
from kiosk.db import Delivery, Outbox
from kiosk.settings import Channel, Settings, evolve
from sync.rules import run_rules
from sync.status import delivery_summary
from tests.sync.conftest import Hillside, Receiver, add_webhook


def card_facts(card: dict[str, Any]) -> dict[str, str]:
    """The card's facts: its label columns, and the data beside them as typed."""
    facts = {}
    for block in card["body"]:
        if block["type"] == "ColumnSet":
            label, value = block["columns"]
            facts[label["items"][0]["text"]] = value["items"][0]["inlines"][0]["text"]
    return facts


def test_card_is_an_adaptive_card_message(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = evolve(
        settings,
        {
            "sync.channels": {
                "slt_teams": Channel(type="teams", url=hook_server.url_for("/workflow"))
            },
            "sync.routes": {"slt": ["slt_teams"]},
            "alerts.summary_at": time(23, 0),
        },
    )
    hook_server.expect_request("/workflow", method="POST").respond_with_data("", status=202)
    loan = hillside.sign_out("ben", "phone")
    hillside.service.set_due(loan, clock.now().replace(hour=16), trip="Farm visit")
    clock.wall = clock.wall.replace(hour=18, minute=1)
    assert run_rules(settings, clock) == 2  # overdue (office: no route) and escalated (SLT)
    report = deliverer_factory(settings).run()
    assert report.delivered == 1
    [(request, _)] = hook_server.log
    message = request.get_json()
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["inlines"][0]["text"] == "Trip phone 1 is still overdue"
    facts = card_facts(card)
    assert facts["Person"] == "Ben Ortiz"
    assert facts["Phone number"] == "07700 900123"
    assert facts["Due back"] == "Mon 23 Nov 16:00"
    assert facts["Trip"] == "Farm visit"
    # The office's overdue alert has no channel yet: it waits, and says why.
    office = Outbox.get(Outbox.kind == "overdue")
    assert office.delivered_at is None
    assert "No channel is set up for office alerts" in office.last_error
    assert delivery_summary().waiting == 1


def test_one_channel_down_does_not_hold_back_another(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = add_webhook(settings, hook_server.url_for("/hook"), audiences=("slt",))
    settings = evolve(
        settings,
        {
            "sync.channels": {
                **settings.sync.channels,
                "slt_teams": Channel(type="teams", url=hook_server.url_for("/workflow")),
            },
            "sync.routes.slt": [*settings.sync.routes["slt"], "slt_teams"],
        },
    )
    hook_server.expect_request("/hook").respond_with_data("down", status=502)
    hook_server.expect_request("/workflow").respond_with_data("", status=202)
    hillside.service.report_lost(hillside.items["camera"].id, None, "Lost on the trip")
    deliverer = deliverer_factory(settings)
    report = deliverer.run()
    assert (report.delivered, report.retried) == (1, 1)
    by_channel = {d.channel: d for d in Delivery.select()}
    assert by_channel["slt_teams"].delivered_at is not None
    assert by_channel["slt_hook"].delivered_at is None
    assert Outbox.get().delivered_at is None  # not everywhere yet
    hook_server.clear()
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    clock.advance(settings.sync.backoff_cap_seconds)
    assert deliverer.run().delivered == 1
    assert Outbox.get().delivered_at == clock.now()
    assert [r.path for r, _ in hook_server.log] == ["/hook"]  # Teams was not sent again


def test_a_kind_route_wins_and_a_renamed_channel_is_rerouted(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    it_teams = Channel(type="teams", url=hook_server.url_for("/it"))
    slt_teams = Channel(type="teams", url=hook_server.url_for("/slt"))
    settings = evolve(
        settings,
        {
            "sync.channels": {"it_teams": it_teams, "slt_teams": slt_teams},
            "sync.routes": {"it": ["it_teams"], "damaged": ["it_teams", "slt_teams"]},
        },
    )
    hook_server.expect_request("/slt").respond_with_data("", status=500)
    hook_server.expect_request("/it").respond_with_data("", status=202)
    loan = hillside.sign_out("amira", "trolley")
    hillside.service.report_damage(loan, "Cracked screen on iPad 12")
    deliverer = deliverer_factory(settings)
    deliverer.run()
    assert sorted(r.path for r, _ in hook_server.log) == ["/it", "/slt"]
    # SLT's Teams channel is renamed in the settings: the waiting delivery follows.
    settings = evolve(
        settings,
        {
            "sync.channels": {"it_teams": it_teams, "slt_workflow": slt_teams},
            "sync.routes": {"it": ["it_teams"], "damaged": ["it_teams", "slt_workflow"]},
        },
    )
    hook_server.clear()
    hook_server.expect_request("/slt").respond_with_data("", status=202)
    deliverer = deliverer_factory(settings)
    assert deliverer.run().delivered == 1
    assert sorted(d.channel for d in Delivery.select()) == ["it_teams", "slt_workflow"]
    assert Outbox.get().delivered_at is not None

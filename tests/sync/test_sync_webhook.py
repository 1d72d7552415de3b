"""Delivery by signed webhook to a real HTTP server on loopback, whatever the network does."""

from __future__ import annotations

import threading
import time as walltime
from datetime import time, timedelta
from email.utils import format_datetime

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from kiosk.clock import ManualClock
from kiosk.db import Delivery, Outbox
from kiosk.settings import Settings, evolve
from sync.rules import run_rules
from sync.status import delivery_summary, failed_alerts, retry_dead
from tests.sync.conftest import Hillside, Receiver, add_webhook, free_port


def raise_overdue_alerts(hillside: Hillside, settings: Settings, clock: ManualClock) -> list[int]:
    """Three loans, each overdue and escalated; then one reported lost. Returns loan ids."""
    loans = [
        hillside.sign_out("amira", "trolley"),
        hillside.sign_out("amira", "laptops"),
        hillside.sign_out("ben", "phone"),
    ]
    settings = evolve(settings, {"alerts.summary_at": time(23, 59)})
    clock.wall = clock.wall.replace(hour=17, minute=45)
    assert run_rules(settings, clock) == 6
    hillside.service.report_lost(
        hillside.items["trolley"].id, hillside.staff["amira"].id, "Left on bus"
    )
    return loans


def keys_by_loan() -> dict[int | None, list[str]]:
    out: dict[int | None, list[str]] = {}
    for o in Outbox.select().order_by(Outbox.id):
        out.setdefault(o.loan_id, []).append(o.uid)
    return out


def test_receiver_down_for_many_passes_then_up(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    deliverer_factory,
) -> None:
    port = free_port()
    settings = add_webhook(settings, f"http://127.0.0.1:{port}/hook")
    raise_overdue_alerts(hillside, settings, clock)
    deliverer = deliverer_factory(settings)
    for _ in range(12):  # nothing listens on the port: connection refused every time
        clock.advance(settings.sync.backoff_cap_seconds)
        report = deliverer.run()
        assert report.delivered == 0
        assert "connection refused" in report.errors[0]
    summary = delivery_summary()
    assert (summary.waiting, summary.failed, summary.last_delivered_at) == (7, 0, None)
    # While the receiver was down only the alerts in flight when it was found down
    # (one per worker) spent attempts; the rest waited without spending any.
    assert Delivery.select().where(Delivery.attempts > 0).count() <= settings.sync.workers

    server = HTTPServer(host="127.0.0.1", port=port, threaded=True)
    server.expect_request("/hook", method="POST").respond_with_handler(receiver.handle)
    server.start()
    try:
        for _ in range(10):
            clock.advance(settings.sync.backoff_cap_seconds)
            deliverer.run()
            if delivery_summary().waiting == 0:
                break
    finally:
        server.stop()
    assert delivery_summary().waiting == 0
    assert receiver.rejected == 0
    all_keys = [o.uid for o in Outbox.select()]
    assert sorted(receiver.accepted) == sorted(all_keys)
    assert receiver.received == receiver.accepted  # no crash, so not even a repeat
    for loan, keys in keys_by_loan().items():
        arrived = [k for k in receiver.accepted if k in keys]
        assert arrived == keys, f"loan {loan}: out of order"
    body = receiver.bodies[all_keys[0]]
    assert body["type"] == "kiosk.overdue"
    assert body["data"]["person"]["name"] == "Amira Khan"
    assert delivery_summary().last_delivered_at == clock.now()


def test_500_is_retried_with_backoff(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    hook_server.expect_oneshot_request("/hook").respond_with_data("database down", status=500)
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    hillside.service.report_lost(hillside.items["camera"].id, None, "Not in the cupboard")
    deliverer = deliverer_factory(settings)
    report = deliverer.run()
    assert (report.delivered, report.retried) == (0, 1)
    row = Delivery.get()
    assert row.attempts == 1 and row.last_status == 500
    assert "HTTP 500" in row.last_error and "database down" in row.last_error
    wait = (row.next_attempt_at - clock.now()).total_seconds()
    assert 1 <= wait <= settings.sync.backoff_base_seconds  # full jitter under the first ceiling
    assert Outbox.get().last_error == row.last_error
    assert deliverer.run().delivered == 0  # not due yet: no request
    assert len(hook_server.log) == 1
    clock.advance(wait)
    assert deliverer.run().delivered == 1
    assert receiver.accepted == [Outbox.get().uid]
    assert Outbox.get().delivered_at == clock.now()


def test_429_retry_after_seconds_and_http_date_are_honoured(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = evolve(
        settings, {"sync.workers": 1}
    )  # one at a time, so the second alert is not already in flight
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    hook_server.expect_oneshot_request("/hook").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    later = format_datetime(clock.now() + timedelta(seconds=120 + 300), usegmt=True)
    hook_server.expect_oneshot_request("/hook").respond_with_data(
        "slow down", status=429, headers={"Retry-After": later}
    )
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    hillside.service.report_lost(hillside.items["camera"].id, None)
    hillside.service.report_lost(hillside.items["laptops"].id, None)
    deliverer = deliverer_factory(settings)
    deliverer.run()
    assert len(hook_server.log) == 1  # a 429 rests the channel: the second alert waited
    rows = list(Delivery.select().order_by(Delivery.id))
    assert rows[0].next_attempt_at == clock.now() + timedelta(seconds=120)
    assert rows[1].next_attempt_at == rows[0].next_attempt_at  # waits with it, no attempt spent
    assert rows[1].attempts == 0
    clock.advance(119)
    deliverer.run()
    assert len(hook_server.log) == 1
    clock.advance(1)
    deliverer.run()  # second 429, this time with an HTTP-date 300 s after "now"
    assert len(hook_server.log) == 2
    row = Delivery.get_by_id(rows[0].id)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=300)
    clock.advance(300)
    assert deliverer.run().delivered == 2
    assert len(receiver.accepted) == 2


def test_time_out_is_retried_and_the_receiver_drops_the_repeat(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = evolve(settings, {"sync.timeout_seconds": 0.3})
    settings = add_webhook(settings, hook_server.url_for("/hook"))

    release, answered = threading.Event(), threading.Event()

    def slow(request: Request) -> Response:
        response = receiver.handle(request)  # the receiver got it, but answers too late
        release.wait(30)
        answered.set()
        return response

    hook_server.expect_oneshot_request("/hook").respond_with_handler(slow)
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    hillside.service.report_lost(hillside.items["camera"].id, None)
    deliverer = deliverer_factory(settings)
    try:
        report = deliverer.run()
        # The pass gave up while the receiver still held its answer: it did not wait for it.
        assert not answered.is_set()
    finally:
        release.set()
    assert report.delivered == 0
    assert "no complete answer from 127.0.0.1" in report.errors[0]
    assert "within 0.3 seconds" in report.errors[0]
    clock.advance(settings.sync.backoff_base_seconds)
    assert deliverer.run().delivered == 1
    key = Outbox.get().uid
    assert receiver.received == [key, key]  # sent twice (at least once) ...
    assert receiver.accepted == [key]  # ... shown once
    # The late answer is logged by the server's thread once it is written: wait for it
    # here, or it lands in the next test's log (seen as a stray request there).
    deadline, pause = walltime.monotonic() + 10, threading.Event()
    while len(hook_server.log) < 2 and walltime.monotonic() < deadline:
        pause.wait(0.01)
    assert len(hook_server.log) == 2


def test_410_stops_that_channel_and_admin_can_retry(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    hook_server.expect_oneshot_request("/hook").respond_with_data("gone", status=410)
    hillside.service.report_lost(hillside.items["camera"].id, None)
    deliverer = deliverer_factory(settings)
    report = deliverer.run()
    assert report.dead == 1
    row = Delivery.get()
    assert row.dead_at == clock.now() and row.attempts == 1
    assert "gone (HTTP 410" in row.last_error
    assert delivery_summary().failed == 1 and delivery_summary().waiting == 0
    [failed] = failed_alerts()
    assert failed.kind == "lost" and "410" in failed.error
    for _ in range(3):
        clock.advance(settings.sync.backoff_cap_seconds)
        deliverer.run()
    assert len(hook_server.log) == 1  # never tried again on its own

    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    assert retry_dead(failed.outbox_id, clock) == 1
    assert delivery_summary().failed == 0 and delivery_summary().waiting == 1
    assert deliverer.run().delivered == 1
    assert delivery_summary().failed == 0 and delivery_summary().waiting == 0
    assert receiver.accepted == [Outbox.get().uid]


def test_dead_letter_after_max_attempts(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = evolve(settings, {"sync.max_attempts": 3})
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    hook_server.expect_request("/hook").respond_with_data("no", status=503)
    hillside.service.report_lost(hillside.items["camera"].id, None)
    deliverer = deliverer_factory(settings)
    for expected in (1, 2, 3):
        report = deliverer.run()
        assert Delivery.get().attempts == expected
        clock.advance(settings.sync.backoff_cap_seconds)
    assert report.dead == 1
    row = Delivery.get()
    assert row.dead_at is not None
    assert row.last_error.startswith("Gave up after 3 attempts. Last error:")
    assert "HTTP 503" in row.last_error
    assert Outbox.get().dead_at is not None
    deliverer.run()
    assert len(hook_server.log) == 3


def test_unsynchronised_clock_holds_webhooks(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    hillside.service.report_lost(hillside.items["camera"].id, None)
    clock.synced = False
    deliverer = deliverer_factory(settings)
    assert deliverer.run().delivered == 0
    assert hook_server.log == []
    assert Delivery.get().attempts == 0
    clock.synced = True
    assert deliverer.run().delivered == 1


def test_a_failure_holds_back_only_later_alerts_about_the_same_loan(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    first = hillside.sign_out("amira", "trolley")
    hillside.sign_out("ben", "laptops")
    settings = evolve(settings, {"alerts.summary_at": time(23, 59)})
    clock.wall = clock.wall.replace(hour=17, minute=45)
    assert run_rules(settings, clock) == 4
    overdue = Outbox.get(Outbox.key == f"overdue:loan:{first}").uid
    escalated = Outbox.get(Outbox.key == f"overdue_escalated:loan:{first}").uid
    refused: list[str] = []

    def refuse_once(request: Request) -> Response:
        if request.headers["webhook-id"] == overdue and not refused:
            refused.append(request.headers["webhook-id"])
            return Response("validation failed", status=422)  # about this request only
        return receiver.handle(request)

    hook_server.expect_request("/hook").respond_with_handler(refuse_once)
    deliverer = deliverer_factory(settings)
    report = deliverer.run()
    assert (report.delivered, report.retried) == (2, 1)
    held = Delivery.get(
        Delivery.outbox == Outbox.get(Outbox.key == f"overdue_escalated:loan:{first}")
    )
    assert held.attempts == 0 and held.delivered_at is None  # waited behind the failure
    clock.advance(settings.sync.backoff_cap_seconds)
    assert deliverer.run().delivered == 2
    mine = [k for k in receiver.accepted if k in (overdue, escalated)]
    assert mine == [overdue, escalated]

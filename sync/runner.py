"""One sync pass (rules, delivery, then replication to the trust) and the loop ``kiosk sync`` runs.

The sync process runs beside the kiosk screen and shares its database file;
every write it makes is a short BEGIN IMMEDIATE transaction, so the screen
never waits long. SIGTERM (systemd stop) sets an event: the pass in progress
finishes its batch and records it, and the loop ends.

Replication (``sync.trust``) comes last, so a slow or absent trust server never
delays an alert; its errors are reported in the pass and retried at the next.
Without ``[trust]`` set up, the change journal is dropped so it cannot grow.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass

import peewee as pw

from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import database
from kiosk.errors import StorageError
from kiosk.settings import Settings
from kiosk.views import AUDIENCE_NAMES
from sync.delivery import CLOCK_NOT_SET, Deliverer, DeliveryReport
from sync.rules import run_rules
from sync.status import DeliverySummary, delivery_summary
from sync.trust.changes import discard_journal
from sync.trust.report import PushReport, Replicator

log = logging.getLogger(__name__)


#: ``kiosk sync --once`` exit codes for cron and monitoring (README, "Alerts").
EXIT_OK = 0
EXIT_DELIVERY_FAILED = 6
EXIT_NOTHING_CAN_BE_SENT = 7


@dataclass(frozen=True)
class PassReport:
    raised: int
    delivered: int
    retried: int
    dead: int
    errors: tuple[str, ...]
    summary: DeliverySummary
    waiting_for_clock: bool = False
    trust: PushReport | None = None
    """What replication did (None: not set up)."""

    def reasons(self) -> list[str]:
        """Why alerts wait, in words, when the kiosk knows (not only with -v)."""
        out = [CLOCK_NOT_SET] if self.waiting_for_clock and self.summary.waiting else []
        for who, n in self.summary.unrouted:
            name = AUDIENCE_NAMES.get(who, who)
            out.append(
                f"{n} alert{'s' if n != 1 else ''} for {name} wait: no channel is set up for "
                f"{name} (add one under [sync.routes] {who} in the settings)."
            )
        return out

    def exit_code(self) -> int:
        """0: nothing failed; 6: a delivery failed this pass; 7: alerts wait, none can go."""
        if self.errors or self.dead:
            return EXIT_DELIVERY_FAILED
        stuck = sum(n for _, n in self.summary.unrouted)
        waiting = self.summary.waiting
        if waiting and not self.delivered and (self.waiting_for_clock or stuck >= waiting):
            return EXIT_NOTHING_CAN_BE_SENT
        return EXIT_OK


def run_pass(
    settings: Settings,
    clock: Clock,
    deliverer: Deliverer,
    stop: threading.Event | None = None,
    pusher: Replicator | None = None,
) -> PassReport:
    """Raise the alerts that are due, deliver what is waiting, then push to the trust."""
    try:
        raised = run_rules(settings, clock)
        report: DeliveryReport = deliverer.run(stop)
        summary = delivery_summary()
        if pusher is None and settings.trust.credentials is None:
            discard_journal()
    except (pw.OperationalError, sqlite3.OperationalError) as exc:
        raise StorageError(store.explain_sqlite_error(exc, database.obj.database)) from exc
    pushed = pusher.push(stop) if pusher is not None else None
    return PassReport(
        raised,
        report.delivered,
        report.retried,
        report.dead,
        tuple(report.errors),
        summary,
        report.waiting_for_clock,
        pushed,
    )


def run_forever(
    settings: Settings,
    clock: Clock,
    deliverer: Deliverer,
    stop: threading.Event,
    on_pass: Callable[[PassReport], None] | None = None,
    *,
    interval: float | None = None,
    pusher: Replicator | None = None,
) -> int:
    """Run a pass every ``interval`` seconds (default ``[sync] interval_seconds``) until
    ``stop`` is set; returns passes run.

    A storage problem (the database busy for longer than the busy time-out) is
    logged and the next pass tries again: the outbox keeps everything meanwhile.
    """
    passes = 0
    while not stop.is_set():
        try:
            report = run_pass(settings, clock, deliverer, stop, pusher)
        except StorageError as exc:
            log.error("sync pass failed, will try again: %s", exc)
        else:
            passes += 1
            if on_pass is not None:
                on_pass(report)
        stop.wait(interval or settings.sync.interval_seconds)
    return passes

"""Retention: forget what the school no longer needs, as its data protection officer set.

Closed loans older than ``[retention] loans_days`` keep the item, the times and
the outcome (the asset history the school needs) but lose the person: the
borrower, whoever closed it and whoever in the office acted on it are removed,
their events are detached, and personal-call records go. Unknown-tag sightings
and delivered alerts go after their own periods. Work is done in batches so the
kiosk is never locked out for long.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import Event, Loan, OfficeAct, Outbox, PersonalCall, UnknownTag
from kiosk.journal import Journal
from kiosk.settings import Retention

log = logging.getLogger(__name__)

_BATCH = 2000


@dataclass
class PurgeReport:
    loans_anonymised: int = 0
    events_detached: int = 0
    calls_deleted: int = 0
    unknown_tags_deleted: int = 0
    alerts_deleted: int = 0

    def summary(self) -> str:
        return (
            f"{self.loans_anonymised} closed loans anonymised, "
            f"{self.calls_deleted} personal-call records deleted, "
            f"{self.events_detached} events detached from people, "
            f"{self.unknown_tags_deleted} unknown-tag sightings deleted, "
            f"{self.alerts_deleted} delivered alerts deleted."
        )


def purge(settings: Retention, clock: Clock) -> PurgeReport:
    """Apply the retention periods ``[retention]``; returns what was removed."""
    now = clock.now()
    report = PurgeReport()
    loans_before = now - timedelta(days=settings.loans_days)
    while True:
        with store.write():
            ids = [
                row.id
                for row in Loan.select(Loan.id)
                .where(
                    Loan.closed_at.is_null(False),
                    Loan.closed_at < loans_before,
                    Loan.anonymised == False,  # noqa: E712 (peewee expression)
                )
                .limit(_BATCH)
            ]
            if not ids:
                break
            report.calls_deleted += (
                PersonalCall.delete().where(PersonalCall.loan.in_(ids)).execute()
            )
            report.events_detached += Event.update(staff=None).where(Event.loan.in_(ids)).execute()
            # Who in the office acted on the loan goes with the borrower (the act stays).
            OfficeAct.update(by=None).where(OfficeAct.loan.in_(ids)).execute()
            report.loans_anonymised += (
                Loan.update(borrower=None, closed_by=None, anonymised=True, trip="")
                .where(Loan.id.in_(ids))
                .execute()
            )
    with store.write():
        # Events with a person but no loan (badge taps, refusals) go after the same period.
        report.events_detached += (
            Event.update(staff=None)
            .where(Event.loan.is_null(), Event.staff.is_null(False), Event.at < loans_before)
            .execute()
        )
        report.unknown_tags_deleted = (
            UnknownTag.delete()
            .where(UnknownTag.seen_at < now - timedelta(days=settings.unknown_tags_days))
            .execute()
        )
        report.alerts_deleted = (
            Outbox.delete()
            .where(
                Outbox.delivered_at.is_null(False),
                Outbox.delivered_at < now - timedelta(days=settings.delivered_alerts_days),
            )
            .execute()
        )
        Journal(clock).event("purge", detail=report.__dict__)
    log.info("purge: %s", report.summary())
    return report

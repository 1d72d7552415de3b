"""Read-only summaries of the alert outbox for the kiosk's status line and admin screen.

The sync process delivers alerts; the kiosk only shows how delivery is going,
straight from the Outbox rows, so that the office sees the truth even when the
sync process is stopped. Nothing here writes, and nothing here imports Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee as pw

from kiosk.db import Outbox


@dataclass(frozen=True)
class DeliverySummary:
    waiting: int
    """Alerts not yet delivered and still being retried."""
    failed: int
    """Alerts that gave up (dead-lettered): someone must look at them."""
    last_delivered_at: datetime | None
    """When an alert was last delivered, or None if never."""


@dataclass(frozen=True)
class FailedAlert:
    id: int
    kind: str
    audience: str
    summary: str
    created_at: datetime
    dead_at: datetime
    attempts: int
    last_error: str


def delivery_summary() -> DeliverySummary:
    """Counts of waiting and failed alerts, and the last delivery time."""
    waiting = Outbox.select().where(Outbox.delivered_at.is_null(), Outbox.dead_at.is_null()).count()
    failed = Outbox.select().where(Outbox.dead_at.is_null(False)).count()
    last = Outbox.select(pw.fn.MAX(Outbox.delivered_at)).scalar()
    # Peewee may already convert MAX() through the field (a datetime) or not (text).
    last_at = (
        last
        if isinstance(last, datetime) or last is None
        else (Outbox.delivered_at.python_value(last))
    )
    return DeliverySummary(waiting, failed, last_at)


def failed_alerts(limit: int = 100) -> list[FailedAlert]:
    """Dead-lettered alerts, newest first."""
    query = (
        Outbox.select()
        .where(Outbox.dead_at.is_null(False))
        .order_by(Outbox.dead_at.desc())
        .limit(limit)
    )
    return [
        FailedAlert(
            id=row.get_id(),
            kind=row.kind,
            audience=row.audience,
            summary=str((row.payload or {}).get("summary", row.kind)),
            created_at=row.created_at,
            dead_at=row.dead_at,
            attempts=row.attempts,
            last_error=row.last_error,
        )
        for row in query
    ]

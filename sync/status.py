"""How alert delivery is going, for the TUI's status line, ``kiosk status`` and admin.

Headless and free of HTTP: ``kiosk status`` imports this without loading
``requests``. ``retry_dead`` is the admin screen's "retry failed alerts"; the screen
reaches all of this through ``AlertDesk``, which the CLI hands to the app (screens
never import sync).
"""

from __future__ import annotations

from datetime import UTC, datetime

from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import Delivery, Outbox, database
from kiosk.errors import NotFound
from kiosk.views import DeliverySummary, FailedAlert


def delivery_summary() -> DeliverySummary:
    """Three indexed queries: cheap enough for a status line refreshed every few seconds."""
    last = database.execute_sql(
        "SELECT MAX(delivered_at) FROM delivery WHERE delivered_at IS NOT NULL"
    ).fetchone()[0]
    waiting = database.execute_sql(
        "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL"
    ).fetchone()[0]
    failed = database.execute_sql(
        "SELECT COUNT(*) FROM outbox WHERE dead_at IS NOT NULL"
    ).fetchone()[0]
    # Alerts routed nowhere: fan-out leaves them waiting with this reason (sync.delivery).
    unrouted = database.execute_sql(
        "SELECT audience, COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL"
        " AND last_error LIKE 'No channel is set up%' GROUP BY audience ORDER BY audience"
    ).fetchall()
    return DeliverySummary(
        Delivery.delivered_at.python_value(last),
        int(waiting),
        int(failed),
        tuple((str(who), int(n)) for who, n in unrouted),
    )


def failed_alerts(limit: int = 100) -> list[FailedAlert]:
    """Alerts given up on, newest first, with what went wrong."""
    query = (
        Outbox.select()
        .where(Outbox.dead_at.is_null(False))
        .order_by(Outbox.created_at.desc())
        .limit(limit)
    )
    return [
        FailedAlert(
            outbox_id=o.id,
            kind=o.kind,
            summary=str((o.payload or {}).get("summary", o.kind)),
            created_at=o.created_at,
            error=o.last_error,
        )
        for o in query
    ]


def retry_dead(outbox_id: int, clock: Clock | None = None) -> int:
    """Try a failed alert again from scratch on the channels it failed on.

    Returns how many channel deliveries were reset (0 if the alert had not failed).
    """
    if Outbox.get_or_none(Outbox.id == outbox_id) is None:
        raise NotFound(f"There is no alert number {outbox_id}.")
    return _reset([outbox_id], clock)


def retry_all_dead(clock: Clock | None = None) -> int:
    """Retry every failed alert; returns how many channel deliveries were reset."""
    ids = [
        row[0]
        for row in database.execute_sql(
            "SELECT id FROM outbox WHERE dead_at IS NOT NULL"
        ).fetchall()
    ]
    return _reset(ids, clock) if ids else 0


def _reset(outbox_ids: list[int], clock: Clock | None) -> int:
    now = clock.now() if clock else datetime.now(UTC)
    marks = ",".join("?" * len(outbox_ids))
    when = Delivery.next_attempt_at.db_value(now)
    with store.write():
        count = database.execute_sql(
            "UPDATE delivery SET dead_at = NULL, attempts = 0, next_attempt_at = ?,"
            " last_error = '', claimed_by = NULL, claimed_until = NULL "
            f"WHERE outbox_id IN ({marks}) AND dead_at IS NOT NULL AND delivered_at IS NULL",
            [when, *outbox_ids],
        ).rowcount
        database.execute_sql(
            "UPDATE outbox SET dead_at = NULL, last_error = '', next_attempt_at = ? "
            f"WHERE id IN ({marks}) AND dead_at IS NOT NULL",
            [when, *outbox_ids],
        )
    return int(count)


class AlertDesk:
    """What the kiosk screen may know and do about alert delivery, on one database."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock

    def summary(self) -> DeliverySummary:
        return delivery_summary()

    def failed(self, limit: int = 100) -> list[FailedAlert]:
        return failed_alerts(limit)

    def retry(self, outbox_id: int) -> int:
        return retry_dead(outbox_id, self.clock)

    def retry_all(self) -> int:
        return retry_all_dead(self.clock)

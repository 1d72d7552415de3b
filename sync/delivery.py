"""Delivery from the outbox: at least once, never two senders at once, in order per loan.

Every alert gets one ``Delivery`` row per channel it is routed to ("fan-out").
A pass then repeats: claim a batch, send it, record the answers.

- **Claim.** In one BEGIN IMMEDIATE transaction a sync process picks rows that are
  due and not leased, and writes its name and a lease expiry on them. Another
  process running at the same time skips leased rows, so a row is never sent by
  two processes at once. A process that dies keeps its lease until it expires;
  then the row is sent again with the same id (at least once; receivers
  de-duplicate on the id).
- **Order.** A row is not claimable while an earlier alert about the same loan is
  still waiting on the same channel, unless that one is in the same batch; a
  batch sends each loan's rows one after another and stops at the first failure.
- **Retries.** A failure is retried after an exponential back-off with full
  jitter (random between 0 and min(cap, base * 2^(n-1)), at least a second),
  never sooner than the receiver's Retry-After. HTTP 410 stops that channel for
  that alert; after ``max_attempts`` the row is dead (failed) and waits for an
  admin's "retry failed alerts". A channel that is down (refused, time-out,
  5xx, 429) is left alone for the rest of the pass, and its other rows wait
  with the failed one instead of each spending an attempt.
- **Delivered** is written only after a 2xx (or the mail server's acceptance).

The ``outbox`` row keeps a summary of its deliveries (delivered when all are,
dead when none is waiting and one failed) for the kiosk's status line.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import sqlite3
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import peewee as pw
import requests

from kiosk import __version__
from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import UTCDateTimeField, database
from kiosk.errors import StorageError
from kiosk.settings import Settings
from sync.channels import Alert, Outcome, Sender, SendResult, build_senders
from sync.channels.deadline import DeadlineAdapter
from sync.channels.mail import SmtpFactory

log = logging.getLogger(__name__)

# The raw SQL below stores and compares times exactly as the models do (fixed-width
# UTC text, so that "<=" on text is "<=" in time).
_TIME = UTCDateTimeField()
_TIME.name = "time"


def _ts(when: datetime) -> str:
    return str(_TIME.db_value(when))


def _dt(text: str | None) -> datetime | None:
    return _TIME.python_value(text)


@dataclass
class Claimed:
    id: int
    outbox_id: int
    channel: str
    loan_id: int | None
    attempts: int
    alert: Alert


#: Why nothing is sent while the kiosk's clock is not set.
CLOCK_NOT_SET = (
    "The kiosk's clock is not set yet, so no alert is sent (its times could be wrong): "
    "they go as soon as the Pi has reached a time server."
)


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)
    waiting_for_clock: bool = False

    def note_error(self, text: str) -> None:
        if text and text not in self.errors:
            self.errors.append(text)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"


def new_session(pool_size: int) -> requests.Session:
    """One session for the process: keep-alive to each receiver, no retries of its own.

    requests would read the proxy variables on every call (walking the whole
    environment, a fifth of its time per request); instead each channel looks up
    its proxy once (``environment_proxies``) and the CA bundle is read here.
    """
    session = requests.Session()
    session.trust_env = False
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    # Its connections obey each attempt's total deadline (sync.channels.deadline).
    adapter = DeadlineAdapter(pool_connections=8, pool_maxsize=max(pool_size, 1), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = f"school-kiosk/{__version__} (alerts)"
    return session


def backoff_delay(
    attempts: int, base: float, cap: float, rng: random.Random, retry_after: float | None = None
) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (full jitter, floor 1 s)."""
    ceiling = min(cap, base * 2.0 ** min(attempts - 1, 60))
    delay = max(1.0, rng.uniform(0.0, ceiling))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


class Deliverer:
    """Sends what is waiting in the outbox. One per sync process; ``close()`` when done."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        session: requests.Session | None = None,
        senders: dict[str, Sender] | None = None,
        rng: random.Random | None = None,
        name: str | None = None,
        smtp_factory: SmtpFactory | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.name = name or worker_name()
        self.rng = rng or random.Random()
        self._own_session = session is None
        self.session = session or new_session(settings.sync.workers)
        self.senders = (
            senders
            if senders is not None
            else build_senders(settings, clock, self.session, smtp_factory=smtp_factory)
        )
        self._pool: ThreadPoolExecutor | None = None
        self._down: dict[str, datetime] = {}  # channel -> when it may be tried again
        self._down_lock = threading.Lock()

    # --- the pass ------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> DeliveryReport:
        """One delivery pass: route new alerts, then send everything that is due.

        ``stop`` (set by SIGTERM) ends the pass after the batch in hand is recorded.
        """
        report = DeliveryReport()
        self._down = {}
        try:
            self.fan_out()
            if not self.clock.synchronised():
                # Nothing leaves with a wrong time in it; it is corrected once the clock
                # is set (kiosk.loans.clockfix), then sent.
                report.waiting_for_clock = True
                return report
            pass_start = self.clock.now()
            seen: set[int] = set()
            while stop is None or not stop.is_set():
                usable = self._usable_channels()
                if not usable:
                    break
                batch = self._claim(usable, pass_start)
                if not batch:
                    break
                if all(c.id in seen for c in batch):
                    self._apply(batch, {}, report)  # only releases the lease
                    break
                seen.update(c.id for c in batch)
                deadline = self.clock.monotonic() + self._send_window()
                results = self._send(batch, deadline)
                self._apply(batch, results, report)
                if self.clock.monotonic() > deadline:
                    break
        except (pw.OperationalError, sqlite3.OperationalError) as exc:
            raise StorageError(store.explain_sqlite_error(exc, database.obj.database)) from exc
        finally:
            for sender in self.senders.values():
                sender.close()
        return report

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._own_session:
            self.session.close()

    def _send_window(self) -> float:
        s = self.settings.sync
        return max(s.lease_seconds * 0.5, s.lease_seconds - s.timeout_seconds - 5)

    def _usable_channels(self) -> list[str]:
        usable = []
        for name, sender in self.senders.items():
            why = sender.not_ready()
            if why:
                log.info("channel %s: %s", name, why)
            elif name not in self._down:
                usable.append(name)
        return usable

    # --- fan-out -------------------------------------------------------------------------

    def fan_out(self) -> int:
        """Give each new alert a delivery row per routed channel; returns rows created.

        Waiting rows for a channel no longer in the settings are removed and their
        alert routed again, so renaming a channel does not strand alerts.
        """
        configured = list(self.settings.sync.channels)
        marks = ",".join("?" * len(configured))
        orphan_sql = (
            "SELECT d.id, d.outbox_id FROM delivery AS d "
            "WHERE d.delivered_at IS NULL AND d.dead_at IS NULL"
            + (f" AND d.channel NOT IN ({marks})" if configured else "")
        )
        orphans = database.execute_sql(orphan_sql, configured).fetchall()
        fresh = database.execute_sql(
            "SELECT o.id FROM outbox AS o "
            "WHERE o.delivered_at IS NULL AND o.dead_at IS NULL "
            # No ORDER BY: it would make SQLite scan the whole outbox instead of the
            # partial index of waiting alerts; the ids are sorted below.
            "AND NOT EXISTS (SELECT 1 FROM delivery AS d WHERE d.outbox_id = o.id)"
        ).fetchall()
        if not orphans and not fresh:
            return 0
        now = self.clock.now()
        created = 0
        with store.write():
            if orphans:
                database.execute_sql(
                    f"DELETE FROM delivery WHERE id IN ({','.join('?' * len(orphans))})",
                    [r[0] for r in orphans],
                )
            ids = sorted({r[0] for r in fresh} | {r[1] for r in orphans})
            for chunk in _chunks(ids, 500):
                rows = database.execute_sql(
                    "SELECT id, kind, audience, loan_id, last_error FROM outbox "
                    f"WHERE id IN ({','.join('?' * len(chunk))}) "
                    "AND delivered_at IS NULL AND dead_at IS NULL ORDER BY id",
                    chunk,
                ).fetchall()
                inserts = []
                for outbox_id, kind, audience, loan_id, last_error in rows:
                    channels = self.settings.sync.channels_for(kind, audience)
                    if not channels:
                        message = (
                            f"No channel is set up for {audience} alerts ({kind}): add one "
                            "under [sync.routes] in the settings."
                        )
                        if last_error != message:
                            database.execute_sql(
                                "UPDATE outbox SET last_error = ? WHERE id = ?",
                                (message, outbox_id),
                            )
                        continue
                    for channel in channels:
                        inserts.append((outbox_id, channel, loan_id, _ts(now), _ts(now)))
                if inserts:
                    cursor = database.cursor()
                    cursor.executemany(
                        "INSERT OR IGNORE INTO delivery (outbox_id, channel, loan_id, created_at,"
                        " attempts, next_attempt_at, last_error) VALUES (?, ?, ?, ?, 0, ?, '')",
                        inserts,
                    )
                    created += max(cursor.rowcount, 0)
            if orphans:
                _refresh_outbox({r[1] for r in orphans}, now)
        if created:
            log.info("routed alerts: %d deliveries to make", created)
        return created

    # --- claim ---------------------------------------------------------------------------

    def _claim(self, channels: list[str], due_by: datetime) -> list[Claimed]:
        now = self.clock.now()
        until = now + timedelta(seconds=self.settings.sync.lease_seconds)
        marks = ",".join("?" * len(channels))
        sql = (
            "SELECT d.id FROM delivery AS d "
            "WHERE d.delivered_at IS NULL AND d.dead_at IS NULL AND d.next_attempt_at <= ? "
            "AND (d.claimed_until IS NULL OR d.claimed_until <= ?) "
            f"AND d.channel IN ({marks}) "
            # Hold back a row while an earlier alert about the same loan is waiting on
            # this channel, unless that one can be claimed now (it is then earlier in
            # this batch, which sends them in order).
            "AND (d.loan_id IS NULL OR NOT EXISTS ("
            " SELECT 1 FROM delivery AS e WHERE e.loan_id = d.loan_id"
            " AND e.channel = d.channel AND e.outbox_id < d.outbox_id"
            " AND e.delivered_at IS NULL AND e.dead_at IS NULL"
            " AND NOT (e.next_attempt_at <= ? AND (e.claimed_until IS NULL"
            " OR e.claimed_until <= ?)))) "
            "ORDER BY d.outbox_id, d.id LIMIT ?"
        )
        due, now_s = _ts(due_by), _ts(now)
        with store.write():
            ids = [
                r[0]
                for r in database.execute_sql(
                    sql, [due, now_s, *channels, due, now_s, self.settings.sync.batch_size]
                ).fetchall()
            ]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            database.execute_sql(
                f"UPDATE delivery SET claimed_by = ?, claimed_until = ? WHERE id IN ({marks})",
                [self.name, _ts(until), *ids],
            )
            rows = database.execute_sql(
                "SELECT d.id, d.outbox_id, d.channel, d.loan_id, d.attempts, o.uid, o.kind,"
                " o.audience, o.payload, o.created_at "
                "FROM delivery AS d JOIN outbox AS o ON o.id = d.outbox_id "
                f"WHERE d.id IN ({marks}) ORDER BY d.outbox_id, d.id",
                ids,
            ).fetchall()
        return [_claimed(row) for row in rows]

    # --- send ----------------------------------------------------------------------------

    def _send(self, batch: list[Claimed], deadline: float) -> dict[int, SendResult]:
        """Send a claimed batch; rows missing from the result were not attempted."""
        chains: dict[tuple[Any, ...], list[Claimed]] = {}
        for row in batch:
            key = (row.loan_id, row.channel) if row.loan_id is not None else ("alert", row.id)
            chains.setdefault(key, []).append(row)
        results: dict[int, SendResult] = {}

        def run_chain(rows: list[Claimed]) -> None:
            for row in rows:
                if row.channel in self._down or self.clock.monotonic() > deadline:
                    return
                result = self._attempt(row)
                results[row.id] = result
                if result.channel_down:
                    with self._down_lock:
                        self._down.setdefault(row.channel, self.clock.now())
                if not result.delivered:
                    return  # later alerts about this loan wait for this one

        workers = min(self.settings.sync.workers, len(chains))
        if workers <= 1:
            for rows in chains.values():
                run_chain(rows)
            return results
        # Chains are dealt round-robin to the workers, one task each (a future per
        # alert costs more than a loopback request).
        hands: list[list[list[Claimed]]] = [[] for _ in range(workers)]
        for i, rows in enumerate(chains.values()):
            hands[i % workers].append(rows)

        def run_hand(hand: list[list[Claimed]]) -> None:
            for rows in hand:
                run_chain(rows)

        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.sync.workers, "kiosk-sync")
        for future in [self._pool.submit(run_hand, hand) for hand in hands]:
            future.result()
        return results

    def _attempt(self, row: Claimed) -> SendResult:
        sender = self.senders[row.channel]
        try:
            result = sender.send(row.alert)
        except Exception as exc:
            # A bug in one channel must not stop the others or lose the alert.
            log.exception("channel %s failed on %s", row.channel, row.alert.key)
            result = SendResult(Outcome.RETRY, f"{row.channel}: unexpected error: {exc!r}")
        if result.delivered:
            log.debug("delivered %s via %s", row.alert.key, row.channel)
        else:
            log.warning(
                "alert %s via %s not delivered: %s", row.alert.key, row.channel, result.error
            )
        return result

    # --- record --------------------------------------------------------------------------

    def _apply(
        self, batch: list[Claimed], results: dict[int, SendResult], report: DeliveryReport
    ) -> None:
        s = self.settings.sync
        now = self.clock.now()
        delivered: list[tuple[Any, ...]] = []
        failed: list[tuple[Any, ...]] = []
        for row in batch:
            result = results.get(row.id)
            if result is None:
                continue
            if result.delivered:
                delivered.append((_ts(now), result.status, row.id))
                report.delivered += 1
                continue
            attempts = row.attempts + 1
            report.note_error(result.error)
            dead_at: str | None = None
            error = result.error
            next_at = now
            if result.outcome is Outcome.GONE:
                dead_at = _ts(now)
            elif attempts >= s.max_attempts:
                dead_at = _ts(now)
                error = f"Gave up after {attempts} attempts. Last error: {result.error}"
            else:
                delay = backoff_delay(
                    attempts,
                    s.backoff_base_seconds,
                    s.backoff_cap_seconds,
                    self.rng,
                    result.retry_after,
                )
                next_at = now + timedelta(seconds=delay)
                if result.channel_down:
                    self._down[row.channel] = max(self._down.get(row.channel, next_at), next_at)
            if dead_at:
                report.dead += 1
                log.error("alert %s via %s failed for good: %s", row.alert.key, row.channel, error)
            else:
                report.retried += 1
            failed.append(
                (attempts, _ts(next_at), error, result.status, dead_at, row.id, self.name)
            )
        released: list[tuple[Any, ...]] = []
        for row in batch:
            if row.id in results:
                continue
            # Not attempted: behind a failed alert about the same loan, or its channel is
            # down (then it waits as long as the row that found it down).
            until = self._down.get(row.channel)
            released.append((_ts(until) if until and until > now else None, row.id, self.name))
        with store.write():
            cursor = database.cursor()
            if delivered:
                cursor.executemany(
                    "UPDATE delivery SET delivered_at = ?, attempts = attempts + 1,"
                    " last_status = ?, last_error = '', claimed_by = NULL, claimed_until = NULL"
                    " WHERE id = ? AND delivered_at IS NULL",
                    delivered,
                )
            if failed:
                cursor.executemany(
                    "UPDATE delivery SET attempts = ?, next_attempt_at = ?, last_error = ?,"
                    " last_status = ?, dead_at = ?, claimed_by = NULL, claimed_until = NULL"
                    # Only while the lease is still ours: if it ran out and another
                    # process took the row, that process records the outcome.
                    " WHERE id = ? AND delivered_at IS NULL AND claimed_by = ?",
                    failed,
                )
            if released:
                cursor.executemany(
                    "UPDATE delivery SET next_attempt_at = COALESCE(?, next_attempt_at),"
                    " claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
                    released,
                )
            _refresh_outbox({row.outbox_id for row in batch}, now)


def _claimed(row: tuple[Any, ...]) -> Claimed:
    (id_, outbox_id, channel, loan_id, attempts, uid, kind, audience, payload, created_at) = row
    created = _dt(created_at)
    assert created is not None
    return Claimed(
        id=id_,
        outbox_id=outbox_id,
        channel=channel,
        loan_id=loan_id,
        attempts=attempts,
        alert=Alert(
            outbox_id=outbox_id,
            key=uid,
            kind=kind,
            audience=audience,
            payload=store.JSONField().python_value(payload),
            created_at=created,
        ),
    )


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _refresh_outbox(outbox_ids: Iterable[int], now: datetime) -> None:
    """Bring each alert's summary columns up to date with its deliveries (in a transaction)."""
    updates = []
    for outbox_id in sorted(outbox_ids):
        rows = database.execute_sql(
            "SELECT delivered_at, dead_at, attempts, next_attempt_at, last_error, channel "
            "FROM delivery WHERE outbox_id = ? ORDER BY channel",
            (outbox_id,),
        ).fetchall()
        if not rows:
            continue
        pending = [r for r in rows if r[0] is None and r[1] is None]
        dead = [r for r in rows if r[1] is not None and r[0] is None]
        all_delivered = all(r[0] is not None for r in rows)
        errors = "; ".join(r[4] for r in rows if r[0] is None and r[4])
        updates.append(
            (
                int(all_delivered),
                _ts(now),
                _ts(now) if dead and not pending else None,
                max(r[2] for r in rows),
                min(r[3] for r in pending) if pending else None,
                errors,
                outbox_id,
            )
        )
    if updates:
        database.cursor().executemany(
            "UPDATE outbox SET delivered_at = CASE WHEN ? THEN COALESCE(delivered_at, ?)"
            " ELSE NULL END, dead_at = ?, attempts = ?,"
            " next_attempt_at = ?, last_error = ? WHERE id = ?",
            updates,
        )

"""Alert delivery figures (issue 5): throughput to a local receiver, and an idle pass.

- ``sync_deliver_10k``: 10,000 waiting alerts delivered by one ``kiosk sync`` pass
  to a real HTTP server on loopback (stdlib, keep-alive, verifying every
  signature as SLT's side would). Goal: at least 500 per second.
- ``sync_idle_pass_1m``: one whole pass (rules, delivery, the status summary)
  with nothing to do, on a database of 1,000,000 loans (300 open, some overdue
  and already alerted). Goal: at most 50 ms (median of 30 passes).

The big database takes a while to build, so it is cached in ``bench/data/``
(git-ignored) and reused; delete the file to rebuild it.

Run alone with ``python bench/bench_sync.py``; ``python -m bench`` calls ``run()``.
"""

from __future__ import annotations

import json
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kiosk.db import open_database
from kiosk.settings import Settings, settings_from
from sync.delivery import Deliverer
from sync.runner import run_pass
from sync.signing import new_secret, verify
from sync.status import delivery_summary

log = logging.getLogger("bench.sync")

DATA = Path(__file__).parent / "data"
BIG_DB = DATA / "sync_1m_loans_v1.db"
LOANS = 1_000_000
ITEMS = 400
STAFF = 300
OPEN = 300
OVERDUE = 20
ALERTS = 10_000
#: Monday 23 November 2026, 17:00 UTC: a school day, after the summary time.
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
TS = "%Y-%m-%d %H:%M:%S.%f"


class RealClock:
    """Wall and monotonic time, always synchronised (the bench machine's clock is right)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def synchronised(self) -> bool:
        return True

    def boot_id(self) -> str:
        return "bench"


class FixedClock(RealClock):
    def now(self) -> datetime:
        return NOW


# --- the receiver -------------------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, secret: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = secret
        self.seen: set[str] = set()
        self.repeats = 0
        self.rejected = 0
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as any real receiver

    def do_POST(self) -> None:
        server: Receiver = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            verify(server.secret, dict(self.headers.items()), body)
            status = 200
        except ValueError:
            status = 400
        with server.lock:
            if status == 400:
                server.rejected += 1
            elif self.headers["webhook-id"] in server.seen:
                server.repeats += 1
            else:
                server.seen.add(self.headers["webhook-id"])
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: ten thousand request lines would drown the benchmark's figures."""


# --- building databases --------------------------------------------------------------------


def _ts(when: datetime) -> str:
    return when.astimezone(UTC).strftime(TS)


def _seed_people_and_items(conn: Any, items: int = ITEMS, staff: int = STAFF) -> None:
    conn.executemany(
        "INSERT INTO staff (id, staff_id, name, known_as, role, classes, email, badge_uid,"
        " active, inactive_reason, pin_hash) VALUES (?, ?, ?, '', 'staff', '', ?, ?, 1, '', '')",
        [
            (i, f"S{i}", f"Staff Member {i}", f"staff{i}@school.example", f"04{i:06X}")
            for i in range(1, staff + 1)
        ],
    )
    conn.executemany(
        "INSERT INTO item (id, asset_tag, name, kind, tag_uid, home_class, contents,"
        " phone_number, status, notes) VALUES (?, ?, ?, 'trolley_key', ?, '', '[]', '',"
        " 'available', '')",
        [(i, f"A{i}", f"Trolley key {i}", f"05{i:06X}") for i in range(1, items + 1)],
    )


def _payload(n: int) -> str:
    return json.dumps(
        {
            "kind": "overdue",
            "school": "Bench Primary",
            "note": "Due back 15:30 today.",
            "summary": f"Trolley key {n} is overdue",
            "item": {"name": f"Trolley key {n}", "asset_tag": f"A{n}", "kind": "trolley_key"},
            "person": {"name": f"Staff Member {n}", "email": f"staff{n}@school.example"},
            "loan": {"id": n, "out_at": _ts(NOW), "due_at": _ts(NOW), "trip": ""},
        },
        sort_keys=True,
    )


def build_big_db(path: Path) -> None:
    """1,000,000 loans (raw SQL: a recursive CTE), 300 open, 20 overdue and alerted."""
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    db = open_database(tmp)
    conn = db.connection()
    # Indexes are dropped for the bulk insert and rebuilt after: several times faster.
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'loan'"
        " AND sql IS NOT NULL"
    ).fetchall()
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    _seed_people_and_items(conn)
    base = NOW - timedelta(minutes=10 * LOANS)
    conn.execute(
        "INSERT INTO loan (id, item_id, borrower_id, out_at, out_clock_synced, due_at, trip,"
        " off_site, closed_at, closed_by_id, outcome, checklist, condition_note, anonymised) "
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) "
        "SELECT n, (n % ?) + 1, (n % ?) + 1, "
        " strftime('%Y-%m-%d %H:%M:%S', ?, '+' || (n * 600) || ' seconds') || '.000000', 1,"
        " strftime('%Y-%m-%d %H:%M:%S', ?, '+' || (n * 600 + 7200) || ' seconds') || '.000000',"
        " '', 0,"
        " strftime('%Y-%m-%d %H:%M:%S', ?, '+' || (n * 600 + 3600) || ' seconds') || '.000000',"
        " (n % ?) + 1, 'returned', NULL, '', 0 FROM seq",
        (
            LOANS,
            ITEMS,
            STAFF,
            base.strftime("%Y-%m-%d %H:%M:%S"),
            base.strftime("%Y-%m-%d %H:%M:%S"),
            base.strftime("%Y-%m-%d %H:%M:%S"),
            STAFF,
        ),
    )
    # The last OPEN loans stay open (distinct items): due at the end of today, except
    # OVERDUE of them which were due yesterday and have had both alerts already.
    open_from = LOANS - OPEN + 1
    conn.execute(
        "UPDATE loan SET closed_at = NULL, closed_by_id = NULL, outcome = NULL, due_at = ?"
        " WHERE id >= ?",
        (_ts(NOW.replace(hour=23, minute=0)), open_from),
    )
    overdue = list(range(open_from, open_from + OVERDUE))
    conn.executemany(
        "UPDATE loan SET due_at = ? WHERE id = ?",
        [(_ts(NOW - timedelta(days=1)), n) for n in overdue],
    )
    for _, sql in indexes:
        conn.execute(sql)
    # Their alerts, the day's summary and a history of delivered alerts, all delivered.
    rows: list[tuple[str, str, str, int | None]] = []
    for n in overdue:
        rows.append((f"overdue:loan:{n}", "overdue", "office", n))
        rows.append((f"overdue_escalated:loan:{n}", "overdue_escalated", "slt", n))
    rows.append(("summary:2026-11-23", "summary", "office", None))
    rows += [(f"lost:loan:{n}", "lost", "slt", n) for n in range(1, 5001)]
    conn.executemany(
        "INSERT INTO outbox (uid, key, kind, audience, event_id, loan_id, payload, created_at,"
        " attempts, next_attempt_at, delivered_at, dead_at, last_error)"
        " VALUES (?, ?, ?, ?, NULL, ?, ?, ?, 1, NULL, ?, NULL, '')",
        [
            (
                f"bench-{k}",  # the wire id every alert has (kiosk.alerts)
                k,
                kind,
                aud,
                loan,
                _payload(loan or 0),
                _ts(NOW - timedelta(hours=1)),
                _ts(NOW - timedelta(minutes=59)),
            )
            for k, kind, aud, loan in rows
        ],
    )
    conn.execute(
        "INSERT INTO delivery (outbox_id, channel, loan_id, created_at, attempts,"
        " next_attempt_at, delivered_at, last_error, last_status)"
        " SELECT id, 'slt_hook', loan_id, created_at, 1, created_at, delivered_at, '', 200"
        " FROM outbox"
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    db.close()
    tmp.rename(path)
    log.info("built %s (%d loans) in %.1f s", path, LOANS, time.perf_counter() - started)


def bench_settings(db_path: Path, url: str, secret: str) -> Settings:
    return settings_from(
        {
            "kiosk": {"db": str(db_path)},
            "school": {"name": "Bench Primary"},
            "sync": {
                "channels": {"slt_hook": {"type": "webhook", "url": url, "secret": secret}},
                "routes": {"office": ["slt_hook"], "slt": ["slt_hook"], "it": ["slt_hook"]},
            },
        }
    )


# --- the benchmarks ------------------------------------------------------------------------


def serve_receiver(secret: str) -> None:
    """The receiver's process: print the port, serve until stdin closes, print the stats."""
    receiver = Receiver(secret)
    sys.stdout.write(f"{receiver.server_address[1]}\n")
    sys.stdout.flush()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    sys.stdin.read()
    receiver.shutdown()
    receiver.server_close()
    sys.stdout.write(
        json.dumps(
            {"seen": len(receiver.seen), "repeats": receiver.repeats, "rejected": receiver.rejected}
        )
        + "\n"
    )


def bench_delivery(tmp: Path) -> dict[str, float]:
    # The receiver runs in a process of its own, as SLT's server would (and so that
    # the kiosk's side does not share a GIL with it).
    secret = new_secret()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--receiver", secret],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    port = int(server.stdout.readline())
    db_path = tmp / "deliver.db"
    db = open_database(db_path)
    try:
        conn = db.connection()
        with db.atomic():
            _seed_people_and_items(conn, items=1000, staff=100)
            conn.executemany(
                "INSERT INTO loan (id, item_id, borrower_id, out_at, out_clock_synced, due_at,"
                " trip, off_site, closed_at, closed_by_id, outcome, checklist, condition_note,"
                " anonymised) VALUES (?, ?, ?, ?, 1, ?, '', 0, NULL, NULL, NULL, NULL, '', 0)",
                [(n, n, n % 100 + 1, _ts(NOW), _ts(NOW)) for n in range(1, 1001)],
            )
            # Ten alerts per loan, so deliveries of one loan must keep their order.
            conn.executemany(
                "INSERT INTO outbox (uid, key, kind, audience, event_id, loan_id, payload,"
                " created_at, attempts, next_attempt_at, last_error)"
                " VALUES (?, ?, 'overdue', 'slt', NULL, ?, ?, ?, 0, ?, '')",
                [
                    (
                        f"bench-{i}",  # the wire id every alert has (kiosk.alerts)
                        f"bench:{i}",
                        i % 1000 + 1,
                        _payload(i % 1000 + 1),
                        _ts(NOW),
                        _ts(NOW),
                    )
                    for i in range(ALERTS)
                ],
            )
        url = f"http://127.0.0.1:{port}/hook"
        settings = bench_settings(db_path, url, secret)
        deliverer = Deliverer(settings, RealClock())
        started = time.perf_counter()
        passes = 0
        while delivery_summary().waiting and passes < 5:
            deliverer.run()
            passes += 1
        elapsed = time.perf_counter() - started
        deliverer.close()
        out, _ = server.communicate(timeout=30)
        stats = json.loads(out.strip().splitlines()[-1])
        summary = delivery_summary()
        if summary.waiting or stats["rejected"] or stats["seen"] != ALERTS:
            raise RuntimeError(f"delivery bench incomplete: {summary}, receiver {stats}")
        rate = ALERTS / elapsed
        log.info(
            "delivered %d alerts in %.2f s (%d passes): %.0f per second, %d repeats",
            ALERTS,
            elapsed,
            passes,
            rate,
            stats["repeats"],
        )
        return {"rate": rate, "seconds": elapsed}
    finally:
        db.close()
        if server.poll() is None:
            server.kill()
            server.wait()


def bench_idle_pass(tmp: Path) -> dict[str, float]:
    if not BIG_DB.exists():
        build_big_db(BIG_DB)
    db = open_database(BIG_DB)
    try:
        loans = db.execute_sql("SELECT COUNT(*) FROM loan").fetchone()[0]
        settings = bench_settings(BIG_DB, "http://127.0.0.1:9/unused", new_secret())
        clock = FixedClock()
        deliverer = Deliverer(settings, clock)
        first = run_pass(settings, clock, deliverer)  # warm the page cache
        if first.raised or first.delivered or first.summary.waiting:
            raise RuntimeError(f"the idle pass had something to do: {first}")
        times = []
        for _ in range(30):
            started = time.perf_counter()
            report = run_pass(settings, clock, deliverer)
            times.append((time.perf_counter() - started) * 1000)
            assert not (report.raised or report.delivered)
        deliverer.close()
        median = statistics.median(times)
        log.info("idle pass on %d loans: median %.1f ms, max %.1f ms", loans, median, max(times))
        return {"median_ms": median, "max_ms": max(times)}
    finally:
        db.close()


def run() -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        delivery = bench_delivery(Path(tmp))
        idle = bench_idle_pass(Path(tmp))
    results = {
        "sync_deliver_10k": {
            "value": round(delivery["rate"], 1),
            "unit": "alerts/s",
            "goal": ">= 500",
        },
        "sync_idle_pass_1m": {"value": round(idle["median_ms"], 2), "unit": "ms", "goal": "<= 50"},
    }
    for name, figure in results.items():
        sys.stdout.write(f"{name}: {figure['value']} {figure['unit']} (goal {figure['goal']})\n")
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--receiver"]:
        serve_receiver(sys.argv[2])
    else:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        run()

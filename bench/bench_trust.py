"""Replication to the trust's PostgreSQL (issue 14): throughput, catch-up, the board, idle.

- ``trust_push_rows_per_s``: journal rows (loans opened and closed, their events) pushed
  from one kiosk into PostgreSQL, in the kiosk's default batches. Goal >= 5,000 a second.
- ``trust_50_kiosks_catch_up_s``: 50 kiosks each back after a week offline (about 2,000
  rows each) pushing at once. Goal: all caught up within 60 s.
- ``trust_board_10m_p95_ms``: the all-schools page (overdue across the trust, trip phones
  out, per-school counts) read as a trust reader through row-level security, with
  10,000,000 loans over 50 schools. Goal: p95 at most 200 ms. Also a school's board.
- ``trust_idle_push_ms``: the replication step of a sync pass with nothing to push, on the
  1,000,000-loan kiosk database. Goal: at most 5 ms (median). Beside it the whole pass
  (rules, delivery, push; bench_sync's goal for an idle pass) and the first contact of
  that school (a full reconcile of its 3 million rows).

The server is a real cluster started here (Debian's binaries, as the ``postgres`` user),
with fsync on as in production. The 10M-loan data set is built with generate_series and
cached under ``bench/data/`` (git-ignored) as a cluster directory, keyed by the schema's
migrations; delete it to rebuild (several minutes).

Run alone with ``python -m bench trust``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import sqlite3
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.fixtures import big_database, percentile
from kiosk.clock import ManualClock
from kiosk.db import open_database
from kiosk.settings import Trust, settings_from
from sync.delivery import Deliverer
from sync.runner import run_pass
from sync.trust import schema
from sync.trust.push import Pusher
from sync.trust.view import TrustView
from tests.sync.trust.pgcluster import PgCluster, new_cluster, unavailable_reason

log = logging.getLogger("bench.trust")

DATA = Path(__file__).parent / "data"
SCHOOLS, LOANS = 50, 10_000_000
OPEN_PER_SCHOOL = 300
#: Monday 23 November 2026, 16:00 UTC: after the school day, some loans overdue.
NOW = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
TS = "%Y-%m-%d %H:%M:%S.%f"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin(cluster: PgCluster, db: str = "trust") -> psycopg.Connection[Any]:
    return psycopg.connect(cluster.conninfo(db), autocommit=True)


def _new_trust(cluster: PgCluster, db: str) -> None:
    with _admin(cluster, "postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    with _admin(cluster, db) as conn:
        schema.migrate(conn)


# --- kiosk databases ---------------------------------------------------------------------


def _kiosk_db(path: Path, staff: int = 40, items: int = 60) -> None:
    open_database(path).close()
    con = sqlite3.connect(path)
    with con:
        con.executemany(
            "INSERT INTO staff (staff_id, name, known_as, role, classes, email, badge_uid, active,"
            " inactive_reason, pin_hash) VALUES (?, ?, '', 'staff', '', '', ?, 1, '', '')",
            [(f"S{i}", f"Staff Member {i}", f"BA{i:06X}") for i in range(1, staff + 1)],
        )
        con.executemany(
            "INSERT INTO item (asset_tag, name, kind, tag_uid, home_class, contents, phone_number,"
            " status, notes) VALUES (?, ?, ?, ?, '', '[]', ?, 'available', '')",
            [
                (f"A{i}", f"Item {i}", "trip_phone" if i % 10 == 0 else "trolley_key",
                 f"17{i:06X}", "07700 900000" if i % 10 == 0 else "")
                for i in range(1, items + 1)
            ],
        )  # fmt: skip
    con.close()


def _offline_week(path: Path, loans: int, start: datetime) -> None:
    """``loans`` loans opened and returned, each with its two events, the journal recording all."""
    con = sqlite3.connect(path)
    with con:
        items = con.execute("SELECT count(*) FROM item").fetchone()[0]
        staff = con.execute("SELECT count(*) FROM staff").fetchone()[0]
        first = (con.execute("SELECT max(id) FROM loan").fetchone()[0] or 0) + 1
        for n in range(first, first + loans):
            out = start + timedelta(minutes=10 * n)
            back = out + timedelta(hours=2)
            cur = con.execute(
                "INSERT INTO loan (item_id, borrower_id, out_at, out_clock_synced, due_at, trip,"
                " off_site, condition_note, anonymised) VALUES (?, ?, ?, 1, ?, '', 0, '', 0)",
                ((n % items) + 1, (n % staff) + 1, out.strftime(TS), back.strftime(TS)),
            )
            loan = cur.lastrowid
            con.execute(
                "INSERT INTO event (at, clock_synced, action, staff_id, item_id, loan_id, reader,"
                " detail) VALUES (?, 1, 'sign_out', ?, ?, ?, 'rc522', '{}')",
                (out.strftime(TS), (n % staff) + 1, (n % items) + 1, loan),
            )
            con.execute(
                "UPDATE loan SET closed_at = ?, closed_by_id = borrower_id, outcome = 'returned'"
                " WHERE id = ?",
                (back.strftime(TS), loan),
            )
            con.execute(
                "INSERT INTO event (at, clock_synced, action, staff_id, item_id, loan_id, reader,"
                " detail) VALUES (?, 1, 'return', ?, ?, ?, 'rc522', '{}')",
                (back.strftime(TS), (n % staff) + 1, (n % items) + 1, loan),
            )
    con.close()


def _register(cluster: PgCluster, db: str, school: str, kiosk: str) -> str:
    with _admin(cluster, db) as conn:
        schema.add_school(conn, school, school.title())
        login = schema.add_kiosk(
            conn, kiosk, school, host=str(cluster.socket_dir), port=cluster.port, ca=""
        )
    return login.conninfo


def bench_throughput(cluster: PgCluster, tmp: Path) -> float:
    _new_trust(cluster, "throughput")
    path = tmp / "one.db"
    _kiosk_db(path)
    conninfo = _register(cluster, "throughput", "hillside", "hillside-office")
    pusher = Pusher(Trust(), path, conninfo=conninfo)
    try:
        assert pusher.push().error == ""  # first contact: the staff and items
        _offline_week(path, 15_000, NOW - timedelta(days=120))
        started = time.perf_counter()
        report = pusher.push()
        elapsed = time.perf_counter() - started
    finally:
        pusher.close()
    assert report.error == "" and report.caught_up, report
    log.info("pushed %d rows (%d journal entries) in %.2f s", report.rows, report.entries, elapsed)
    return report.rows / elapsed


def bench_catch_up(cluster: PgCluster, tmp: Path, kiosks: int = 50) -> tuple[float, int]:
    _new_trust(cluster, "catchup")
    pushers = []
    for n in range(kiosks):
        path = tmp / f"k{n}.db"
        _kiosk_db(path)
        conninfo = _register(cluster, "catchup", f"school-{n:02d}", f"school-{n:02d}-office")
        p = Pusher(Trust(), path, conninfo=conninfo)
        assert p.push().error == ""
        p.close()
        # A week: about 700 loans, each opened and returned with two events (~2,100 rows).
        _offline_week(path, 700, NOW - timedelta(days=7))
        pushers.append((path, conninfo))
    rows = 0

    def back_online(job: tuple[Path, str]) -> int:
        p = Pusher(Trust(), job[0], conninfo=job[1])
        try:
            report = p.push()
        finally:
            p.close()
        assert report.error == "" and report.caught_up, report
        return report.rows

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=kiosks) as pool:
        rows = sum(pool.map(back_online, pushers))
    return time.perf_counter() - started, rows


# --- the 10M-loan trust ------------------------------------------------------------------


def _dataset_key() -> str:
    digest = hashlib.sha256()
    for m in schema.migrations():
        digest.update(m.sha256.encode())
    return digest.hexdigest()[:12]


def _fill_10m(cluster: PgCluster) -> None:
    _new_trust(cluster, "trust")
    per = LOANS // SCHOOLS
    with _admin(cluster) as conn:
        conn.execute(
            "INSERT INTO trust.school SELECT format('school-%%s', lpad(s::text, 2, '0')), "
            "format('School %%s Primary', s) FROM generate_series(1, %s) s",
            (SCHOOLS,),
        )
        conn.execute(
            "INSERT INTO trust.kiosk (kiosk_id, school_id, role_name, incarnation, pushed_seq,"
            " pushed_at) SELECT school_id || '-office', school_id, 'kiosk_' || replace(school_id,"
            " '-', '_'), 'x', 1, %s FROM trust.school",
            (NOW,),
        )
        conn.execute(
            "INSERT INTO trust.staff SELECT k.kiosk_id, k.school_id, s, format('Staff %s', s), '',"
            " 'staff', true FROM trust.kiosk k, generate_series(1, 200) s"
        )
        conn.execute(
            "INSERT INTO trust.item SELECT k.kiosk_id, k.school_id, i, format('A%s', i),"
            " format('Item %s', i), CASE WHEN i % 10 = 0 THEN 'trip_phone' ELSE 'trolley_key' END,"
            " '', '[]', CASE WHEN i % 10 = 0 THEN '07700 900000' ELSE '' END, 'available'"
            " FROM trust.kiosk k, generate_series(1, 500) i"
        )
        # Per school: 200,000 loans over three years, the last 300 still out (some overdue).
        for k, school in conn.execute("SELECT kiosk_id, school_id FROM trust.kiosk").fetchall():
            conn.execute(
                "INSERT INTO trust.loan SELECT %(k)s, %(s)s, n, n %% 500 + 1, n %% 200 + 1,"
                " %(t0)s + n * interval '7 minutes', true,"
                " %(t0)s + n * interval '7 minutes' + interval '6 hours', '', false,"
                " CASE WHEN n <= %(closed)s"
                "      THEN %(t0)s + n * interval '7 minutes' + interval '2 hours' END,"
                " CASE WHEN n <= %(closed)s THEN n %% 200 + 1 END,"
                " CASE WHEN n <= %(closed)s THEN 'returned' END, NULL, false"
                " FROM generate_series(1, %(per)s) n",
                {"k": k, "s": school, "per": per, "closed": per - OPEN_PER_SCHOOL,
                 "t0": NOW - per * timedelta(minutes=7)},
            )  # fmt: skip
        conn.execute("VACUUM ANALYZE")


def trust_10m() -> PgCluster:
    """The cached 10M-loan cluster, started (built first if needed)."""
    DATA.mkdir(parents=True, exist_ok=True)
    base = DATA / f"trust-10m-{_dataset_key()}"
    if not (base / "ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        started = time.perf_counter()
        cluster = PgCluster(base, port=_free_port(), durable=True)
        cluster.init()
        (base / "password").write_text(cluster.password)
        cluster.start()
        try:
            _fill_10m(cluster)
        except BaseException:
            cluster.remove()
            raise
        cluster.stop()
        (base / "ready").write_text("built\n")
        log.info("built the 10M-loan trust in %.0f s", time.perf_counter() - started)
    cluster = PgCluster(base, port=_free_port(), durable=True)
    cluster.password = (base / "password").read_text().strip()
    cluster.configure()
    cluster.start()
    return cluster


def bench_board(cluster: PgCluster, runs: int = 100) -> dict[str, float]:
    with _admin(cluster) as conn:
        login = schema.add_reader(
            conn, "bench-slt", None, host=str(cluster.socket_dir), port=cluster.port, ca=""
        )
    view = TrustView(login.conninfo)
    try:
        view.overview(NOW)  # warm the cache and the connection
        overview, board = [], []
        for i in range(runs):
            t0 = time.perf_counter()
            result = view.overview(NOW)
            overview.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            view.school_board(f"school-{i % SCHOOLS + 1:02d}", NOW)
            board.append((time.perf_counter() - t0) * 1000)
        assert len(result.schools) == SCHOOLS and result.overdue_total > 0
    finally:
        view.close()
    return {"overview_p95": percentile(overview, 95), "board_p95": percentile(board, 95)}


def bench_idle(cluster: PgCluster, tmp: Path, runs: int = 200) -> dict[str, float]:
    _new_trust(cluster, "idle")
    path = big_database(tmp / "big.db")
    conninfo = _register(cluster, "idle", "hillside", "hillside-office")
    clock = ManualClock(wall=NOW)
    settings = settings_from({"kiosk": {"db": str(path)}})
    db = open_database(path)
    pusher = Pusher(Trust(), path, conninfo=conninfo)
    deliverer = Deliverer(settings, clock)
    try:
        t0 = time.perf_counter()
        first = pusher.push()  # first contact: the whole school, once
        reconcile_s = time.perf_counter() - t0
        assert first.error == "" and first.caught_up and first.reconciled, first
        push_ms, pass_ms = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            report = pusher.push()
            push_ms.append((time.perf_counter() - t0) * 1000)
            assert not report.contacted
        for _ in range(30):
            t0 = time.perf_counter()
            run_pass(settings, clock, deliverer, threading.Event(), pusher)
            pass_ms.append((time.perf_counter() - t0) * 1000)
    finally:
        deliverer.close()
        pusher.close()
        db.close()
    return {"push": statistics.median(push_ms), "pass": statistics.median(pass_ms),
            "reconcile_rate": first.rows / reconcile_s}  # fmt: skip


def run() -> dict[str, dict[str, Any]]:
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    tmp = Path(tempfile.mkdtemp(prefix="bench-trust-"))
    figures: dict[str, dict[str, Any]] = {}
    cluster = new_cluster(port=_free_port(), durable=True)
    try:
        cluster.start()
        rate = bench_throughput(cluster, tmp)
        figures["trust_push_rows_per_s"] = {
            "value": round(rate),
            "unit": "rows/s",
            "goal": ">= 5000",
        }
        took, rows = bench_catch_up(cluster, tmp)
        log.info("50 kiosks: %d rows in %.1f s", rows, took)
        figures["trust_50_kiosks_catch_up_s"] = {
            "value": round(took, 1),
            "unit": "s",
            "goal": "<= 60",
        }
        idle = bench_idle(cluster, tmp)
        figures["trust_idle_push_ms"] = {
            "value": round(idle["push"], 3),
            "unit": "ms",
            "goal": "<= 5",
        }
        figures["trust_first_contact_1m_rows_per_s"] = {
            "value": round(idle["reconcile_rate"]), "unit": "rows/s", "goal": ">= 5000"
        }  # fmt: skip
        figures["trust_idle_sync_pass_1m_ms"] = {
            "value": round(idle["pass"], 2), "unit": "ms", "goal": "<= 50"
        }  # fmt: skip
    finally:
        cluster.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    big = trust_10m()
    try:
        board = bench_board(big)
    finally:
        big.stop()
    figures["trust_board_10m_p95_ms"] = {
        "value": round(board["overview_p95"], 1), "unit": "ms", "goal": "<= 200"
    }  # fmt: skip
    figures["trust_school_board_10m_p95_ms"] = {
        "value": round(board["board_p95"], 1), "unit": "ms", "goal": "<= 200"
    }  # fmt: skip
    return figures


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    for name, figure in run().items():
        sys.stdout.write(f"{name}: {figure['value']} {figure['unit']} (goal {figure['goal']})\n")

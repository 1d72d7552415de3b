"""``kiosk sync`` as a real process against a real server: SIGKILL mid-batch, a slow
server while the kiosk keeps taking taps, and crashes between the server's commit and
the kiosk's acknowledgement. No sleeps: each test waits for the state it needs.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from kiosk.clock import CLOCK_ENV
from kiosk.db import database
from tests.sync.trust.conftest import Kiosk, TrustDB, assert_replica_equals, write_trust_config

LOCK_KEY = 4242


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Until ``condition()`` holds (checked every few milliseconds), or fail saying ``what``."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.02)


def waiting_on_lock(admin: psycopg.Connection[Any], application: str) -> bool:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
        "AND wait_event_type = 'Lock'",
        (application,),
    ).fetchone()
    return bool(row and row[0])


def pushed_seq(admin: psycopg.Connection[Any], kiosk_id: str) -> int:
    row = admin.execute(
        "SELECT pushed_seq FROM trust.kiosk WHERE kiosk_id = %s", (kiosk_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def kiosk_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env[CLOCK_ENV] = "2026-11-23T09:00:00+00:00"
    return env


def start_sync(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "sync", "--once", "--config", str(config)],
        env=kiosk_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def busy_day(k: Kiosk, loans: int) -> None:
    for i in range(loans):
        what = ("trolley", "laptops", "camera")[i % 3]
        who = "amira" if what == "camera" else "ben"
        k.sign_out(who, what)
        k.clock.advance(600)
        k.give_back(what)


def test_sigkill_mid_batch_then_the_next_run_catches_up(
    trust_db: TrustDB, hillside: Kiosk, tmp_path: Path
) -> None:
    assert hillside.push().error == ""  # first contact (full reconcile) done
    busy_day(hillside, 12)
    config = write_trust_config(tmp_path, hillside.path, hillside.conninfo, batch_size=5)
    with trust_db.admin() as admin:
        # A row in the middle of the journal makes its batch wait on a lock the test holds.
        target = 7
        admin.execute(
            "CREATE FUNCTION trust.hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.id = {target} THEN PERFORM pg_advisory_xact_lock({LOCK_KEY}); END IF; "
            "RETURN NEW; END $$"
        )
        admin.execute(
            "CREATE TRIGGER hold BEFORE INSERT OR UPDATE ON trust.loan "
            "FOR EACH ROW EXECUTE FUNCTION trust.hold()"
        )
        admin.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        before = pushed_seq(admin, hillside.kiosk_id)
        proc = start_sync(config)
        try:
            wait_for(lambda: waiting_on_lock(admin, "kiosk sync"), "the push to reach the held row")
            assert pushed_seq(admin, hillside.kiosk_id) > before  # earlier batches committed
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=60) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
            admin.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        admin.execute("DROP TRIGGER hold ON trust.loan")
        wait_for(lambda: not waiting_on_lock(admin, "kiosk sync"), "the killed session to end")
    again = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "sync", "--once", "--config", str(config)],
        env=kiosk_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "Trust:" in again.stdout and "not sent" not in again.stdout, again.stdout
    database.initialize(hillside.db)
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)


def test_a_crash_after_the_servers_commit_sends_nothing_twice(
    trust_db: TrustDB, hillside: Kiosk
) -> None:
    assert hillside.push().error == ""
    busy_day(hillside, 3)
    crashed = hillside.pusher()
    me = crashed._whoami(crashed._connection())
    batch = crashed.journal.read_batch(me.pushed_seq, 500)
    assert batch is not None
    crashed._send(
        crashed._connection(), me, crashed.journal.state().incarnation, me.pushed_seq, batch
    )
    crashed.close()  # gone before it could forget the entries the server now has
    report = hillside.push()
    assert report.error == "" and report.rows == 0  # nothing sent again
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)
    con = sqlite3.connect(hillside.path)
    assert con.execute("SELECT count(*) FROM change_journal").fetchone() == (0,)
    con.close()


def test_a_slow_server_never_holds_up_a_tap(trust_db: TrustDB, hillside: Kiosk) -> None:
    assert hillside.push().error == ""
    hillside.sign_out("amira", "camera")
    pusher = hillside.pusher(statement_timeout_seconds=2.0)
    result: list[Any] = []
    with trust_db.admin() as admin:
        admin.execute("BEGIN")
        admin.execute(
            "SELECT 1 FROM trust.kiosk WHERE kiosk_id = %s FOR UPDATE", (hillside.kiosk_id,)
        )
        worker = threading.Thread(target=lambda: result.append(pusher.push()))
        worker.start()
        try:
            with trust_db.admin() as watcher:
                wait_for(
                    lambda: waiting_on_lock(watcher, "kiosk sync"), "the push to wait on the server"
                )
            # While the push waits on the network, the kiosk's write lock is free: a writer
            # that will not wait at all (busy timeout 0) still commits at once.
            tap = sqlite3.connect(hillside.path, timeout=0)
            tap.execute("PRAGMA busy_timeout = 0")
            with tap:
                tap.execute("BEGIN IMMEDIATE")
                tap.execute("UPDATE item SET notes = 'tapped' WHERE asset_tag = 'TK1'")
            tap.close()
            hillside.give_back("camera")  # and a real tap, through the loan service
        finally:
            worker.join(timeout=60)
            admin.execute("ROLLBACK")
    pusher.close()
    assert result and "will try again" in result[0].error
    assert hillside.push().error == ""  # retried at the next pass
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)

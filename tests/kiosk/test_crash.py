"""Power cuts: a writer killed with SIGKILL at random moments loses nothing it reported.

A child process signs items out and back in a loop (with a short count on
return, so every loan also has an outbox row) and writes each loan id to a
pipe only after its last commit. The test kills it at random moments, 220
times, then checks that SQLite is intact and that every reported loan is
there with its events and its alert.

Children come from a multiprocessing fork server with the kiosk already
imported: each life costs milliseconds, not an interpreter start-up, and the
server is single-threaded, so a fork never inherits a lock held by one of the
test process's own threads.
"""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import time
from multiprocessing.connection import Connection

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Loan, Outbox, Staff, open_database
from kiosk.loans import LoanService
from kiosk.settings import Settings
from kiosk.views import Checklist, Outcome

KILLS = 220
ITEMS = ["B1", "B2", "B3"]


def _child(settings: Settings, conn: Connection, seed: int) -> None:
    """Runs in the child until killed."""
    open_database(settings.kiosk.db)
    clock = ManualClock()
    service = LoanService(settings, clock)
    rng = random.Random(seed)
    while True:
        clock.advance(3)
        service.tap("A1", "crash")
        clock.advance(3)
        item = rng.choice(ITEMS)
        result = service.tap(item, "crash")
        if result.outcome is Outcome.SIGNED_OUT:
            clock.advance(3)
            result = service.tap(item, "crash")
        if result.outcome is Outcome.RETURNED and result.loan is not None:
            service.save_checklist(result.loan.id, Checklist(counts={"iPads": 29}))
            conn.send_bytes(str(result.loan.id).encode())


@pytest.fixture
def crash_db(settings: Settings) -> Settings:
    db = open_database(settings.kiosk.db)
    Staff.create(staff_id="S1", name="Amira Khan", badge_uid="A1")
    for n, uid in enumerate(ITEMS):
        Item.create(
            asset_tag=f"T{n}",
            name=f"Trolley {n}",
            kind="trolley_key",
            tag_uid=uid,
            contents=[{"name": "iPads", "count": 30}],
        )
    db.close()
    return settings


def test_sigkill_at_random_moments_loses_no_reported_loan(crash_db: Settings) -> None:
    rng = random.Random(20261122)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["kiosk.loans", "tests.kiosk.test_crash"])
    reported: list[int] = []
    for life in range(KILLS):
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(crash_db, writer, life), daemon=True)
        child.start()
        writer.close()
        time.sleep(rng.uniform(0.005, 0.08))
        child.kill()  # SIGKILL: no clean-up, no flush, as in a power cut
        child.join()
        # Every whole message sent before the kill; a torn last one is not a report.
        try:
            while reader.poll(0):
                reported.append(int(reader.recv_bytes()))
        except (EOFError, OSError, ValueError):
            pass
        reader.close()

    assert len(reported) > 50, "the child barely ran: the test proves little"
    raw = sqlite3.connect(crash_db.kiosk.db)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    db = open_database(crash_db.kiosk.db)
    for loan_id in reported:
        loan = Loan.get_or_none(Loan.id == loan_id)
        assert loan is not None, f"loan {loan_id} was reported but is gone"
        assert loan.outcome == "returned"
        actions = {e.action for e in Event.select().where(Event.loan == loan_id)}
        assert {"sign_out", "return", "checklist"} <= actions
        assert Outbox.get_or_none(Outbox.key == f"lost:loan:{loan_id}") is not None
    open_per_item = [
        Loan.select().where(Loan.item == i, Loan.closed_at.is_null()).count() for i in Item.select()
    ]
    assert max(open_per_item) <= 1
    db.close()

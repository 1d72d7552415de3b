"""Power cuts: a writer killed with SIGKILL at random moments loses nothing it reported.

A child process signs items out and back in a loop (with a short count on
return, so every loan also has an outbox row) and writes each loan id to a
pipe only after its last commit. The test kills it at random moments, 220
times, then checks that SQLite is intact and that every reported loan is
there with its events and its alert.

Children are forked from the test process (already warm), so each life costs
milliseconds, not an interpreter start-up.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import time

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Loan, Outbox, Staff, open_database
from kiosk.service import LoanService
from kiosk.settings import Settings
from kiosk.views import Checklist, Outcome

KILLS = 220
ITEMS = ["B1", "B2", "B3"]


def _child(settings: Settings, write_fd: int, seed: int) -> None:
    """Runs in the forked child until killed. Never returns."""
    try:
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
                os.write(write_fd, f"{result.loan.id}\n".encode())
    finally:
        os._exit(1)


@pytest.fixture
def crash_db(settings: Settings) -> Settings:
    db = open_database(settings.kiosk.db)
    Staff.create(staff_id="S1", name="Amira Khan", badge_uid="A1")
    for n, uid in enumerate(ITEMS):
        Item.create(asset_tag=f"T{n}", name=f"Trolley {n}", kind="trolley_key", tag_uid=uid,
                    contents=[{"name": "iPads", "count": 30}])
    db.close()
    return settings


def test_sigkill_at_random_moments_loses_no_reported_loan(crash_db: Settings) -> None:
    rng = random.Random(20261122)
    reported: list[int] = []
    for life in range(KILLS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(crash_db, write_fd, life)
        os.close(write_fd)
        deadline = time.monotonic() + rng.uniform(0.0, 0.04)
        buffer = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                buffer += os.read(read_fd, 65536)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        while chunk := os.read(read_fd, 65536):  # what was written before the kill
            buffer += chunk
        os.close(read_fd)
        # Only whole lines were reported; a pipe write of a short line is atomic.
        reported += [int(line) for line in buffer.decode().splitlines()]

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
    open_per_item = [Loan.select().where(Loan.item == i, Loan.closed_at.is_null()).count()
                     for i in Item.select()]
    assert max(open_per_item) <= 1
    db.close()

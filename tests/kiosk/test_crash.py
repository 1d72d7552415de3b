"""Power cuts: a writer killed with SIGKILL at random moments loses nothing it reported.

A child process signs items out and back in a loop (with a short count on
return, one fewer than should be there, so every loan also has an outbox row and
an open problem) and writes each loan id to a pipe only after its last commit. The test kills it at random moments, 220
times, then checks that SQLite is intact and that every reported loan is
there with its events and its alert.

The moments are random in the child's own work, not in wall-clock time: each
life waits until the child says it is ready (and, every other life, until it
has reported a loan), then kills it a random fraction of a few loan cycles
later, a cycle being what this run measured. So the kills land all over the
loop on a fast server, a Pi or an emulator alike, and half the lives report
at least one loan whatever the machine's speed.

Children come from a multiprocessing fork server with the kiosk already
imported: each life costs milliseconds, not an interpreter start-up, and the
server is single-threaded, so a fork never inherits a lock held by one of the
test process's own threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import sqlite3
import statistics
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Loan, Outbox, Problem, Staff, open_database
from kiosk.loans import LoanService
from kiosk.settings import Settings
from kiosk.views import Checklist, Outcome

KILLS = 220
ITEMS = ["B1", "B2", "B3"]
READY = b"ready"
#: How long a child may take to say it is ready or to report its first loan. Only a hung
#: child gets near it; it is not a kill window.
STALL_SECONDS = 120.0
#: A kill lands this many measured loan cycles after the life's start point, at most.
KILL_SPREAD_CYCLES = 4.0


def _child(settings: Settings, conn: Connection, seed: int) -> None:
    """Runs in the child until killed."""
    open_database(settings.kiosk.db)
    clock = ManualClock()
    service = LoanService(settings, clock)
    rng = random.Random(seed)
    conn.send_bytes(READY)
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
            # What should be there is the contents less the shortfalls still open.
            short = result.expected[0].count - 1
            service.save_checklist(result.loan.id, Checklist(counts={"iPads": short}))
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
            # Each loan comes back one short: enough for every loan the test can make.
            contents=[{"name": "iPads", "count": 1_000_000}],
        )
    db.close()
    return settings


class Life:
    """One child's life: what it reported, and when (for the loan cycle's length)."""

    def __init__(self, reader: Connection, child: BaseProcess) -> None:
        self.reader = reader
        self.child = child
        self.ready = False
        self.reported: list[int] = []
        self.times: list[float] = []

    def take(self, timeout: float) -> bool:
        """Read one whole message if one comes within ``timeout``."""
        if not self.reader.poll(timeout):
            return False
        message = self.reader.recv_bytes()
        if message == READY:
            self.ready = True
        else:
            self.reported.append(int(message))
        self.times.append(time.monotonic())
        return True

    def wait_until(self, reports: int) -> None:
        """Until the child is ready and has reported ``reports`` loans (events, not time)."""
        deadline = time.monotonic() + STALL_SECONDS
        while not self.ready or len(self.reported) < reports:
            try:
                took = self.take(0.5)
            except EOFError:
                took = False
            if not took:
                assert self.child.is_alive(), f"the child died by itself ({self.child.exitcode})"
                assert time.monotonic() < deadline, "the child stopped making progress"

    def drain(self) -> None:
        """Every whole message sent before the kill; a torn last one is not a report."""
        with contextlib.suppress(EOFError, OSError, ValueError):
            while self.take(0):
                continue


def test_sigkill_at_random_moments_loses_no_reported_loan(crash_db: Settings) -> None:
    rng = random.Random(20261122)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["kiosk.loans", "tests.kiosk.test_crash"])
    reported: list[int] = []
    cycles: list[float] = []  # seconds between two reports, as measured in this run
    for life in range(KILLS):
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(crash_db, writer, life), daemon=True)
        child.start()
        writer.close()
        this = Life(reader, child)
        # The first lives measure the loop; then every other life waits for one report.
        this.wait_until(reports=3 if len(cycles) < 3 else life % 2)
        cycles += [b - a for a, b in zip(this.times, this.times[1:], strict=False)][1:]
        cycle = statistics.median(cycles[-50:]) if cycles else 0.01
        time.sleep(rng.uniform(0.0, KILL_SPREAD_CYCLES) * cycle)  # a random point of the loop
        child.kill()  # SIGKILL: no clean-up, no flush, as in a power cut
        child.join()
        this.drain()
        reported += this.reported
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
        assert Problem.get_or_none(Problem.loan == loan_id, Problem.kind == "short") is not None
    open_per_item = [
        Loan.select().where(Loan.item == i, Loan.closed_at.is_null()).count() for i in Item.select()
    ]
    assert max(open_per_item) <= 1
    db.close()

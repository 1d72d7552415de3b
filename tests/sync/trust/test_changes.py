"""The kiosk's change journal, without a server: what a batch holds, and no journal without a trust."""

from __future__ import annotations

import threading
from pathlib import Path

from kiosk.clock import ManualClock
from kiosk.db import Item, Staff, open_database, write
from kiosk.settings import settings_from
from sync.delivery import Deliverer
from sync.runner import run_pass
from sync.trust.changes import ChangeJournal


def test_a_batch_holds_current_rows_and_deletes(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    db = open_database(path)
    journal = ChangeJournal(path)
    try:
        a = Staff.create(staff_id="S1", name="Amira Khan", badge_uid="04A1B2C3")
        b = Staff.create(staff_id="S2", name="Ben Ortiz")
        with write():
            Staff.update(name="Amira K").where(Staff.id == a.id).execute()
            Staff.delete().where(Staff.id == b.id).execute()
        batch = journal.read_batch(0, 100)
        assert batch is not None and batch.entries == 4
        assert batch.rows["staff"] == [(a.id, "Amira K", "", "staff", 1)]  # as it is now
        assert batch.deleted == {"staff": [b.id]}
        assert journal.read_batch(batch.last_seq, 100) is None
        # Pruning keeps the counter: a later seq is never one handed out before.
        journal.prune(batch.last_seq)
        Item.create(asset_tag="A1", name="Camera", tag_uid="0499AA01")
        later = journal.read_batch(0, 100)
        assert later is not None and later.last_seq == batch.last_seq + 1
        assert journal.state().max_seq == later.last_seq
    finally:
        journal.close()
        db.close()


def test_without_a_trust_the_journal_cannot_grow(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    db = open_database(path)
    settings = settings_from({"kiosk": {"db": str(path)}})
    clock = ManualClock()
    journal = ChangeJournal(path)
    deliverer = Deliverer(settings, clock)
    try:
        Staff.create(staff_id="S1", name="Amira Khan")
        before = journal.state()
        assert before.pending
        report = run_pass(settings, clock, deliverer, threading.Event())
        after = journal.state()
        assert report.trust is None
        assert not after.pending
        # A trust set up later must not trust a journal with holes: it reconciles in full.
        assert after.incarnation != before.incarnation
    finally:
        deliverer.close()
        journal.close()
        db.close()

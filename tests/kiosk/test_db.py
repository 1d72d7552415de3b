"""Storage: SQLite settings, the one-open-loan index, migrations and clear storage errors."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import peewee as pw
import pytest

from kiosk import db as store
from kiosk.db import (
    MODELS,
    SCHEMA_VERSION,
    Event,
    Item,
    Loan,
    Outbox,
    PersonalCall,
    Staff,
    UnknownTag,
    open_database,
    schema_version,
)
from kiosk.errors import StorageError

DATA = Path(__file__).parent.parent / "data"


def test_pragmas_that_keep_records_safe(db):
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS


def test_write_transactions_begin_immediate(db, tiny_school):
    # A second connection holding a read transaction must not stop our write, and a
    # second writer must wait for the lock rather than fail half-way.
    db.execute_sql("PRAGMA busy_timeout = 200")  # keep the test quick
    other = sqlite3.connect(db.database, timeout=0.1, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StorageError, match="busy"), store.write():
        pass
    other.execute("ROLLBACK")
    other.close()


def test_one_open_loan_per_item_is_enforced_by_the_database(db, tiny_school, clock):
    Loan.create(item=tiny_school.ball, borrower=tiny_school.khan, out_at=clock.now())
    raw = sqlite3.connect(db.database)
    with pytest.raises(sqlite3.IntegrityError):
        raw.execute(
            "INSERT INTO loan (item_id, borrower_id, out_at, out_clock_synced, trip, off_site,"
            " condition_note, anonymised) VALUES (?, ?, '2026-01-01 00:00:00.000000', 1, '',"
            " 0, '', 0)",
            (tiny_school.ball.id, tiny_school.jones.id),
        )
    raw.close()


def test_models_match_the_migrated_schema(db):
    for model in MODELS:
        columns = {c.name for c in db.get_columns(model._meta.table_name)}
        fields = {f.column_name for f in model._meta.sorted_fields}
        assert fields == columns, model.__name__


def test_database_made_by_the_first_schema_opens_and_keeps_every_row(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(DATA / "schema_v1.db", path)
    before = sqlite3.connect(path)
    counts = {
        t: before.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("staff", "item", "loan", "event", "outbox", "personal_call", "unknown_tag")
    }
    before.close()
    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION
    assert counts == {
        "staff": Staff.select().count(),
        "item": Item.select().count(),
        "loan": Loan.select().count(),
        "event": Event.select().count(),
        "outbox": Outbox.select().count(),
        "personal_call": PersonalCall.select().count(),
        "unknown_tag": UnknownTag.select().count(),
    }
    open_loan = Loan.get(Loan.closed_at.is_null())
    assert open_loan.trip == "Swimming"
    assert open_loan.borrower is not None and open_loan.borrower.name == "John Jones"
    assert Loan.get_by_id(1).checklist == {"damage": "", "images_erased": True}
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The one-open-loan rule survives migration.
    with pytest.raises(pw.IntegrityError):
        Loan.create(item=open_loan.item, borrower=open_loan.borrower, out_at=open_loan.out_at)
    db.close()


def test_database_from_a_newer_kiosk_is_refused(tmp_path):
    path = tmp_path / "new.db"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StorageError, match="written by a newer kiosk"):
        open_database(path)


def test_a_file_that_is_not_a_database_says_restore_a_backup(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StorageError, match=r"damaged\. Restore last night's backup"):
        open_database(path)


def test_read_only_database_gives_a_clear_message(tiny_school, db):
    db.execute_sql("PRAGMA query_only = 1")  # SQLite now refuses writes as for a read-only file
    with pytest.raises(StorageError, match="cannot be written"), store.write():
        Staff.create(staff_id="X", name="X")
    assert Staff.select().where(Staff.staff_id == "X").count() == 0


def test_full_disk_gives_a_clear_message():
    exc = sqlite3.OperationalError("database or disk is full")
    text = store.explain_sqlite_error(exc, "/var/lib/kiosk/kiosk.db")
    assert "SD card is full" in text and "free some space" in text


def test_screen_process_checkpoints_when_idle_not_inside_a_tap(settings, clock):
    import threading

    from kiosk.db import SCREEN_WAL_AUTOCHECKPOINT
    from kiosk.journal import Journal
    from kiosk.loans import LoanService

    db = open_database(settings.kiosk.db, wal_autocheckpoint=SCREEN_WAL_AUTOCHECKPOINT)
    assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == SCREEN_WAL_AUTOCHECKPOINT
    service = LoanService(settings, clock)
    journal = Journal(clock)
    for n in range(50):
        journal.event("test", detail={"n": n})

    def rows_in_the_file() -> int | None:
        """What the database file itself holds, ignoring the WAL (immutable read)."""
        raw = sqlite3.connect(f"file:{settings.kiosk.db}?immutable=1", uri=True)
        try:
            return int(raw.execute("SELECT count(*) FROM event").fetchone()[0])
        except sqlite3.DatabaseError:
            return None  # not even the tables are in the file yet
        finally:
            raw.close()

    assert rows_in_the_file() in (None, 0)  # the commits are in the WAL only
    worker = threading.Thread(target=service.checkpoint)
    worker.start()
    worker.join()
    assert rows_in_the_file() == 50
    assert Event.select().count() == 50
    db.close()

"""Replication equals the kiosk's own data, whatever happens between them.

Each case ends with the same check: every replicated row of every table on the
server is exactly what the kiosk has now (``assert_replica_equals``): none lost,
none doubled, none left over. The server is a real PostgreSQL (conftest).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk import backup as bk
from kiosk.db import Item, Loan, Staff, open_database, write
from kiosk.retention import purge
from kiosk.views import Checklist
from sync.trust.changes import ChangeJournal
from sync.trust.connect import TrustError
from tests.sync.trust.conftest import Kiosk, TrustDB, assert_replica_equals
from tests.sync.trust.pgcluster import PgCluster


def journal_size(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("SELECT count(*) FROM change_journal").fetchone()[0])
    finally:
        con.close()


def test_first_push_sends_everything_then_only_changes(trust_db: TrustDB, hillside: Kiosk) -> None:
    hillside.sign_out("amira", "camera")
    first = hillside.push()
    assert first.error == "" and first.reconciled
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)
    assert journal_size(hillside.path) == 0

    # Updates after insert: a loan closes, an item's status changes, a person leaves.
    hillside.give_back("camera")
    hillside.bind()
    with write():
        Item.update(status="damaged").where(Item.asset_tag == "LK1").execute()
        Staff.update(active=False).where(Staff.staff_id == "S2").execute()
    second = hillside.push()
    assert second.error == "" and not second.reconciled and second.rows > 0
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)
    closed = trust_db.replica(hillside.kiosk_id)["loan"][0]
    assert closed[8] is not None  # closed_at arrived

    # Nothing new: no contact with the server at all.
    idle = hillside.push()
    assert not idle.contacted and idle.rows == 0


def test_retention_and_deletes_reach_the_trust(trust_db: TrustDB, hillside: Kiosk) -> None:
    loan_id = hillside.sign_out("amira", "trolley")
    hillside.give_back("trolley")
    hillside.service.save_checklist(loan_id, Checklist(counts={"iPads": 30}, damage=""))
    hillside.push()
    # Long after: the loan is anonymised on the kiosk, and so in the trust's copy.
    hillside.clock.advance(500 * 86400)
    hillside.bind()
    purge(hillside.service.settings.retention, hillside.clock)
    with write():
        Item.delete().where(Item.asset_tag == "LK1").execute()  # never lent: may go
    assert hillside.push().error == ""
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)
    loan = trust_db.replica(hillside.kiosk_id)["loan"]
    assert [(r[2], r[12]) for r in loan] == [(None, True)]  # no borrower, anonymised
    assert "LK1" not in [r[1] for r in trust_db.replica(hillside.kiosk_id)["item"]]


def test_no_uids_pins_emails_or_free_text_leave_the_kiosk(
    trust_db: TrustDB, hillside: Kiosk
) -> None:
    hillside.sign_out("amira", "phone")
    hillside.bind()
    hillside.service.enrol_tag("0499AAFF", staff_pk=hillside.staff["ben"].id)
    assert hillside.push().error == ""
    secrets = ["04A1B2C3", "04D4E5F6", "0499AA0", "0499AAFF", "pbkdf2", "hillside.example",
               "kept in the office"]  # fmt: skip
    with trust_db.admin() as conn:
        dump = "\n".join(
            str(row)
            for table in ("staff", "item", "loan", "event", "kiosk", "school")
            for row in conn.execute(f"SELECT * FROM trust.{table}").fetchall()
        )
    assert "Amira Khan" in dump  # names are sent ...
    for secret in secrets:  # ... but never these
        assert secret not in dump


def test_seven_days_offline(trust_db: TrustDB, hillside: Kiosk) -> None:
    hillside.push()
    for _day in range(7):
        for who, what in (("amira", "camera"), ("ben", "trolley"), ("ben", "laptops")):
            hillside.sign_out(who, what)
            hillside.clock.advance(3600)
            hillside.give_back(what)
        hillside.clock.advance(86400 - 3 * 3610)
    assert journal_size(hillside.path) > 50
    report = hillside.push(batch_size=7)  # many small batches
    assert report.error == "" and report.batches > 5
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)
    assert journal_size(hillside.path) == 0
    assert len(trust_db.replica(hillside.kiosk_id)["loan"]) == 21


def test_server_stopped_for_a_while_then_started(
    pg: PgCluster, trust_db: TrustDB, hillside: Kiosk
) -> None:
    hillside.sign_out("amira", "camera")
    pusher = hillside.pusher(connect_timeout_seconds=2)
    try:
        assert pusher.push().error == ""
        pg.stop()
        try:
            hillside.give_back("camera")
            hillside.sign_out("ben", "phone")
            down = pusher.push()
            assert down.error and "not reachable" in down.error and not down.caught_up
            assert journal_size(hillside.path) > 0  # kept for later
        finally:
            pg.start()
        back = pusher.push()  # the same pusher reconnects
        assert back.error == ""
    finally:
        pusher.close()
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)


def test_restore_from_backup_reconciles_and_row_ids_reused(
    trust_db: TrustDB, hillside: Kiosk, tmp_path: Path
) -> None:
    hillside.sign_out("amira", "camera")
    hillside.push()
    saved = bk.backup(hillside.path, tmp_path / "backups")
    # After the backup: loans the restore will take away, sent to the trust.
    lost_future = [hillside.sign_out("ben", "trolley"), hillside.sign_out("ben", "laptops")]
    hillside.push()
    assert len(trust_db.replica(hillside.kiosk_id)["loan"]) == 3

    hillside.db.close()
    bk.restore(hillside.path, saved.path, keep_dir=tmp_path / "kept", force=True)
    hillside.db = open_database(hillside.path)
    # The restored kiosk goes on: new loans reuse the ids the lost ones had.
    reused = hillside.sign_out("amira", "phone")
    assert reused == lost_future[0]
    report = hillside.push()
    assert report.error == "" and report.reconciled
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)
    loans = trust_db.replica(hillside.kiosk_id)["loan"]
    assert len(loans) == 2 and loans[1][1] == hillside.items["phone"].id


def test_a_file_copied_back_by_hand_is_caught_by_the_high_water_mark(
    trust_db: TrustDB, hillside: Kiosk, tmp_path: Path
) -> None:
    """Not ``kiosk restore``: the old file is copied over the database, incarnation and all."""
    hillside.sign_out("amira", "camera")
    hillside.push()
    copy = tmp_path / "copy.db"
    hillside.db.close()
    shutil.copyfile(hillside.path, copy)
    hillside.db = open_database(hillside.path)
    hillside.give_back("camera")
    hillside.sign_out("ben", "trolley")
    hillside.push()
    hillside.db.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{hillside.path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy, hillside.path)
    hillside.db = open_database(hillside.path)
    hillside.sign_out("ben", "phone")  # one change: its seq is below what the server has
    report = hillside.push()
    assert report.error == "" and report.reconciled
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)


def test_two_kiosks_in_one_school(trust_db: TrustDB, kiosk_factory: Callable[..., Kiosk]) -> None:
    school = trust_db.school(trust_db.unique("oakfield"), "Oakfield Primary")
    office, staffroom = kiosk_factory("office"), kiosk_factory("staffroom")
    for k, name in ((office, "office"), (staffroom, "staffroom")):
        k.kiosk_id = trust_db.unique(f"oakfield-{name}")
        k.conninfo = trust_db.kiosk(k.kiosk_id, school).conninfo
    office.sign_out("amira", "camera")
    staffroom.sign_out("ben", "trolley")  # the same row ids in both kiosks
    staffroom.sign_out("amira", "phone")
    assert office.push().error == "" and staffroom.push().error == ""
    office.give_back("camera")
    assert office.push().error == ""
    assert_replica_equals(trust_db, office.kiosk_id, office.path)
    assert_replica_equals(trust_db, staffroom.kiosk_id, staffroom.path)
    with trust_db.admin() as conn:
        open_loans = conn.execute(
            "SELECT kiosk_id, id FROM trust.loan WHERE school_id = %s AND closed_at IS NULL "
            "ORDER BY kiosk_id, id",
            (school,),
        ).fetchall()
    assert open_loans == [(staffroom.kiosk_id, 1), (staffroom.kiosk_id, 2)]


def test_a_second_sync_process_cannot_interleave(trust_db: TrustDB, hillside: Kiosk) -> None:
    hillside.sign_out("amira", "camera")
    hillside.push()
    hillside.give_back("camera")
    a, b = hillside.pusher(), hillside.pusher()
    try:
        # b read its batch when the server had applied up to here; a then moves it on.
        stale = b.journal.read_batch(0, 500)
        assert stale is not None
        assert a.push().error == ""
        # The race, made deterministic: b sends the batch it read before a moved on.
        me = b._whoami(b._connection())
        with pytest.raises(TrustError, match="at the same time"):
            b._send(b._connection(), me, b.journal.state().incarnation, 0, stale)
    finally:
        a.close()
        b.close()
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)


def test_the_journal_is_written_with_the_change_and_only_with_it(hillside: Kiosk) -> None:
    hillside.bind()
    before = journal_size(hillside.path)
    with pytest.raises(RuntimeError, match="power cut"), write():
        Staff.update(name="Nobody").execute()
        raise RuntimeError("power cut")
    assert journal_size(hillside.path) == before
    loan_id = hillside.sign_out("amira", "camera")
    journal = ChangeJournal(hillside.path)
    try:
        journal.prune(journal.state().max_seq)  # as if sent
        later = hillside.clock.now() + timedelta(hours=5)
        with write():
            Loan.update(due_at=later).where(Loan.id == loan_id).execute()
        batch = journal.read_batch(0, 10_000)
    finally:
        journal.close()
    assert batch is not None and batch.entries == 1
    assert [r[0] for r in batch.rows["loan"]] == [loan_id]


def test_an_unregistered_login_is_told_what_to_do(trust_db: TrustDB, hillside: Kiosk) -> None:
    with trust_db.admin() as conn:
        conn.execute("DELETE FROM trust.kiosk WHERE kiosk_id = %s", (hillside.kiosk_id,))
    hillside.sign_out("amira", "camera")
    report = hillside.push()
    assert "kiosk trust add-kiosk" in report.error
    assert journal_size(hillside.path) > 0


def test_times_corrected_after_the_clock_is_set_are_corrected_in_the_trust(
    trust_db: TrustDB, hillside: Kiosk
) -> None:
    """A Pi boots 3 days behind, lends, pushes; NTP answers; the corrected times follow."""
    from kiosk.loans.clockfix import correct_times

    wrong_by = timedelta(days=-3)
    hillside.clock.wall, hillside.clock.synced = hillside.clock.wall + wrong_by, False
    loan_id = hillside.sign_out("amira", "camera")
    assert hillside.push().error == ""
    wrong = trust_db.replica(hillside.kiosk_id)["loan"][0][3]
    hillside.clock.advance(300)
    hillside.clock.jump(-wrong_by.total_seconds())
    hillside.clock.synced = True
    hillside.bind()
    assert correct_times(hillside.service.settings, hillside.clock) is not None
    assert hillside.push().error == ""
    assert_replica_equals(trust_db, hillside.kiosk_id, hillside.path)
    (row,) = [r for r in trust_db.replica(hillside.kiosk_id)["loan"] if r[0] == loan_id]
    assert row[3] - wrong == -wrong_by  # out_at moved by the correction

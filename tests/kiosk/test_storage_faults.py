"""A full SD card: the message says so, nothing is recorded half-way, and taps recover alone.

Two ways of filling the card, so that the class is always tested:

- injected at the connection: ``PRAGMA max_page_count`` makes SQLite itself answer
  SQLITE_FULL (and roll the transaction back on its own, the case that used to be
  reported as "cannot rollback - no transaction is active"); this runs everywhere;
- for real: a 4 MB tmpfs filled to the last byte (``small_card``, needs root to mount;
  skipped with the reason elsewhere).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import peewee as pw
import pytest

from kiosk import db as store
from kiosk.clock import CLOCK_ENV, ManualClock
from kiosk.db import Event, Item, Loan, Staff, open_database
from kiosk.errors import StorageError
from kiosk.loans import LoanService
from kiosk.settings import Settings, load_settings
from kiosk.views import Outcome, TapResult
from tests.conftest import MONDAY_9AM, SmallCard

KIOSK = str(Path(sys.executable).with_name("kiosk"))
BADGE, BALL = "A0000001", "B0000001"
FULL = "SD card is full"


def settings_for(folder: Path, db_path: Path) -> Settings:
    toml = folder / "kiosk.toml"
    toml.write_text(f'[kiosk]\ndb = "{db_path}"\n', encoding="utf-8")
    return load_settings(toml, env={})


def small_school(db_path: Path) -> pw.SqliteDatabase:
    db = open_database(db_path)
    Staff.create(staff_id="S1", name="Amira Khan", badge_uid=BADGE, classes="5B")
    Item.create(asset_tag="PE-1", name="PE ball bag", kind="other", tag_uid=BALL)
    return db


def consistent() -> None:
    """Every loan has its sign-out event, every closed loan its return: nothing half-way."""
    loans = Loan.select().count()
    assert Event.select().where(Event.action == "sign_out").count() == loans
    closed = Loan.select().where(Loan.closed_at.is_null(False)).count()
    assert Event.select().where(Event.action == "return").count() == closed
    assert Loan.select().where(Loan.closed_at.is_null()).count() <= 1


def tap_until_full(service: LoanService, clock: ManualClock, limit: int = 3000) -> StorageError:
    """Badge, ball out, ball back, ... as a busy morning would, until a tap is not saved."""
    uids = [BADGE, BALL, BALL]
    for n in range(limit):
        clock.advance(3)
        try:
            result = service.tap(uids[n % 3])
        except StorageError as exc:
            return exc
        assert result.outcome is not Outcome.REFUSED, result
        if n % 3 == 1:
            service.end_session()
    raise AssertionError(f"the card never filled up in {limit} taps")


def test_card_full_at_the_connection_says_so_and_the_next_tap_works(tmp_path: Path) -> None:
    db_path = tmp_path / "kiosk.db"
    db = small_school(db_path)
    clock = ManualClock(wall=MONDAY_9AM, mono=1000.0)
    service = LoanService(settings_for(tmp_path, db_path), clock)
    pages = int(db.execute_sql("PRAGMA page_count").fetchone()[0])
    db.execute_sql(f"PRAGMA max_page_count = {pages}")  # not one page more: a full card

    error = tap_until_full(service, clock)

    message = str(error)
    assert FULL in message and "free some space" in message
    assert "rollback" not in message and "Database problem" not in message
    assert store.sqlite_error_name(error) == "SQLITE_FULL"
    consistent()
    # The card has room again (the IT lead deleted old backups): no restart, and the
    # same tag tapped again at once is a new tap, not a double tap to ignore.
    db.execute_sql(f"PRAGMA max_page_count = {pages + 1000}")
    retried = tap_until_done(service, clock)
    assert retried.outcome is not Outcome.IGNORED
    consistent()
    db.close()


def tap_until_done(service: LoanService, clock: ManualClock) -> TapResult:
    """After a failed tap: the same person taps their badge, then the ball, again."""
    clock.advance(0.5)  # well inside the double-tap window of the failed tap
    first = service.tap(BADGE)
    assert first.outcome is Outcome.SESSION_STARTED, first
    clock.advance(3)
    second = service.tap(BALL)
    assert second.outcome in (Outcome.SIGNED_OUT, Outcome.RETURNED), second
    return first


def test_a_failed_tap_leaves_the_session_as_it_was(tmp_path: Path) -> None:
    """A badge tap that cannot be saved starts no session: the next item tap asks for it."""
    db_path = tmp_path / "kiosk.db"
    db = small_school(db_path)
    clock = ManualClock(wall=MONDAY_9AM, mono=1000.0)
    service = LoanService(settings_for(tmp_path, db_path), clock)
    pages = int(db.execute_sql("PRAGMA page_count").fetchone()[0])
    db.execute_sql(f"PRAGMA max_page_count = {pages}")
    while True:
        clock.advance(3)
        service.end_session()
        try:
            service.tap(BADGE)
        except StorageError:
            break
    clock.advance(3)
    assert service.session_staff_id is None
    refused = service.tap(BALL)  # asks for the badge; records nothing, so it still works
    assert refused.message == "Tap your badge first,"
    assert Loan.select().count() == 0
    db.close()


def test_the_rollback_after_sqlites_own_rollback_does_not_replace_the_error(
    tmp_path: Path,
) -> None:
    db = open_database(tmp_path / "kiosk.db")
    pages = int(db.execute_sql("PRAGMA page_count").fetchone()[0])
    db.execute_sql(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageError) as caught, store.write():
        db.execute_sql("CREATE TABLE scratch (x TEXT)")
        db.execute_sql("INSERT INTO scratch VALUES (?)", ("x" * 100_000,))
    assert FULL in str(caught.value)
    assert not db.connection().in_transaction
    with store.write():  # the connection is usable again at once
        Staff.create(staff_id="S9", name="Ben Ortiz")
    db.close()


# --- a real full file system -------------------------------------------------------------


def test_taps_on_a_really_full_card_say_so_and_recover_when_space_is_freed(
    small_card: SmallCard, tmp_path: Path
) -> None:
    db_path = small_card.path / "kiosk.db"
    db = small_school(db_path)
    clock = ManualClock(wall=MONDAY_9AM, mono=1000.0)
    service = LoanService(settings_for(tmp_path, db_path), clock)
    assert service.tap(BADGE).outcome is Outcome.SESSION_STARTED
    service.end_session()
    small_card.fill()

    error = tap_until_full(service, clock, limit=30)

    assert FULL in str(error) and "rollback" not in str(error)
    consistent()
    small_card.free()
    tap_until_done(service, clock)
    consistent()
    db.close()


def run_kiosk(*args: str, folder: Path) -> subprocess.CompletedProcess[str]:
    empty = folder / "empty.toml"
    empty.touch()
    return subprocess.run(
        [KIOSK, *args],
        capture_output=True,
        text=True,
        env={
            "KIOSK_CONFIG": str(empty),
            "PATH": "/usr/bin:/bin",
            CLOCK_ENV: MONDAY_9AM.isoformat(),
        },
        timeout=60,
        check=False,
    )


def test_status_on_a_full_card_says_the_card_is_full(small_card: SmallCard, tmp_path: Path) -> None:
    """Opening a WAL database needs room for its -shm file: a plain "disk I/O error" before."""
    db_path = small_card.path / "kiosk.db"
    small_school(db_path).close()  # closed cleanly: no -wal or -shm left
    small_card.fill()

    r = run_kiosk("status", "--db", str(db_path), folder=tmp_path)

    assert r.returncode == 4, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and FULL in lines[0], r.stderr
    assert "disk I/O error" not in r.stderr
    small_card.free()
    r = run_kiosk("status", "--db", str(db_path), folder=tmp_path)
    assert r.returncode == 0 and "Nothing is out." in r.stdout, r.stderr


def test_an_io_error_with_room_on_the_card_is_not_called_a_full_card(tmp_path: Path) -> None:
    exc = sqlite3.OperationalError("disk I/O error")
    text = store.explain_sqlite_error(exc, tmp_path / "kiosk.db")
    assert FULL not in text and "could not be read or written" in text


# --- files that are not the school's database ----------------------------------------------


def test_an_empty_database_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    db_path = tmp_path / "kiosk.db"
    db_path.touch()  # what a failed copy or a full card can leave behind

    r = run_kiosk("status", "--db", str(db_path), folder=tmp_path)

    assert r.returncode == 4 and r.stdout == "", r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "is empty" in lines[0] and "--new-database" in lines[0], r.stderr
    assert "Nothing is out" not in r.stdout
    assert db_path.stat().st_size == 0
    assert not db_path.with_name("kiosk.db-wal").exists()


def test_an_empty_file_becomes_a_new_database_only_when_asked(tmp_path: Path) -> None:
    db_path = tmp_path / "kiosk.db"
    db_path.touch()
    r = run_kiosk("status", "--db", str(db_path), "--new-database", folder=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("Nothing is out."), r.stderr
    r = run_kiosk("status", "--db", str(db_path), folder=tmp_path)  # a kiosk database now
    assert r.returncode == 0, r.stderr


def test_an_sqlite_file_with_no_tables_counts_as_empty(tmp_path: Path) -> None:
    db_path = tmp_path / "kiosk.db"
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA journal_mode = wal")  # SQLite's header and nothing else
    raw.close()
    assert db_path.stat().st_size > 0
    with pytest.raises(StorageError, match="is empty"):
        open_database(db_path)
    open_database(db_path, new_database=True).close()


def test_another_programs_database_is_refused_even_when_a_new_one_is_asked_for(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "photos.db"
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    raw.commit()
    raw.close()

    r = run_kiosk("status", "--db", str(db_path), "--new-database", folder=tmp_path)

    assert r.returncode == 4
    assert "not the kiosk's (its tables: photos)" in r.stderr
    raw = sqlite3.connect(db_path)
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    raw.close()
    assert tables == {"photos"}


# --- a database the kiosk may not write ------------------------------------------------------

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def as_the_kiosk_user() -> None:
    """In the child: file permissions apply, as to the kiosk's own user (root ignores them).

    Root keeps its uid (the test's Python is in root's home) but loses the capabilities
    that override permissions, so a file that is 0444 is read-only to it as to anyone.
    """
    if os.geteuid() != 0:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_under_systemd(
    config: Path, folder: Path, preexec: Callable[[], None] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``kiosk run`` with a (socket-level) systemd; returns what it said to systemd too."""
    notify = folder / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        r = subprocess.run(
            [KIOSK, "run", "--config", str(config), "--exit-when-ready"],
            capture_output=True,
            text=True,
            env={
                "PATH": "/usr/bin:/bin",
                "NOTIFY_SOCKET": str(notify),
                CLOCK_ENV: MONDAY_9AM.isoformat(),
            },
            timeout=60,
            check=False,
            preexec_fn=preexec,
        )
        sock.setblocking(False)  # the process has ended: everything it sent is queued
        said: list[str] = []
        with contextlib.suppress(BlockingIOError):
            while True:
                said.append(sock.recv(256).decode())
    return r, said


def kiosk_toml(folder: Path, db_path: Path) -> Path:
    config = folder / "kiosk.toml"
    config.write_text(
        f'[kiosk]\ndb = "{db_path}"\n\n[hardware]\nreaders = ["keyboard"]\nfeedback = "none"\n',
        encoding="utf-8",
    )
    return config


def test_kiosk_run_on_a_read_only_database_never_reports_ready(tmp_path: Path) -> None:
    db_path = tmp_path / "kiosk.db"
    small_school(db_path).close()
    db_path.chmod(0o444)
    probe = subprocess.run(
        ["/bin/sh", "-c", f"echo x >> {db_path}"],
        preexec_fn=as_the_kiosk_user,
        capture_output=True,
        check=False,
    )
    if probe.returncode == 0:
        pytest.skip("this process cannot give up root's right to write any file")

    r, said = run_under_systemd(kiosk_toml(tmp_path, db_path), tmp_path, as_the_kiosk_user)

    assert r.returncode == 4, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot be written (read-only)" in lines[0], r.stderr
    assert "READY=1" not in said


def test_kiosk_run_on_a_card_remounted_read_only_never_reports_ready(
    small_card: SmallCard, tmp_path: Path
) -> None:
    db_path = small_card.path / "kiosk.db"
    small_school(db_path).close()
    small_card.read_only()

    r, said = run_under_systemd(kiosk_toml(tmp_path, db_path), tmp_path)

    assert r.returncode == 4, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "read-only file system" in lines[0], r.stderr
    assert "READY=1" not in said


def test_kiosk_run_on_a_writable_database_reports_ready(tmp_path: Path) -> None:
    """The same check lets a database the kiosk may write through, and changes nothing."""
    db_path = tmp_path / "kiosk.db"
    small_school(db_path).close()
    r, said = run_under_systemd(kiosk_toml(tmp_path, db_path), tmp_path, as_the_kiosk_user)
    assert r.returncode == 0, r.stderr
    assert said[0] == "READY=1"
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert raw.execute("SELECT count(*) FROM staff").fetchone()[0] == 1
    raw.close()

"""Backups of a real SQLite file while another process writes to it; restore; rotation."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk import backup as bk
from kiosk.cli import main
from kiosk.db import SCHEMA_VERSION, Event, Item, Staff, open_database, write

# A second process that does what the kiosk does: open the database the kiosk's
# way and commit, over and over, a staff member and an event in one transaction.
WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from pathlib import Path
    from kiosk.db import Event, Staff, open_database, write

    db = open_database(Path(sys.argv[1]))
    stop = Path(sys.argv[2])
    n = 0
    print("ready", flush=True)
    while not stop.exists():
        with write(db):
            s = Staff.create(staff_id=f"w{n}", name=f"Writer {n}" + "x" * 200)
            Event.create(at=datetime.now(UTC), clock_synced=True, action="test", staff=s)
        n += 1
    db.close()
    """
)

# Holds the database open the way the running kiosk does, until told to stop.
HOLDER = textwrap.dedent(
    """
    import sys
    from kiosk.db import Staff, open_database
    db = open_database(sys.argv[1])
    Staff.select().count()
    print("open", flush=True)
    sys.stdin.read()
    db.close()
    """
)


def rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, for comparing two databases (the incarnation id apart)."""
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                " AND name <> 'replica_meta'"
            )
        ]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}
    finally:
        conn.close()


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def wait_for_rows_beyond(path: Path, rows: int, timeout: float = 60.0) -> None:
    """Until another process has committed more than ``rows`` staff rows."""
    deadline = time.monotonic() + timeout
    while count(path, "staff") <= rows:
        assert time.monotonic() < deadline, f"no new rows beyond {rows} in {timeout} s"
        time.sleep(0.01)


@pytest.fixture
def db_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "state" / "kiosk.db"
    db = open_database(path)
    with write(db):
        for i in range(20):
            s = Staff.create(staff_id=f"S{i}", name=f"Staff {i}", badge_uid=f"B{i:04X}")
            Item.create(asset_tag=f"A{i}", name=f"Camera {i}", kind="camera", tag_uid=f"T{i:04X}")
            Event.create(at=datetime.now(UTC), clock_synced=True, action="import", staff=s)
    db.close()
    yield path


@pytest.fixture
def held_open(db_path: Path) -> Iterator[subprocess.Popen[str]]:
    """The database held open by another process, as the running kiosk holds it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    yield proc
    proc.communicate("", timeout=10)


def test_backup_under_concurrent_writes_is_consistent(db_path: Path, tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        dest = tmp_path / "backups"
        seen: list[int] = []
        start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
        for i in range(6):
            # Each copy starts once the writer has committed more since the last one,
            # however slow the machine is today.
            wait_for_rows_beyond(db_path, seen[-1] if seen else 20)
            result = bk.backup(
                db_path, dest, keep_daily=10, keep_weekly=0, now=start + timedelta(days=i)
            )
            schema, got = bk.check_database(result.path)  # integrity_check again, independently
            assert schema == SCHEMA_VERSION
            # Each writer transaction adds one staff and one event: a torn copy would differ.
            assert got["staff"] - 20 == got["event"] - 20, got
            seen.append(got["staff"])
            # The backup is one self-contained file, not a WAL database.
            conn = sqlite3.connect(result.path)
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            conn.close()
        assert writer.poll() is None, "the writer kept running during every backup"
        assert seen == sorted(seen) and seen[-1] > seen[0] > 20, seen
    finally:
        stop.touch()
        writer.wait(timeout=20)
    assert writer.returncode == 0
    assert count(db_path, "staff") >= seen[-1]


def incarnation(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(
            conn.execute("SELECT value FROM replica_meta WHERE key = 'incarnation'").fetchone()[0]
        )
    finally:
        conn.close()


def test_restore_brings_back_every_row(db_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backups"
    made = bk.backup(db_path, dest)
    expected = rows(db_path)

    # Later changes that the restore must undo.
    db = open_database(db_path)
    with write(db):
        Staff.update(name="Renamed").where(Staff.staff_id == "S3").execute()
        Item.delete().where(Item.asset_tag == "A4").execute()
        Staff.create(staff_id="NEW", name="Later Person")
    db.close()
    assert rows(db_path) != expected

    result = bk.restore(db_path, made.path, keep_dir=dest)
    assert rows(db_path) == expected
    # A new incarnation id: the trust's replica reconciles this kiosk's rows in full.
    assert incarnation(db_path) != incarnation(made.path)
    assert result.rows["staff"] == 20 and result.rows["item"] == 20
    # The replaced database was kept, with the later changes in it.
    assert result.previous is not None
    assert count(result.previous, "staff") == 21
    assert any(r[2] == "Later Person" for r in rows(result.previous)["staff"])
    # The kiosk's own way of opening it still works on the restored file.
    db = open_database(db_path)
    assert Staff.select().count() == 20
    db.close()


def test_restore_discards_the_old_write_ahead_log(db_path: Path, tmp_path: Path) -> None:
    made = bk.backup(db_path, tmp_path / "backups")
    # A crashed kiosk leaves committed work in kiosk.db-wal (not yet in kiosk.db).
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(
        "INSERT INTO staff (staff_id, name, known_as, role, classes, email, active, "
        "inactive_reason, pin_hash) VALUES ('W', 'In the WAL', '', 'staff', '', '', 1, '', '')"
    )
    conn.commit()
    wal = db_path.with_name("kiosk.db-wal")
    saved_wal = wal.read_bytes()
    conn.close()  # closing checkpoints; put the crash-time WAL back
    wal.write_bytes(saved_wal)

    result = bk.restore(db_path, made.path, keep_dir=tmp_path / "backups")
    assert not wal.exists()
    assert count(db_path, "staff") == 20
    assert result.previous is not None and count(result.previous, "staff") == 21


def test_restore_refuses_while_the_database_is_in_use(
    db_path: Path, tmp_path: Path, held_open: subprocess.Popen[str]
) -> None:
    made = bk.backup(db_path, tmp_path / "backups")
    assert bk.database_in_use(db_path)
    with pytest.raises(bk.BackupError, match="in use"):
        bk.restore(db_path, made.path, keep_dir=tmp_path / "backups")
    result = bk.restore(db_path, made.path, keep_dir=tmp_path / "backups", force=True)
    assert result.rows["staff"] == 20


def test_database_not_in_use_once_closed(db_path: Path) -> None:
    db = open_database(db_path)
    db.close()
    assert not bk.database_in_use(db_path)


def test_restore_refuses_files_that_are_not_good_kiosk_databases(
    db_path: Path, tmp_path: Path
) -> None:
    before = rows(db_path)
    keep = tmp_path / "keep"

    text = tmp_path / "notes.db"
    text.write_text("not a database at all, just some text " * 100)
    with pytest.raises(bk.BackupError, match="not a usable kiosk database"):
        bk.restore(db_path, text, keep_dir=keep)

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE pupils (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(bk.BackupError, match="not a kiosk database"):
        bk.restore(db_path, other, keep_dir=keep)

    newer = bk.backup(db_path, tmp_path / "b").path
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(bk.BackupError, match="newer kiosk"):
        bk.restore(db_path, newer, keep_dir=keep)

    damaged = bk.backup(db_path, tmp_path / "c").path
    data = bytearray(damaged.read_bytes())
    page = 4096
    data[page * 2 : page * 2 + 200] = b"\xff" * 200  # scribble over a b-tree page
    damaged.write_bytes(bytes(data))
    with pytest.raises(bk.BackupError, match=r"damaged|not a usable"):
        bk.restore(db_path, damaged, keep_dir=keep)

    with pytest.raises(bk.BackupError, match="no backup file"):
        bk.restore(db_path, tmp_path / "missing.db", keep_dir=keep)

    # Nothing was touched, nothing half-written was left behind.
    assert rows(db_path) == before
    assert not keep.exists()
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["kiosk.db"]


def test_rotation_keeps_seven_days_and_four_weeks(tmp_path: Path) -> None:
    # Two backups a day for 60 days.
    start = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
    stamps = sorted(
        (start + timedelta(days=d, hours=h) for d in range(60) for h in (0, 12)), reverse=True
    )
    keep = bk.to_keep(stamps, keep_daily=7, keep_weekly=4)
    kept = [stamps[i] for i in sorted(keep)]
    days = {k.date() for k in kept}
    assert len(kept) == len(days), "one per day at most"
    newest_days = sorted({s.date() for s in stamps}, reverse=True)[:7]
    assert set(newest_days) <= days
    weeks = {k.isocalendar()[:2] for k in kept}
    assert len(weeks) == 4
    assert stamps[0] in kept
    assert len(kept) <= 7 + 4

    assert bk.to_keep([], 7, 4) == set()
    assert bk.to_keep(stamps, 0, 0) == {0}, "the newest backup is always kept"


def test_backup_rotates_files_on_disk(db_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backups"
    start = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    for d in range(12):
        bk.backup(db_path, dest, keep_daily=3, keep_weekly=2, now=start + timedelta(days=d))
    (dest / "kiosk-20261101-020000.db.partial").write_bytes(b"half")  # a power cut mid-copy
    (dest / "notes.txt").write_text("the school's own file")
    last = bk.backup(db_path, dest, keep_daily=3, keep_weekly=2, now=start + timedelta(days=12))
    names = sorted(p.name for p in dest.iterdir() if p.name != ".lock")
    # Days 13, 12, 11 (Nov 11-13) and the newest of ISO weeks 46 (Nov 13) and 45 (Nov 8).
    assert names == [
        "kiosk-20261108-020000.db",
        "kiosk-20261111-020000.db",
        "kiosk-20261112-020000.db",
        "kiosk-20261113-020000.db",
        "notes.txt",
    ]
    assert [p.name for p in last.removed] == ["kiosk-20261110-020000.db"]


def test_backups_within_one_second_never_collide_and_the_new_one_is_kept(
    db_path: Path, tmp_path: Path
) -> None:
    """``kiosk backup`` run twice in a second used to delete its own new copy, then crash."""
    dest = tmp_path / "backups"
    now = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    made = [bk.backup(db_path, dest, now=now) for _ in range(12)]
    names = [m.path.name for m in made]
    assert names[:3] == [
        "kiosk-20261123-023000.db",
        "kiosk-20261123-023000-2.db",
        "kiosk-20261123-023000-3.db",
    ]
    assert len(set(names)) == 12
    # One backup a day is kept: the newest, which is the one just made (-12 after -9 and -10).
    assert [p.name for _, p in bk.backups_in(dest)] == ["kiosk-20261123-023000-12.db"]
    assert bk.check_database(made[-1].path)[0] == SCHEMA_VERSION


def test_a_backup_named_by_a_clock_that_is_behind_is_not_rotated_away(
    db_path: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "backups"
    start = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    for d in range(7):
        bk.backup(db_path, dest, keep_daily=7, keep_weekly=0, now=start + timedelta(days=d))
    behind = bk.backup(
        db_path, dest, keep_daily=7, keep_weekly=0, now=datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert behind.path.exists() and behind.removed == []
    assert len(bk.backups_in(dest)) == 8


def test_cli_backup_twice_at_once_makes_two_checked_copies(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "backups"
    for _ in range(2):
        assert main(["backup", "--db", str(db_path), "--dest", str(dest)]) == 0
    out, err = capsys.readouterr()
    assert out.count("checked: OK") == 2 and err == ""
    newest = bk.backups_in(dest)[0][1]
    assert f"to {newest} (" in out.splitlines()[-1] or f"to {newest} (" in out
    assert bk.check_database(newest)[0] == SCHEMA_VERSION


def test_copy_to_a_folder_that_is_not_mounted_says_so(db_path: Path, tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    with pytest.raises(bk.BackupError) as info:
        bk.backup(db_path, tmp_path / "backups", copy_to=share, share_root=tmp_path)
    message = str(info.value)
    assert "saved on the Pi" in message and "not a mounted share" in message
    # The local copy was still made and is good.
    assert len(bk.backups_in(tmp_path / "backups")) == 1
    assert list(share.iterdir()) == []

    with pytest.raises(bk.BackupError, match="does not exist"):
        bk.backup(db_path, tmp_path / "backups", copy_to=tmp_path / "nowhere")


def test_copy_to_a_mounted_share(db_path: Path, tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or not bk.on_mounted_share(shm):
        pytest.skip("needs /dev/shm on its own file system to stand in for a mounted share")
    share = shm / f"kiosk-share-{os.getpid()}"
    share.mkdir()
    try:
        result = bk.backup(db_path, tmp_path / "backups", copy_to=share)
        assert result.copied_to == share / result.path.name
        assert result.copied_to.read_bytes() == result.path.read_bytes()
    finally:
        for p in share.iterdir():
            p.unlink()
        share.rmdir()


def test_backup_of_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(bk.BackupError, match="no database at"):
        bk.backup(tmp_path / "nope.db", tmp_path / "backups")
    assert not (tmp_path / "nope.db").exists()


def test_cli_backup_and_restore(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndb = "{db_path}"\n\n[backup]\nkeep_daily = 2\n')
    assert main(["backup", "--config", str(config)]) == 0
    said = capsys.readouterr().out
    assert "checked: OK" in said
    made = bk.backups_in(db_path.parent / "backups")
    assert len(made) == 1

    assert main(["restore", "--config", str(config), str(made[0][1])]) == 0
    said = capsys.readouterr().out
    assert "Restored" in said and "20 staff, 20 items" in said

    assert main(["restore", "--config", str(config), str(tmp_path / "nothing.db")]) == 1
    assert "no backup file" in capsys.readouterr().err

    with pytest.raises(SystemExit):
        main(["backup", "--config", str(config), "--keep-daily", "-1"])


def why_no_mdwe(errno_: int) -> str:
    """The true reason PR_SET_MDWE was refused: an emulator, an old kernel, or something else.

    Under qemu-user (an arm64 root on an x86 machine) Python sees the guest's machine
    while the kernel's own /proc/sys/kernel/arch says the host's: the emulator, not the
    kernel, is then what does not pass the request through.
    """
    release = os.uname().release
    try:
        kernel_arch = Path("/proc/sys/kernel/arch").read_text().strip()
    except OSError:
        kernel_arch = ""
    machine = platform.machine()
    if kernel_arch and kernel_arch != machine:
        return (
            f"running under an emulator ({machine} code on a {kernel_arch} kernel, Linux "
            f"{release}): it does not pass PR_SET_MDWE through"
        )
    version = re.match(r"(\d+)\.(\d+)", release)
    if version is not None and tuple(map(int, version.groups())) < (6, 3):
        return f"this kernel ({release}) has no PR_SET_MDWE (needs Linux 6.3+)"
    return f"PR_SET_MDWE refused on Linux {release}: {os.strerror(errno_)} (a seccomp filter?)"


def test_backup_runs_under_memory_deny_write_execute(db_path: Path, tmp_path: Path) -> None:
    """kiosk-backup.service sets MemoryDenyWriteExecute=yes: the command must run under it.

    The kernel's own version of that rule (prctl PR_SET_MDWE, Linux 6.3+) is
    applied to a real ``kiosk backup`` process.
    """
    script = textwrap.dedent(
        """
        import ctypes, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
            print(ctypes.get_errno(), file=sys.stderr)
            sys.exit(77)
        from kiosk.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "backup",
            "--db",
            str(db_path),
            "--dest",
            str(tmp_path / "b"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode == 77:
        pytest.skip(why_no_mdwe(int(proc.stderr.strip() or 0)))
    assert proc.returncode == 0, proc.stderr
    assert len(bk.backups_in(tmp_path / "b")) == 1


def test_restore_onto_a_new_card(db_path: Path, tmp_path: Path) -> None:
    """No database yet (a fresh install): the backup becomes the database."""
    made = bk.backup(db_path, tmp_path / "backups")
    fresh = tmp_path / "new-card" / "var" / "kiosk.db"
    result = bk.restore(fresh, made.path, keep_dir=fresh.parent / "backups")
    assert result.previous is None
    assert rows(fresh) == rows(db_path)
    assert fresh.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in fresh.parent.iterdir()) == ["kiosk.db"]


def test_the_mdwe_skip_reason_names_what_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The skip above must say the truth: an emulator, an old kernel, or neither."""
    real_read = Path.read_text

    def kernel_arch(self: Path, *args: object, **kwargs: object) -> str:
        if str(self) == "/proc/sys/kernel/arch":
            return "x86_64\n"
        return real_read(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", kernel_arch)
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert why_no_mdwe(22).startswith("running under an emulator (aarch64 code on a x86_64 kernel")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(os, "uname", lambda: os.uname_result(("Linux", "h", "6.1.0", "", "x86_64")))
    assert why_no_mdwe(22) == "this kernel (6.1.0) has no PR_SET_MDWE (needs Linux 6.3+)"
    monkeypatch.setattr(os, "uname", lambda: os.uname_result(("Linux", "h", "6.8.0", "", "x86_64")))
    assert "refused on Linux 6.8.0: Operation not permitted" in why_no_mdwe(1)

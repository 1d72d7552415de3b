"""Nightly copies of the kiosk database, and putting one back.

An SD card in a school office will one day fail or be corrupted by a power
cut, and the loan history is the only record of who has the trip phone. So:

- ``backup`` copies the live database with SQLite's online backup API while
  the kiosk keeps writing. A single ``backup`` step copies every page inside
  one read transaction; in WAL mode that is a consistent snapshot and writers
  are never blocked. (Copying in small steps would let a writer restart the
  copy over and over.) The copy is checked with ``PRAGMA integrity_check``
  before it gets its final name, so a file called ``kiosk-*.db`` is always a
  good one.
- Old copies are rotated: the newest of each of the last 7 days and of the
  last 4 weeks are kept. Optionally every copy also goes to a mounted network
  share or USB drive, because a backup on the same card dies with the card.
- ``restore`` checks a file is a healthy kiosk database this version can open,
  refuses while the database is in use, keeps a copy of the current database,
  and swaps the file in with one atomic rename.

Only ``sqlite3`` is used here (not Peewee): these are whole-file operations.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kiosk.db import BUSY_TIMEOUT_MS, NEW_INCARNATION_SQL, SCHEMA_VERSION
from kiosk.errors import KioskError, StorageError
from kiosk.integrity import describe, problems_of, summarise

log = logging.getLogger(__name__)

#: Tables every kiosk database has had since schema 1.
KIOSK_TABLES = frozenset({"staff", "item", "loan", "event", "outbox"})

#: ``kiosk-20261123-023000.db``; a second backup within that second is ``...-2.db``, etc.
_NAME = re.compile(r"^kiosk-(\d{8}-\d{6})(?:-(\d+))?\.db$")
_STAMP = "%Y%m%d-%H%M%S"

# SQLite's unix VFS: every connection to a WAL database holds a shared lock on
# byte 128 of the "-shm" file (the "DMS" lock) for as long as it is open.
_SHM_DMS_BYTE = 128


class BackupError(KioskError):
    """A backup or restore could not be done; the message says what to check."""


class DamagedDatabase(BackupError, StorageError):
    """The integrity check found damage; ``problems`` lists what SQLite found."""

    def __init__(self, message: str, path: Path, problems: tuple[str, ...]) -> None:
        super().__init__(message)
        self.path = path
        self.problems = problems


@dataclass(frozen=True)
class BackupResult:
    path: Path
    """The checked backup file."""
    size: int
    schema: int
    copied_to: Path | None = None
    removed: list[Path] = field(default_factory=list)
    """Old backups deleted by the rotation (here and on the share)."""


@dataclass(frozen=True)
class RestoreResult:
    database: Path
    restored_from: Path
    schema: int
    previous: Path | None
    """Where the database that was replaced was kept (None if there was none)."""
    rows: dict[str, int]
    """Rows per table in the restored database."""


# --- checking ---------------------------------------------------------------------------


def check_database(path: Path) -> tuple[int, dict[str, int]]:
    """Check ``path`` is a healthy kiosk database this version knows.

    Returns ``(schema version, rows per table)``; raises BackupError saying
    what is wrong. The file is opened read-write: call it on a copy you own.
    """
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened: {exc}") from exc
    try:
        try:
            problems = problems_of(conn.execute("PRAGMA integrity_check").fetchall())
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise  # not SQLite at all: said below
            problems = (str(exc),)  # too damaged for the check to finish
        if problems:
            raise DamagedDatabase(f"{path} is damaged ({summarise(problems)})", path, problems)
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if not tables >= KIOSK_TABLES or version < 1:
            raise BackupError(f"{path} is not a kiosk database")
        if version > SCHEMA_VERSION:
            raise BackupError(
                f"{path} was written by a newer kiosk (schema {version}; this one knows "
                f"up to {SCHEMA_VERSION}). Update the kiosk software first."
            )
        rows = {
            t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
            for t in sorted(tables)
            if not t.startswith("sqlite_")
        }
    except sqlite3.DatabaseError as exc:
        # "file is not a database", "database disk image is malformed"
        raise BackupError(f"{path} is not a usable kiosk database: {exc}") from exc
    finally:
        conn.close()
    return version, rows


def database_in_use(db_path: Path) -> bool:
    """Whether another process has the database open (the kiosk, sync, a backup).

    Probes SQLite's own lock rather than guessing from process names: it works
    for any user's process, inside or outside systemd. A database not in WAL
    mode, or closed cleanly, has no ``-shm`` file and is not in use.
    """
    shm = db_path.with_name(db_path.name + "-shm")
    try:
        fd = os.open(shm, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except PermissionError as exc:
        raise BackupError(
            f"Cannot tell whether the kiosk is using {db_path} ({shm}: permission denied). "
            "Run this as the kiosk user: sudo -u kiosk kiosk ..."
        ) from exc
    try:
        # Taking (and at once releasing) a write lock on that byte fails while
        # any other connection holds its shared lock.
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE)
        return False
    finally:
        os.close(fd)


# --- small file helpers -----------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some network shares cannot fsync a folder
        _fsync_file(path)


def _same_owner(path: Path, like: Path) -> None:
    """Give ``path`` the owner of ``like`` when running as root.

    ``sudo kiosk restore`` must not leave a root-owned database that the kiosk
    user can no longer write.
    """
    if os.geteuid() != 0:
        return
    st = like.stat()
    os.chown(path, st.st_uid, st.st_gid)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One backup or restore at a time per backup folder (a timer and a person at once)."""
    with open(folder / ".lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise BackupError(
                f"Another backup or restore is using {folder} right now; try again in a minute."
            ) from exc
        yield


def _make_folder(folder: Path, like: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot create the backup folder {folder}: {exc.strerror}") from exc
    _same_owner(folder, like)


def _backup_name(now: datetime, *folders: Path | None) -> str:
    """A backup file name never used before in any of ``folders`` (called under the lock).

    Two backups within one second get ``-2``, ``-3``, ...: always one more than the
    highest number there, never a gap left by the rotation, so the name of the later
    copy always sorts as the newer one (see ``backups_in``).
    """
    stamp = now.astimezone(UTC).strftime(_STAMP)
    used = [
        int(m.group(2) or 1)
        for folder in folders
        if folder is not None and folder.is_dir()
        for path in folder.iterdir()
        if (m := _NAME.match(path.name)) and m.group(1) == stamp
    ]
    return f"kiosk-{stamp}-{max(used) + 1}.db" if used else f"kiosk-{stamp}.db"


def _copy_online(db_path: Path, target: Path) -> None:
    """Copy the live database at ``db_path`` to a new file ``target``."""
    try:
        src = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise BackupError(f"Cannot open the database {db_path}: {exc}") from exc
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # pages=-1: everything in one step, one consistent snapshot
            # The copy inherits WAL mode; a backup should be one self-contained file.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"Backing up {db_path} failed: {exc}") from exc
    finally:
        src.close()


# --- backup -----------------------------------------------------------------------------


def backups_in(folder: Path) -> list[tuple[datetime, Path]]:
    """The rotated backups in ``folder``, newest first (by the time and number in the name)."""
    found: list[tuple[datetime, int, Path]] = []
    if not folder.is_dir():
        return []
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if m:
            when = datetime.strptime(m.group(1), _STAMP).replace(tzinfo=UTC)
            found.append((when, int(m.group(2) or 1), path))
    found.sort(key=lambda entry: entry[:2], reverse=True)
    return [(when, path) for when, _, path in found]


def to_keep(stamps: list[datetime], keep_daily: int, keep_weekly: int) -> set[int]:
    """Indexes (into ``stamps``, newest first) of the backups the rotation keeps.

    The newest of each of the last ``keep_daily`` days that have a backup, the
    newest of each of the last ``keep_weekly`` ISO weeks, and always the newest.
    """
    keep: set[int] = {0} if stamps else set()
    days: set[object] = set()
    weeks: set[object] = set()
    for i, when in enumerate(stamps):
        day = when.date()
        if day not in days and len(days) < keep_daily:
            days.add(day)
            keep.add(i)
        week = when.isocalendar()[:2]
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.add(week)
            keep.add(i)
    return keep


def rotate(
    folder: Path, keep_daily: int, keep_weekly: int, *, just_made: Path | None = None
) -> list[Path]:
    """Delete backups the rotation does not keep; returns what was deleted.

    ``just_made`` is never deleted, whatever its name says: a Pi whose clock was behind
    names its new copy as if it were older than the others.
    """
    found = backups_in(folder)
    keep = to_keep([when for when, _ in found], keep_daily, keep_weekly)
    removed: list[Path] = []
    for i, (_, path) in enumerate(found):
        if i not in keep and path != just_made:
            path.unlink(missing_ok=True)
            removed.append(path)
    # Left-overs of a backup interrupted by a power cut.
    for partial in folder.glob("kiosk-*.db.partial"):
        partial.unlink(missing_ok=True)
    return removed


def on_mounted_share(path: Path, root: Path = Path("/")) -> bool:
    """Whether ``path`` is on a different file system from ``root`` (the SD card).

    A share that failed to mount leaves an empty folder on the card: copying
    there would only fill the card and give false comfort.
    """
    return path.stat().st_dev != root.stat().st_dev


def _check_share(copy_to: Path, root: Path) -> None:
    if not copy_to.is_dir():
        raise BackupError(f"the folder {copy_to} does not exist")
    if not on_mounted_share(copy_to, root):
        raise BackupError(
            f"{copy_to} is not a mounted share or drive (it is on the Pi's own card). "
            "Check the network share or USB drive is connected and mounted "
            "(see docs/install-pi.md, Backups)"
        )


def backup(
    db_path: Path,
    dest: Path,
    *,
    keep_daily: int = 7,
    keep_weekly: int = 4,
    copy_to: Path | None = None,
    now: datetime | None = None,
    share_root: Path = Path("/"),
) -> BackupResult:
    """Back up the live database ``db_path`` into ``dest`` (and ``copy_to``), then rotate.

    The local copy is made and kept even when copying to the share fails; that
    failure is raised afterwards as a BackupError naming the local file.
    """
    if keep_daily < 0 or keep_weekly < 0:
        raise BackupError("keep-daily and keep-weekly must not be negative")
    if not db_path.is_file():
        raise BackupError(
            f"There is no database at {db_path} to back up. "
            "Check [kiosk] db in the settings (or --db)."
        )
    now = now or datetime.now(UTC)
    _make_folder(dest, db_path.parent)
    with _folder_lock(dest):
        final = dest / _backup_name(now, dest, copy_to)
        partial = final.with_name(final.name + ".partial")
        try:
            _copy_online(db_path, partial)
            try:
                schema, _rows = check_database(partial)
            except DamagedDatabase as exc:
                # The copy is page for page the database: the damage is in the database.
                good = backups_in(dest)
                raise DamagedDatabase(
                    describe(exc.problems, db_path, backup=good[0][1] if good else None)
                    + " No backup was made (a damaged copy is not kept; the earlier ones are).",
                    db_path,
                    exc.problems,
                ) from exc
            _same_owner(partial, dest)
            _fsync_file(partial)
            os.replace(partial, final)
            _fsync_dir(dest)
            size = final.stat().st_size
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        log.info("backed up %s to %s", db_path, final)
        removed = rotate(dest, keep_daily, keep_weekly, just_made=final)

    copied: Path | None = None
    if copy_to is not None:
        try:
            _check_share(copy_to, share_root)
            copied = copy_to / final.name
            tmp = copy_to / (final.name + ".partial")
            shutil.copyfile(final, tmp)
            _fsync_file(tmp)
            os.replace(tmp, copied)
            _fsync_dir(copy_to)
            removed += rotate(copy_to, keep_daily, keep_weekly, just_made=copied)
        except (OSError, BackupError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise BackupError(
                f"The backup was saved on the Pi ({final}) but not copied to {copy_to}: {reason}"
            ) from exc
    return BackupResult(final, size, schema, copied, removed)


# --- restore ----------------------------------------------------------------------------


def _new_incarnation(conn: sqlite3.Connection) -> None:
    """Give a restored database a new incarnation id (schema 6 on; older ones get one
    when they are migrated). The trust's replica sees the change and reconciles this
    kiosk's rows in full: the restored file has gone back in time and will reuse row ids.
    """
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'replica_meta'"
    ).fetchone()
    if has_meta:
        with conn:
            conn.execute(NEW_INCARNATION_SQL)


def restore(
    db_path: Path,
    source: Path,
    *,
    keep_dir: Path,
    force: bool = False,
    now: datetime | None = None,
) -> RestoreResult:
    """Put the backup ``source`` back as the database ``db_path``.

    Checks ``source`` first, refuses while the database is in use unless
    ``force``, keeps the current database in ``keep_dir``, then renames the
    checked copy over the database in one step: whatever happens, the database
    file is either the old one or the whole restored one.
    """
    if not source.is_file():
        raise BackupError(f"There is no backup file {source}.")
    if source.resolve() == db_path.resolve():
        raise BackupError(f"{source} is the database itself; choose a backup file.")
    if not force and database_in_use(db_path):
        raise BackupError(
            "The kiosk database is in use (the kiosk screen, sync or a backup is running). "
            "Stop them first: sudo systemctl stop kiosk kiosk-touch kiosk-sync.timer "
            "kiosk-backup.timer; then run this again (or add --force)."
        )
    now = now or datetime.now(UTC)
    db_path.parent.mkdir(parents=True, exist_ok=True)

    # 1. A private copy beside the database (same file system: the final rename is atomic).
    staged = db_path.with_name(f".{db_path.name}.restore-{os.getpid()}")
    try:
        shutil.copyfile(source, staged)
        # A raw copy of a WAL database may come with its -wal file: take it too.
        wal = source.with_name(source.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, staged.with_name(staged.name + "-wal"))
        try:
            schema, rows = check_database(staged)
        except DamagedDatabase as exc:
            raise DamagedDatabase(
                f"{source} is damaged ({summarise(exc.problems)}): it cannot be restored. "
                "Choose an earlier backup.",
                source,
                exc.problems,
            ) from exc
        except BackupError as exc:  # say it of the file the person named, not the staged copy
            raise BackupError(str(exc).replace(str(staged), str(source))) from exc
        conn = sqlite3.connect(staged)
        try:
            # One self-contained file (folds in any -wal); the kiosk turns WAL back on.
            conn.execute("PRAGMA journal_mode=DELETE")
            _new_incarnation(conn)
        finally:
            conn.close()
        staged.with_name(staged.name + "-wal").unlink(missing_ok=True)
        staged.with_name(staged.name + "-shm").unlink(missing_ok=True)
        if db_path.exists():
            os.chmod(staged, db_path.stat().st_mode & 0o777)
            _same_owner(staged, db_path)
        else:
            os.chmod(staged, 0o600)
            _same_owner(staged, db_path.parent)
        _fsync_file(staged)
    except BaseException:
        for extra in ("", "-wal", "-shm"):
            staged.with_name(staged.name + extra).unlink(missing_ok=True)
        raise

    # 2. Keep what is there now, with everything in its -wal.
    previous: Path | None = None
    if db_path.exists():
        _make_folder(keep_dir, db_path.parent)
        previous = keep_dir / f"before-restore-{now.astimezone(UTC).strftime(_STAMP)}.db"
        try:
            _copy_online(db_path, previous)
        except BackupError:
            # The current database may be the damaged one: keep its raw files instead.
            log.warning("current database unreadable; keeping its files as they are")
            for extra in ("", "-wal"):
                part = db_path.with_name(db_path.name + extra)
                if part.exists():
                    shutil.copyfile(part, previous.with_name(previous.name + extra))
        _same_owner(previous, keep_dir)

    # 3. The old database's -wal belongs to the old file: replayed onto the restored
    #    one it would corrupt it. It is safe in ``previous`` now.
    for extra in ("-wal", "-shm"):
        db_path.with_name(db_path.name + extra).unlink(missing_ok=True)
    os.replace(staged, db_path)
    _fsync_dir(db_path.parent)
    log.info("restored %s from %s (previous kept at %s)", db_path, source, previous)
    return RestoreResult(db_path, source, schema, previous, rows)

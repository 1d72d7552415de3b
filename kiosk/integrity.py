"""Is the database file whole? Checked at every start, by the running kiosk, and nightly.

An SD card that is failing, or a power cut at the wrong moment, can damage pages
that no query happens to read for weeks (last year's loans): the kiosk would carry
on, and the nightly backup would copy the damage. So:

- **At every start** (``kiosk run``, ``status``, ``export``, ``sync``, ...) SQLite's
  ``PRAGMA quick_check`` runs: over the whole file when it is small enough to stay
  inside the start-up budget (``WHOLE_FILE_AT_START_PAGES``), otherwise over the
  tables every tap and the board read (``START_TABLES``). Measured on the 1,000,000
  loan database (``python -m bench storage``): the whole-file check is about a
  second there, too slow to run before every ``kiosk status``; the start tables
  take a few milliseconds.
- **The running kiosk** (``kiosk run``) checks the whole file once, on a thread of
  its own, after the screen is ready, when the start check could not.
- **The nightly backup** runs the full ``integrity_check`` on its copy (a page-for-
  page image of the database) and refuses to keep a damaged copy.

Whoever finds damage says so in one line and raises one alert for IT
(``raise_damage_alert``, at most one a day) when the database can still be written.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import peewee as pw

from kiosk import alerts
from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import BUSY_TIMEOUT_MS, Outbox
from kiosk.errors import StorageError
from kiosk.settings import Settings
from kiosk.views import AlertRaised

log = logging.getLogger(__name__)

#: Up to this many pages (4 kB each, so 20 MB) the whole file is checked at every start:
#: about 40 ms on the development machine when it is quiet (bench: python -m bench storage).
WHOLE_FILE_AT_START_PAGES = 5_000

#: Checked at every start whatever the size: what a tap, the board and the alerts read.
#: ``loan`` and ``event`` are the history that grows by a million rows in five years.
START_TABLES = ("staff", "item", "outbox", "delivery", "personal_call", "unknown_tag")

#: Problems kept from one check (SQLite stops at 100 by default).
MAX_PROBLEMS = 20

#: The alert kind and its audience.
DAMAGE_KIND, DAMAGE_AUDIENCE = "database_damaged", "it"


class IntegrityReport(NamedTuple):
    problems: tuple[str, ...]
    """What SQLite found, one problem per entry; empty when the file is whole."""
    whole_file: bool
    """True if every page was checked; False if only ``START_TABLES`` were."""
    seconds: float
    """How long the check took."""

    @property
    def ok(self) -> bool:
        return not self.problems


def problems_of(rows: Sequence[tuple[object, ...]]) -> tuple[str, ...]:
    """SQLite's answer as single problems ("ok" is none; its banner line is dropped)."""
    found: list[str] = []
    for (text,) in rows:
        for line in str(text).splitlines():
            line = line.strip()
            if line and line != "ok" and not line.startswith("*** in database"):
                found.append(line)
    return tuple(found[:MAX_PROBLEMS])


def quick_check(conn: sqlite3.Connection, table: str | None = None) -> tuple[str, ...]:
    """``PRAGMA quick_check`` over the file, or over one table and its indexes."""
    target = f'("{table}")' if table else f"({MAX_PROBLEMS})"
    try:
        rows = conn.execute(f"PRAGMA quick_check{target}").fetchall()
    except sqlite3.DatabaseError as exc:
        # So damaged that the check itself stops ("database disk image is malformed").
        return (str(exc),)
    return problems_of(rows)


def _raw(db: pw.SqliteDatabase) -> sqlite3.Connection:
    conn = db.connection()
    assert isinstance(conn, sqlite3.Connection)
    return conn


def check_at_start(
    db: pw.SqliteDatabase, *, whole_file_pages: int = WHOLE_FILE_AT_START_PAGES
) -> IntegrityReport:
    """The check every command runs on opening the database (see the module docstring)."""
    started = time.perf_counter()
    conn = _raw(db)
    try:
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        if pages <= whole_file_pages:
            problems = quick_check(conn)
            whole = True
        else:
            present = {
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            found: list[str] = []
            for table in START_TABLES:
                if table in present:
                    found += quick_check(conn, table)
            problems, whole = tuple(found[:MAX_PROBLEMS]), False
    except sqlite3.DatabaseError as exc:
        problems, whole = (str(exc),), False
    return IntegrityReport(problems, whole, time.perf_counter() - started)


def check_whole_file(path: Path) -> IntegrityReport:
    """``quick_check`` of every page, on a connection of its own (any thread, any time).

    It reads in one transaction; in WAL mode that never blocks the kiosk's writes.
    """
    started = time.perf_counter()
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except sqlite3.Error as exc:
        return IntegrityReport((str(exc),), True, time.perf_counter() - started)
    try:
        conn.execute("PRAGMA query_only = 1")
        problems = quick_check(conn)
    except sqlite3.DatabaseError as exc:
        problems = (str(exc),)
    finally:
        conn.close()
    return IntegrityReport(problems, True, time.perf_counter() - started)


def check_in_background(
    path: Path, on_damage: Callable[[IntegrityReport], object]
) -> threading.Thread:
    """Check the whole file on a daemon thread; ``on_damage(report)`` there if damaged."""

    def run() -> None:
        report = check_whole_file(path)
        log.info("whole-file integrity check of %s: %.1f s", path, report.seconds)
        if not report.ok:
            on_damage(report)

    thread = threading.Thread(target=run, name="integrity-check", daemon=True)
    thread.start()
    return thread


def summarise(problems: Sequence[str]) -> str:
    """ "3 problems found, the first: ..." (SQLite's own words for the first)."""
    first = problems[0] if problems else "unknown problem"
    return f"{len(problems)} problems found, the first: {first}" if len(problems) > 1 else first


def describe(problems: Sequence[str], path: Path | str, *, backup: Path | None = None) -> str:
    """One line for a person: what is wrong, and what to do (``backup``: the one to restore)."""
    if backup is not None:
        restore = f"Restore the last good backup with 'kiosk restore {backup}'"
    else:
        restore = "Restore last night's backup with 'kiosk restore FILE'"
    return f"The database {path} is damaged ({summarise(problems)}). {restore} (ask the IT lead)."


def raise_damage_alert(
    problems: Sequence[str], path: Path | str, clock: Clock, settings: Settings
) -> str:
    """Queue the alert that tells IT the database is damaged; says what is true now.

    At most one a day (``alerts.day_key``): the kiosk may be restarted, and sync runs
    every few minutes, while the damage waits for someone to restore a backup. The
    answer is the sentence for the person (``alerts.promise``: waiting to be sent, no
    channel set up for IT, already sent today, or it could not even be written).
    """
    channels = tuple(settings.sync.channels_for(DAMAGE_KIND, DAMAGE_AUDIENCE))
    summary = "The kiosk's database is damaged"
    body = alerts.payload(
        DAMAGE_KIND, school=settings.school.name, summary=summary, note=describe(problems, path)
    )
    body["problems"] = list(problems[:5])
    key = alerts.day_key(DAMAGE_KIND, clock.now().date())
    try:
        with store.write():
            raised = alerts.raise_alert(
                clock,
                kind=DAMAGE_KIND,
                audience=DAMAGE_AUDIENCE,
                key=key,
                body=body,
                channels=channels,
            )
            sent_today = raised is None and bool(
                Outbox.select(Outbox.id)
                .where(Outbox.key == key, Outbox.delivered_at.is_null(False))
                .exists()
            )
    except (StorageError, pw.DatabaseError, sqlite3.DatabaseError) as exc:
        log.info("the alert for IT about the damaged database could not be written: %s", exc)
        return "No alert could be recorded for IT: tell the IT lead yourself."
    log.info("database damaged (alert for IT %s): %s", key, "; ".join(problems[:3]))
    if sent_today:
        return "IT were sent an alert about it today."
    waiting = raised or AlertRaised(DAMAGE_KIND, DAMAGE_AUDIENCE, summary, channels)
    return alerts.promise(waiting, clock.synchronised())


def report_damage(
    problems: Sequence[str],
    path: Path | str,
    clock: Clock,
    settings: Settings,
    *,
    backup: Path | None = None,
) -> str:
    """Raise the alert for IT, and return the one line that tells the person about both."""
    told = raise_damage_alert(problems, path, clock, settings)
    return f"{describe(problems, path, backup=backup)} {told}"

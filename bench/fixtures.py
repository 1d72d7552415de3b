"""A realistic large database for benchmarks: 1,000,000 past loans, 2,000 staff, 500 items.

Built once with set-based SQL (seconds, not minutes) and cached under
``bench/data/`` (git-ignored), keyed by the schema version; each benchmark works
on its own copy so that runs do not disturb each other.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.db import SCHEMA_VERSION, open_database
from kiosk.errors import StorageError

log = logging.getLogger("bench")

DATA = Path(__file__).parent / "data"
STAFF, ITEMS, LOANS = 2000, 500, 1_000_000
KINDS = ["trolley_key", "camera", "trip_phone", "other"]


def _fill(path: Path, loans: int) -> None:
    db = open_database(path)
    db.close()
    con = sqlite3.connect(path)
    # A throwaway build: no journal, no fsync; the kiosk's own settings come back below.
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.executescript(f"""
        BEGIN;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {STAFF})
        INSERT INTO staff (id, staff_id, name, known_as, role, classes, email, badge_uid,
                           active, inactive_reason, pin_hash)
        SELECT i, printf('S%05d', i), printf('Staff Member %d', i), printf('Mx %d', i),
               CASE WHEN i = 1 THEN 'admin' WHEN i < 5 THEN 'office' ELSE 'staff' END,
               printf('%d%s', (i % 6) + 1, char(65 + (i % 3))), '', printf('BA%06X', i), 1, '', ''
        FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ITEMS})
        INSERT INTO item (id, asset_tag, name, kind, tag_uid, home_class, contents,
                          phone_number, status, notes)
        SELECT i, printf('A%05d', i), printf('Item %d', i),
               CASE i % 4 WHEN 0 THEN 'trolley_key' WHEN 1 THEN 'camera'
                          WHEN 2 THEN 'trip_phone' ELSE 'other' END,
               printf('17%06X', i), '',
               CASE i % 4 WHEN 0 THEN '[{{"count": 30, "name": "iPads"}}]' ELSE '[]' END,
               CASE i % 4 WHEN 2 THEN '07700 900000' ELSE '' END, 'available', ''
        FROM n;
        -- Past loans over about three years, all returned.
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {loans})
        INSERT INTO loan (id, item_id, borrower_id, out_at, out_clock_synced, due_at, trip,
                          off_site, closed_at, closed_by_id, outcome, checklist,
                          condition_note, anonymised)
        SELECT i, (i % {ITEMS}) + 1, (i * 7 % {STAFF}) + 1,
               strftime('%Y-%m-%d %H:%M:%f000', '2023-11-01', printf('+%d seconds', i * 90)),
               1,
               strftime('%Y-%m-%d %H:%M:%f000', '2023-11-01',
                        printf('+%d seconds', i * 90 + 20000)),
               '', 0,
               strftime('%Y-%m-%d %H:%M:%f000', '2023-11-01', printf('+%d seconds', i * 90 + 3600)),
               (i * 7 % {STAFF}) + 1, 'returned', '{{"damage": ""}}', '', 0
        FROM n;
        INSERT INTO event (at, clock_synced, action, staff_id, item_id, loan_id, reader, detail)
        SELECT out_at, 1, 'sign_out', borrower_id, item_id, id, 'rc522', '{{}}' FROM loan;
        INSERT INTO event (at, clock_synced, action, staff_id, item_id, loan_id, reader, detail)
        SELECT closed_at, 1, 'return', borrower_id, item_id, id, 'rc522', '{{}}' FROM loan;
        COMMIT;
    """)
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode = WAL")
    con.close()


def big_database(target: Path, loans: int = LOANS) -> Path:
    """A copy of the cached large database at ``target`` (built first if needed)."""
    DATA.mkdir(parents=True, exist_ok=True)
    cached = DATA / f"loans-{loans}-v{SCHEMA_VERSION}.db"
    older = sorted(DATA.glob(f"loans-{loans}-v*.db"), key=lambda p: int(p.stem.rsplit("v", 1)[1]))
    if not cached.exists() and older:
        # A cache from an older schema: migrating it is the same path a school's kiosk takes.
        partial = cached.with_suffix(".partial")
        shutil.copy(older[-1], partial)
        try:
            open_database(partial).close()
        except StorageError as exc:
            # A cache written by another branch's schema of the same number (its steps in
            # another order) does not migrate: build a new one below.
            log.warning("cannot migrate %s (%s): building anew", older[-1].name, exc)
            for suffix in ("", "-wal", "-shm"):
                Path(str(partial) + suffix).unlink(missing_ok=True)
        else:
            partial.rename(cached)
            log.info("migrated %s to %s", older[-1].name, cached.name)
    if not cached.exists():
        started = time.perf_counter()
        partial = cached.with_suffix(".partial")
        for suffix in ("", "-wal", "-shm"):
            Path(str(partial) + suffix).unlink(missing_ok=True)
        _fill(partial, loans)
        partial.rename(cached)
        log.info("built %s in %.1f s", cached.name, time.perf_counter() - started)
    shutil.copy(cached, target)
    _on_disk(target)
    return target


def _on_disk(path: Path) -> None:
    """Write a fresh copy out before anything is timed: otherwise the first checkpoint's
    fsync flushes the whole copied file (hundreds of MB) and the tap waiting behind it
    measures the copy, not the kiosk (seen as 600-800 ms "worst taps")."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def empty_database(target: Path) -> Path:
    """The same staff and items with no loans at all."""
    _fill(target, 0)
    return target


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def kiosk_env(config: Path, **extra: str) -> dict[str, str]:
    """This process's environment without its ``KIOSK_`` settings, reading ``config``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["KIOSK_CONFIG"] = str(config)
    env.update(extra)
    return env


def json_from_child(
    code: str, *args: str, preexec: Callable[[], None] | None = None, timeout: float = 1200
) -> Any:
    """What Python ``code`` prints last as JSON, run in a process of its own from the
    project's folder (``bench`` importable); ``preexec`` runs in the child before it starts
    (``CpuBudget.preexec`` moves it into a CPU budget)."""
    child = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).parent.parent,
        preexec_fn=preexec,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])

"""Nightly backup on five years of a school's data, while the kiosk keeps recording taps.

The question: does the online backup make a tap at the kiosk wait? A second
process commits a "tap" (one event row, BEGIN IMMEDIATE, synchronous=FULL,
as the kiosk does) every 20 ms before, during and after ``kiosk backup``; the
figures are the backup's duration and the slowest tap commit while it ran.

Five years of one school: about 100,000 loans and 300,000 events.

Run alone: ``python -m bench.bench_backup``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk import backup as bk
from kiosk.db import open_database

log = logging.getLogger("bench.backup")

LOANS = 100_000
EVENTS_PER_LOAN = 3

TAPPER = textwrap.dedent(
    """
    import json, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from kiosk.db import Event, open_database, write
    db = open_database(Path(sys.argv[1]))
    stop = Path(sys.argv[2])
    taps = []
    print("ready", flush=True)
    while not stop.exists():
        start = time.monotonic()
        with write(db):
            Event.create(at=datetime.now(UTC), clock_synced=True, action="tap", reader="bench")
        taps.append((start, time.monotonic() - start))
        time.sleep(0.02)
    db.close()
    print(json.dumps(taps))
    """
)


def _fill(path: Path) -> None:
    db = open_database(path)
    db.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # building the fixture only
    start = datetime(2021, 9, 1, 8, 0, tzinfo=UTC)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    with conn:
        conn.executemany(
            "INSERT INTO staff (staff_id, name, known_as, role, classes, email, badge_uid, "
            "active, inactive_reason, pin_hash) VALUES (?, ?, '', 'staff', '', '', ?, 1, '', '')",
            [(f"S{i}", f"Staff Member {i}", f"B{i:06X}") for i in range(60)],
        )
        conn.executemany(
            "INSERT INTO item (asset_tag, name, kind, tag_uid, home_class, contents, phone_number, "
            "status, notes) VALUES (?, ?, 'camera', ?, '', '[]', '', 'available', '')",
            [(f"A{i}", f"Item {i}", f"T{i:06X}") for i in range(50)],
        )
        loans = []
        events = []
        for n in range(LOANS):
            out = start + timedelta(minutes=25 * n)
            back = (out + timedelta(hours=3)).strftime(fmt)
            loans.append(
                (
                    n % 50 + 1,
                    n % 60 + 1,
                    out.strftime(fmt),
                    back,
                    back,
                    n % 60 + 1,
                )
            )
            for k in range(EVENTS_PER_LOAN):
                events.append((out.strftime(fmt), "signed_out" if k == 0 else "returned", n + 1))
        conn.executemany(
            "INSERT INTO loan (item_id, borrower_id, out_at, out_clock_synced, due_at, trip, "
            "off_site, closed_at, closed_by_id, outcome, checklist, condition_note, anonymised) "
            "VALUES (?, ?, ?, 1, ?, '', 0, ?, ?, 'returned', '{\"damage\": false}', '', 0)",
            loans,
        )
        conn.executemany(
            "INSERT INTO event (at, clock_synced, action, loan_id, reader, detail) "
            "VALUES (?, 1, ?, ?, 'rc522', '{}')",
            events,
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def run() -> dict[str, dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        db = Path(tmp) / "kiosk.db"
        t0 = time.monotonic()
        _fill(db)
        size_mb = db.stat().st_size / 1e6
        log.info("built %.1f MB database in %.1f s", size_mb, time.monotonic() - t0)

        stop = Path(tmp) / "stop"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        tapper = subprocess.Popen(
            [sys.executable, "-c", TAPPER, str(db), str(stop)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert tapper.stdout is not None
        assert tapper.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        began = time.monotonic()
        result = bk.backup(db, Path(tmp) / "backups")
        ended = time.monotonic()
        time.sleep(1.0)
        stop.touch()
        out, _ = tapper.communicate(timeout=60)
        taps: list[list[float]] = json.loads(out)

    during = [d for s, d in taps if began <= s <= ended]
    outside = [d for s, d in taps if s < began or s > ended]
    backup_ms = (ended - began) * 1000
    figures: dict[str, dict[str, object]] = {
        "backup_5_years_ms": {"value": round(backup_ms), "unit": "ms", "goal": "<= 10000"},
        "backup_size_mb": {"value": round(result.size / 1e6, 1), "unit": "MB", "goal": "info"},
        "tap_commit_max_during_backup_ms": {
            "value": round(max(during, default=0.0) * 1000, 1),
            "unit": "ms",
            "goal": "<= 250",
        },
        "tap_commit_max_otherwise_ms": {
            "value": round(max(outside, default=0.0) * 1000, 1),
            "unit": "ms",
            "goal": "info",
        },
        "taps_during_backup": {"value": len(during), "unit": "taps", "goal": "info"},
    }
    for name, f in figures.items():
        sys.stdout.write(f"{name}: {f['value']} {f['unit']} (goal {f['goal']})\n")
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run()

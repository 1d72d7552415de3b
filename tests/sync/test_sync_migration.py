"""Schema v2 (the delivery table) is added to a version 1 database without losing a row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kiosk.db import SCHEMA_DIR, open_database


def test_a_version_1_database_gains_the_delivery_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript((SCHEMA_DIR / "schema_v1.sql").read_text())
    conn.execute(
        "INSERT INTO outbox (key, kind, audience, payload, created_at, attempts, last_error)"
        " VALUES ('lost:item:1:1', 'lost', 'slt', '{}', '2026-11-20 10:00:00.000000', 0, '')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    db = open_database(path)
    try:
        assert db.execute_sql("PRAGMA user_version").fetchone()[0] >= 2
        assert db.execute_sql("SELECT key FROM outbox").fetchall() == [("lost:item:1:1",)]
        names = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master")}
        assert {"delivery", "delivery_pending", "delivery_chain", "outbox_dead"} <= names
        # Deleting an old alert (retention) takes its deliveries with it.
        db.execute_sql(
            "INSERT INTO delivery (outbox_id, channel, created_at, next_attempt_at)"
            " VALUES (1, 'slt_hook', '2026-11-20 10:00:00.000000', '2026-11-20 10:00:00.000000')"
        )
        db.execute_sql("DELETE FROM outbox")
        assert db.execute_sql("SELECT COUNT(*) FROM delivery").fetchone()[0] == 0
    finally:
        db.close()

"""The kiosk's side of replication: its change journal, read without a write lock.

Schema 6 of ``kiosk.db`` has triggers that append ``(table, row id)`` to
``change_journal`` in the same transaction as every insert, update and delete
of a replicated table. The pusher reads entries in ``seq`` order together with
the current rows they name, in one read transaction on a read-only connection
(WAL: the kiosk screen keeps writing meanwhile, and this connection cannot take
the write lock at all). Entries are deleted only once the trust's server has
committed them, in a short write transaction of their own, never while waiting
on the network.

``replica_meta`` holds ``incarnation`` (random; ``kiosk restore`` and
``kiosk trust resync`` change it) and ``pushed_incarnation`` (the one the trust
last reconciled with). They differ when the trust must reconcile in full.

Only ``sqlite3``: no psycopg here, so the fast path ("nothing to push") and the
kiosk's own commands never load the driver.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk import db as store
from kiosk.db import BUSY_TIMEOUT_MS, NEW_INCARNATION_SQL
from kiosk.errors import StorageError
from sync.trust.tables import BY_NAME, TABLES, Kind, Table

Row = tuple[Any, ...]


@dataclass(frozen=True)
class LocalState:
    incarnation: str
    pushed_incarnation: str
    max_seq: int
    """The highest ``seq`` ever given out (SQLite's AUTOINCREMENT counter): survives pruning."""
    pending: bool
    """Whether any journal entry waits to be sent."""

    @property
    def nothing_to_push(self) -> bool:
        return not self.pending and self.pushed_incarnation == self.incarnation


@dataclass(frozen=True)
class Batch:
    last_seq: int
    entries: int
    rows: dict[str, list[Row]]
    """Current rows per table, as SQLite has them (see ``to_pg``)."""
    deleted: dict[str, list[int]]
    """Ids per table that the journal names but the kiosk no longer has."""

    @property
    def row_count(self) -> int:
        return sum(map(len, self.rows.values())) + sum(map(len, self.deleted.values()))


def to_pg(table: Table, row: Row) -> Row:
    """A SQLite row with PostgreSQL's types made explicit: booleans, UTC times marked UTC.

    The pusher does not need this: it COPYs rows as they are (PostgreSQL reads 0/1 as
    booleans, and its sessions run in UTC, ``connect``). It is for comparing the two.
    """
    out: list[Any] = []
    for col, value in zip(table.columns, row, strict=True):
        if value is None:
            out.append(None)
        elif col.kind is Kind.BOOL:
            out.append(bool(value))
        elif col.kind is Kind.TS:
            out.append(f"{value}+00")  # UTCDateTimeField text is UTC without an offset
        else:
            out.append(value)
    return tuple(out)


def _select(table: Table) -> str:
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    return f'SELECT {cols} FROM "{table.name}"'


class ChangeJournal:
    """Read the journal and rows of the kiosk database at ``path``; acknowledge entries."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            # The read-write connection first: it keeps the WAL index (-shm) in place
            # for the read-only one, and does the short acknowledging writes.
            self._rw = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            self._rw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._rw.execute("PRAGMA synchronous = FULL")
            self._ro = sqlite3.connect(
                f"file:{path}?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            self._ro.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            has = self._ro.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'change_journal'"
            ).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"Cannot open the kiosk database {path}: {exc}") from exc
        if not has:
            raise StorageError(
                f"The kiosk database {path} has no change journal (schema older than 6): "
                "open it once with this version of the kiosk (kiosk status) to migrate it."
            )

    def close(self) -> None:
        self._ro.close()
        self._rw.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: a consistent snapshot, never a write lock."""
        self._ro.execute("BEGIN")
        try:
            yield self._ro
        finally:
            self._ro.execute("COMMIT")

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        self._rw.execute("BEGIN IMMEDIATE")
        try:
            yield self._rw
        except BaseException:
            self._rw.execute("ROLLBACK")
            raise
        else:
            self._rw.execute("COMMIT")

    # --- reading --------------------------------------------------------------------

    def state(self) -> LocalState:
        with self._reading() as con:
            return self._state(con)

    @staticmethod
    def _state(con: sqlite3.Connection) -> LocalState:
        meta = dict(con.execute("SELECT key, value FROM replica_meta").fetchall())
        seq = con.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'change_journal'"
        ).fetchone()
        pending = con.execute("SELECT 1 FROM change_journal LIMIT 1").fetchone() is not None
        return LocalState(
            incarnation=str(meta.get("incarnation", "")),
            pushed_incarnation=str(meta.get("pushed_incarnation", "")),
            max_seq=int(seq[0]) if seq else 0,
            pending=pending,
        )

    def read_batch(self, after: int, limit: int) -> Batch | None:
        """Entries after ``after`` (at most ``limit``) with the current rows they name."""
        with self._reading() as con:
            entries = con.execute(
                "SELECT seq, tbl, row_id FROM change_journal WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
            if not entries:
                return None
            ids: dict[str, dict[int, None]] = {}  # insertion-ordered sets
            for _seq, tbl, row_id in entries:
                if tbl in BY_NAME:  # a table a newer kiosk journals and this one does not send
                    ids.setdefault(tbl, {})[int(row_id)] = None
            rows: dict[str, list[Row]] = {}
            deleted: dict[str, list[int]] = {}
            for table in TABLES:
                wanted = ids.get(table.name)
                if not wanted:
                    continue
                found = con.execute(
                    f"{_select(table)} WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(list(wanted)),),
                ).fetchall()
                rows[table.name] = found
                present = {int(r[0]) for r in found}
                gone = [i for i in wanted if i not in present]
                if gone:
                    deleted[table.name] = gone
            return Batch(int(entries[-1][0]), len(entries), rows, deleted)

    def read_chunk(self, table: Table, after_id: int | None, limit: int) -> list[Row]:
        """Rows of ``table`` in id order after ``after_id``: for a full reconcile."""
        with self._reading() as con:
            if after_id is None:
                found = con.execute(f"{_select(table)} ORDER BY id LIMIT ?", (limit,)).fetchall()
            else:
                found = con.execute(
                    f"{_select(table)} WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
                ).fetchall()
        return found

    def rows(self, table: Table) -> list[Row]:
        """Every row of ``table`` as it would arrive in PostgreSQL, in id order (for checks)."""
        with self._reading() as con:
            found = con.execute(f"{_select(table)} ORDER BY id").fetchall()
        return [to_pg(table, r) for r in found]

    # --- acknowledging --------------------------------------------------------------

    def prune(self, upto: int) -> int:
        """Delete entries the trust's server has committed (``seq <= upto``)."""
        with self._writing() as con:
            return con.execute("DELETE FROM change_journal WHERE seq <= ?", (upto,)).rowcount

    def mark_pushed(self, incarnation: str) -> None:
        """Record that the trust holds this incarnation's rows (after a full reconcile)."""
        with self._writing() as con:
            con.execute(
                "INSERT INTO replica_meta (key, value) VALUES ('pushed_incarnation', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (incarnation,),
            )

    def new_incarnation(self) -> str:
        """Ask for a full reconcile at the next push (``kiosk trust resync``)."""
        with self._writing() as con:
            con.execute(NEW_INCARNATION_SQL)
            return self._state(con).incarnation


def discard_journal() -> int:
    """Without replication set up: drop the journal (on the kiosk's open database).

    It would otherwise grow with every tap. A new incarnation goes with it, so a
    trust set up later reconciles in full rather than trusting a journal with holes.
    """
    if store.database.execute_sql("SELECT 1 FROM change_journal LIMIT 1").fetchone() is None:
        return 0
    with store.write():
        dropped = int(store.database.execute_sql("DELETE FROM change_journal").rowcount)
        store.database.execute_sql(NEW_INCARNATION_SQL)
    return dropped

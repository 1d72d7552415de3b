"""Push the kiosk's journal to the trust's PostgreSQL: in order, at least once, idempotent.

One pass (``Pusher.push``), run by ``kiosk sync`` after the alerts are delivered:

1. Nothing in the journal and the trust already reconciled with this database's
   incarnation: return at once, without touching the network.
2. Connect (time-outs on everything; a failure is reported and retried next pass)
   and read this kiosk's row in ``trust.kiosk``: its incarnation and ``pushed_seq``,
   how far the server has applied the journal.
3. The server's incarnation differs from the kiosk's (``kiosk restore``,
   ``kiosk trust resync``, first contact), or its ``pushed_seq`` is ahead of every
   ``seq`` the kiosk ever gave out (the file went back in time by other means):
   **reconcile** — in one server transaction, upsert every row the kiosk has and
   delete every row of this kiosk's that it no longer has, then record the
   incarnation and the journal position read before starting.
4. Otherwise send batches: journal entries after ``pushed_seq`` with the rows they
   name as they are now, upserted on (kiosk id, row id) (a missing row is a
   delete), and ``pushed_seq`` moved to the batch's last entry, all in one server
   transaction. Only after it commits are those entries deleted on the kiosk.

A retry resends rows the server may already have: an upsert of the same row is
a no-op. A crash (SIGKILL) before the commit loses the server transaction and
the entries are still in the journal; a crash after it leaves entries the next
pass drops (they are at or below ``pushed_seq``). The server row is locked and
compared before each transaction, so two sync processes cannot interleave.
Rows are read from SQLite on a read-only connection: no write lock is ever held
while waiting on the network.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from kiosk.errors import StorageError
from kiosk.settings import Trust
from sync.trust.changes import Batch, ChangeJournal, LocalState, Row
from sync.trust.connect import TrustError, TrustUnavailable, connect, explain, read_credentials
from sync.trust.report import PushReport
from sync.trust.schema import check_version
from sync.trust.tables import TABLES, Table

log = logging.getLogger(__name__)

#: Rows per statement during a full reconcile.
RECONCILE_CHUNK = 5000
_MIN_ID = -(2**63)


@dataclass(frozen=True)
class _Me:
    kiosk_id: str
    school_id: str
    incarnation: str | None
    pushed_seq: int


class _Raced(TrustError):
    """Another process pushed for this kiosk in between: start again next pass."""


class _Stopped(Exception):
    """``stop`` was set during a reconcile: roll back, start again next pass."""


def _staging(table: Table) -> sql.Identifier:
    return sql.Identifier(f"push_{table.name}")


def _staging_sql(table: Table) -> sql.Composed:
    """A temporary table per replicated table: each batch is COPYed in, then upserted."""
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.kind.value))
        for c in table.columns
    )
    return sql.SQL("CREATE TEMPORARY TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
        _staging(table), cols
    )


def _copy_sql(table: Table) -> sql.Composed:
    cols = sql.SQL(", ").join(map(sql.Identifier, table.column_names))
    return sql.SQL("COPY {} ({}) FROM STDIN").format(_staging(table), cols)


def _upsert_sql(table: Table) -> sql.Composed:
    cols = table.column_names
    targets = sql.SQL(", ").join(map(sql.Identifier, ("kiosk_id", "school_id", *cols)))
    values = sql.SQL(", ").join(map(sql.Identifier, cols))
    rest = cols[1:]
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in rest
    )
    mine = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in rest)
    theirs = sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in rest)
    # Unchanged rows are not rewritten (a reconcile resends everything).
    return sql.SQL(
        "INSERT INTO trust.{table} AS t ({targets}) SELECT %s, %s, {values} FROM {staging} "
        "ON CONFLICT (kiosk_id, id) DO UPDATE SET {updates} "
        "WHERE ({mine}) IS DISTINCT FROM ({theirs})"
    ).format(
        table=sql.Identifier(table.name),
        targets=targets,
        values=values,
        staging=_staging(table),
        updates=updates,
        mine=mine,
        theirs=theirs,
    )


_STAGING = {t.name: _staging_sql(t) for t in TABLES}
_COPY = {t.name: _copy_sql(t) for t in TABLES}
_EMPTY = {t.name: sql.SQL("TRUNCATE {}").format(_staging(t)) for t in TABLES}
_UPSERT = {t.name: _upsert_sql(t) for t in TABLES}
_DELETE = {
    t.name: sql.SQL("DELETE FROM trust.{} WHERE kiosk_id = %s AND id = ANY(%s::bigint[])").format(
        sql.Identifier(t.name)
    )
    for t in TABLES
}
_DELETE_RANGE = {
    t.name: sql.SQL(
        "DELETE FROM trust.{} WHERE kiosk_id = %s AND id > %s AND id <= %s "
        "AND NOT (id = ANY(%s::bigint[]))"
    ).format(sql.Identifier(t.name))
    for t in TABLES
}
_DELETE_AFTER = {
    t.name: sql.SQL("DELETE FROM trust.{} WHERE kiosk_id = %s AND id > %s").format(
        sql.Identifier(t.name)
    )
    for t in TABLES
}


class Pusher:
    """Replicates one kiosk database to the trust. Keeps its connection between passes."""

    def __init__(
        self,
        trust: Trust,
        db_path: Path,
        *,
        conninfo: str | None = None,
        application_name: str = "kiosk sync",
    ) -> None:
        if conninfo is None:
            if trust.credentials is None:
                raise TrustError("[trust] credentials is not set: replication is off")
            conninfo = read_credentials(trust.credentials)
        self._conninfo = conninfo
        self._trust = trust
        self._app = application_name
        self._journal = ChangeJournal(db_path)
        self._conn: psycopg.Connection[Any] | None = None
        self._reused = False
        self._staged: set[str] = set()

    @property
    def journal(self) -> ChangeJournal:
        return self._journal

    def close(self) -> None:
        self._drop()
        self._journal.close()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _connection(self) -> psycopg.Connection[Any]:
        conn = self._conn
        self._reused = conn is not None and not (conn.closed or conn.broken)
        if conn is None or not self._reused:
            self._drop()
            self._staged = set()  # temporary tables belonged to the old session
            conn = self._conn = connect(
                self._conninfo,
                connect_timeout=self._trust.connect_timeout_seconds,
                statement_timeout=self._trust.statement_timeout_seconds,
                application_name=self._app,
            )
        return conn

    def check(self) -> str:
        """``kiosk trust check``: connect as this kiosk and say what the trust holds.

        Raises TrustError (or TrustUnavailable) with what to fix.
        """
        try:
            conn = self._connection()
            me = self._whoami(conn)
            row = conn.execute(
                "SELECT name FROM trust.school WHERE school_id = %s", (me.school_id,)
            ).fetchone()
        except psycopg.Error as exc:
            self._drop()
            raise TrustUnavailable(explain(exc)) from exc
        state = self._journal.state()
        info = conn.info
        if str(info.host).startswith("/"):
            how = "over a unix socket"
        elif conn.pgconn.ssl_in_use:
            how = "over TLS, certificate checked" if "verify-full" in self._conninfo else "over TLS"
        else:
            how = "without TLS (loopback)"
        if me.incarnation != state.incarnation or me.pushed_seq > state.max_seq:
            todo = "every row will be sent again at the next sync pass (full reconcile)"
        else:
            todo = f"{max(0, state.max_seq - me.pushed_seq)} changes waiting to be sent"
        return (
            f"Connected to the trust database {info.dbname} on {info.host} {how}, as {info.user}.\n"
            f"This is kiosk {me.kiosk_id} at {row[0] if row else me.school_id}; {todo}."
        )

    # --- one pass -------------------------------------------------------------------

    def push(self, stop: threading.Event | None = None) -> PushReport:
        """Send what is waiting; errors are reported (and retried next pass), not raised."""
        try:
            state = self._journal.state()
            if state.nothing_to_push:
                return PushReport()
            try:
                return self._push(state, stop)
            except psycopg.OperationalError:
                if not self._reused:
                    raise
                # The connection kept from an earlier pass went away (server restarted,
                # network changed): one fresh connection before calling it a failure.
                self._drop()
                return self._push(self._journal.state(), stop)
        except TrustUnavailable as exc:
            self._drop()
            log.warning("trust push: %s", exc)
            return PushReport(contacted=True, caught_up=False, error=str(exc))
        except _Raced as exc:
            return PushReport(contacted=True, caught_up=False, error=str(exc))
        except TrustError as exc:
            log.error("trust push: %s", exc)
            return PushReport(contacted=True, caught_up=False, error=str(exc))
        except psycopg.Error as exc:
            self._drop()
            message = explain(exc)
            log.warning("trust push failed: %s", message)
            return PushReport(contacted=True, caught_up=False, error=message)
        except (sqlite3.Error, StorageError) as exc:
            log.warning("trust push: kiosk database: %s", exc)
            return PushReport(caught_up=False, error=f"kiosk database: {exc}")

    def _push(self, state: LocalState, stop: threading.Event | None) -> PushReport:
        conn = self._connection()
        me = self._whoami(conn)
        reconciled, rows = False, 0
        if me.incarnation != state.incarnation or me.pushed_seq > state.max_seq:
            if me.incarnation and me.pushed_seq > state.max_seq:
                log.warning(
                    "trust: the server has this kiosk's journal up to %d but the kiosk has only "
                    "reached %d: the database went back in time (a restore?); reconciling",
                    me.pushed_seq,
                    state.max_seq,
                )
            done = self._reconcile(conn, me, stop)
            if not done.caught_up:
                return done
            reconciled, rows = True, done.rows
            me, state = self._whoami(conn), self._journal.state()
        self._prune(me.pushed_seq)
        if state.pushed_incarnation != state.incarnation and me.incarnation == state.incarnation:
            self._journal.mark_pushed(state.incarnation)  # a crash after the last reconcile
        acked, entries, batches = me.pushed_seq, 0, 0
        while True:
            if stop is not None and stop.is_set():
                return PushReport(rows, entries, batches, reconciled, True, caught_up=False)
            batch = self._journal.read_batch(acked, self._trust.batch_size)
            if batch is None:
                break
            self._send(conn, me, state.incarnation, acked, batch)
            acked = batch.last_seq
            rows, entries, batches = rows + batch.row_count, entries + batch.entries, batches + 1
            self._prune(acked)
        return PushReport(rows, entries, batches, reconciled, contacted=True)

    def _whoami(self, conn: psycopg.Connection[Any]) -> _Me:
        check_version(conn)
        row = conn.execute(
            "SELECT kiosk_id, school_id, incarnation, pushed_seq FROM trust.kiosk "
            "WHERE role_name = current_user"
        ).fetchone()
        if row is None:
            user = conn.info.user
            raise TrustError(
                f"the trust database has no kiosk for the login {user!r}: trust IT runs "
                "kiosk trust add-kiosk, and gives this kiosk the credentials it prints"
            )
        return _Me(str(row[0]), str(row[1]), row[2], int(row[3]))

    def _prune(self, upto: int) -> None:
        """Drop acknowledged entries; a busy database only delays it to the next pass."""
        try:
            self._journal.prune(upto)
        except sqlite3.OperationalError as exc:
            log.info("trust: journal not pruned yet (%s); next pass", exc)

    def _lock_progress(
        self, conn: psycopg.Connection[Any], me: _Me, incarnation: str | None, seq: int
    ) -> None:
        row = conn.execute(
            "SELECT incarnation, pushed_seq FROM trust.kiosk WHERE kiosk_id = %s FOR UPDATE",
            (me.kiosk_id,),
        ).fetchone()
        if row is None or (row[0], int(row[1])) != (incarnation, seq):
            raise _Raced(
                "another sync process sent this kiosk's changes at the same time; "
                "continuing next pass"
            )

    def _upsert(
        self,
        conn: psycopg.Connection[Any],
        me: _Me,
        table: Table,
        rows: list[Row],
        *,
        again: bool = False,
    ) -> None:
        """COPY ``rows`` (as SQLite has them) into a staging table, then upsert from it.

        COPY's text format takes SQLite's values as they are: 0/1 read as booleans, JSON
        text as jsonb, and UTC times without an offset as UTC (the session's time zone
        is UTC, see ``connect``).
        """
        if not rows:
            return
        if table.name not in self._staged:
            conn.execute(_STAGING[table.name])
            self._staged.add(table.name)
        with conn.cursor().copy(_COPY[table.name]) as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute(_UPSERT[table.name], (me.kiosk_id, me.school_id))
        if again:  # another chunk of this table follows in the same transaction
            conn.execute(_EMPTY[table.name])

    def _send(
        self, conn: psycopg.Connection[Any], me: _Me, incarnation: str, acked: int, batch: Batch
    ) -> None:
        with conn.transaction():
            self._lock_progress(conn, me, incarnation, acked)
            for table in TABLES:
                self._upsert(conn, me, table, batch.rows.get(table.name, []))
            for table in reversed(TABLES):
                gone = batch.deleted.get(table.name)
                if gone:
                    conn.execute(_DELETE[table.name], (me.kiosk_id, gone))
            conn.execute(
                "UPDATE trust.kiosk SET pushed_seq = %s, pushed_at = now() WHERE kiosk_id = %s",
                (batch.last_seq, me.kiosk_id),
            )

    def _reconcile(
        self, conn: psycopg.Connection[Any], me: _Me, stop: threading.Event | None
    ) -> PushReport:
        # Every change after this point has a seq above it and is sent after the reconcile,
        # so rows read below (each chunk a little later) can only be as new or newer.
        start = self._journal.state()
        sent = 0
        try:
            with conn.transaction():
                self._lock_progress(conn, me, me.incarnation, me.pushed_seq)
                for table in TABLES:
                    last: int | None = None
                    while True:
                        if stop is not None and stop.is_set():
                            raise _Stopped
                        rows = self._journal.read_chunk(table, last, RECONCILE_CHUNK)
                        if not rows:
                            conn.execute(
                                _DELETE_AFTER[table.name],
                                (me.kiosk_id, _MIN_ID if last is None else last),
                            )
                            break
                        self._upsert(conn, me, table, rows, again=True)
                        ids = [r[0] for r in rows]
                        conn.execute(
                            _DELETE_RANGE[table.name],
                            (me.kiosk_id, _MIN_ID if last is None else last, ids[-1], ids),
                        )
                        sent += len(rows)
                        last = ids[-1]
                conn.execute(
                    "UPDATE trust.kiosk SET incarnation = %s, pushed_seq = %s, pushed_at = now(), "
                    "reconciled_at = now() WHERE kiosk_id = %s",
                    (start.incarnation, start.max_seq, me.kiosk_id),
                )
        except _Stopped:
            return PushReport(contacted=True, caught_up=False)
        log.info("trust: reconciled kiosk %s in full (%d rows)", me.kiosk_id, sent)
        self._journal.mark_pushed(start.incarnation)
        self._prune(start.max_seq)
        return PushReport(rows=sent, reconciled=True, contacted=True, caught_up=True)

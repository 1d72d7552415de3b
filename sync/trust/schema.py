"""The trust's database: versioned migrations, and the roles for schools, kiosks, readers.

Schema changes are SQL files in ``migrations/`` named ``NNNN_what.sql``, applied
in order by ``kiosk trust migrate`` (and ``kiosk trust init``), each in its own
transaction under an advisory lock, and recorded in ``trust.schema_version``
with the file's SHA-256: a file changed after it was applied is refused, and so
is a database newer than this software. Nothing is changed by hand.

Adding a kiosk makes a login role (``kiosk_<id>``) in ``trust_kiosks`` with a
random password, sent to the server already hashed (SCRAM), and returns the
credentials line and the ``[trust]`` section for the kiosk's settings.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from kiosk.errors import NotFound, Refused
from sync.trust.connect import TrustError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
#: The schema version the pusher and the view need at least.
REQUIRED_VERSION = 1
#: The schema that has the web's own role (``trust_web``, 0002_web.sql).
WEB_VERSION = 2
_LOCK = 0x6B696F736B  # "kiosk": one migrator at a time


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in order; numbering must run 1, 2, 3 ... without gaps."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise TrustError(f"{path}: a migration is named NNNN_what.sql")
        found.append(Migration(int(m.group(1)), path.name, path.read_text(encoding="utf-8")))
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            raise TrustError(f"{folder}: migration {expected:04d} is missing (found {mig.name})")
    return found


def applied(conn: psycopg.Connection[Any]) -> dict[int, tuple[str, str]]:
    """Versions recorded in the database: version -> (file name, sha256)."""
    exists = conn.execute("SELECT to_regclass('trust.schema_version')").fetchone()
    if not exists or exists[0] is None:
        return {}
    rows = conn.execute("SELECT version, name, sha256 FROM trust.schema_version").fetchall()
    return {int(v): (str(n), str(h)) for v, n, h in rows}


def migrate(conn: psycopg.Connection[Any], folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations the database lacks; returns the names applied."""
    wanted = migrations(folder)
    done: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute("CREATE SCHEMA IF NOT EXISTS trust")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS trust.schema_version (version integer PRIMARY KEY, "
            "name text NOT NULL, sha256 text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
    have = applied(conn)
    newest = max(have, default=0)
    if newest > len(wanted):
        raise TrustError(
            f"the trust database is at schema {newest}, newer than this software "
            f"({len(wanted)}): update the kiosk software that runs kiosk trust"
        )
    for mig in wanted:
        if mig.version in have:
            name, digest = have[mig.version]
            if digest != mig.sha256:
                raise TrustError(
                    f"migration {mig.name} was changed after it was applied (as {name}): "
                    "schema changes go in a new migration file, never in an applied one"
                )
            continue
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            if conn.execute(
                "SELECT 1 FROM trust.schema_version WHERE version = %s", (mig.version,)
            ).fetchone():
                continue  # another migrator got here first
            conn.execute(mig.text.encode("utf-8"))  # bytes: no client-side placeholders
            conn.execute(
                "INSERT INTO trust.schema_version (version, name, sha256) VALUES (%s, %s, %s)",
                (mig.version, mig.name, mig.sha256),
            )
        log.info("trust database: applied %s", mig.name)
        done.append(mig.name)
    return done


def check_version(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT max(version) FROM trust.schema_version").fetchone()
    version = int(row[0]) if row and row[0] is not None else 0
    if version < REQUIRED_VERSION:
        raise TrustError(
            f"the trust database is at schema {version}; this kiosk needs "
            f"{REQUIRED_VERSION}: trust IT runs kiosk trust migrate"
        )
    return version


# --- schools, kiosks, readers -----------------------------------------------------------


def _check_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise Refused(
            f"{what} {value!r}: use lower-case letters, digits and dashes "
            "(at most 40, starting with a letter or digit), e.g. hillside or hillside-office"
        )
    return value


def role_for(prefix: str, ident: str) -> str:
    return f"{prefix}_{ident.replace('-', '_')}"


def add_school(conn: psycopg.Connection[Any], school_id: str, name: str) -> None:
    _check_id(school_id, "school id")
    if not name.strip():
        raise Refused("A school needs a name (--name).")
    conn.execute(
        "INSERT INTO trust.school (school_id, name) VALUES (%s, %s) "
        "ON CONFLICT (school_id) DO UPDATE SET name = EXCLUDED.name",
        (school_id, name.strip()),
    )


def _school_exists(conn: psycopg.Connection[Any], school_id: str) -> None:
    if not conn.execute("SELECT 1 FROM trust.school WHERE school_id = %s", (school_id,)).fetchone():
        raise NotFound(
            f"There is no school {school_id!r} in the trust database: "
            f"kiosk trust add-school {school_id} --name '...'"
        )


def _new_login(conn: psycopg.Connection[Any], role: str, group: str, limit: int) -> str:
    """Create (or give a new password to) the login ``role`` in ``group``; returns the password."""
    password = secrets.token_urlsafe(24)
    # Hashed here (libpq's PQencryptPasswordConn): the password itself never reaches the
    # server, its logs or pg_stat_statements.
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(
        sql.SQL("{} ROLE {} LOGIN INHERIT CONNECTION LIMIT {} PASSWORD {}").format(
            sql.SQL(verb), sql.Identifier(role), sql.Literal(limit), sql.Literal(verifier.decode())
        )
    )
    conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(role)))
    return password


@dataclass(frozen=True)
class Login:
    role: str
    password: str
    conninfo: str
    """The credentials file's one line."""


def _conninfo(
    conn: psycopg.Connection[Any], role: str, password: str, host: str, port: int, ca: str
) -> str:
    from psycopg.conninfo import make_conninfo

    dbname = str(conn.info.dbname)
    params: dict[str, Any] = {
        "host": host,
        "port": port,
        "dbname": dbname,
        "user": role,
        "password": password,
    }
    if not host.startswith("/"):
        params.update(sslmode="verify-full", sslrootcert=ca)
    return make_conninfo(**params)


def add_kiosk(
    conn: psycopg.Connection[Any], kiosk_id: str, school_id: str, *, host: str, port: int, ca: str
) -> Login:
    """Register kiosk ``kiosk_id`` at ``school_id`` with its own login role."""
    _check_id(kiosk_id, "kiosk id")
    role = role_for("kiosk", kiosk_id)
    with conn.transaction():
        _school_exists(conn, school_id)
        row = conn.execute(
            "SELECT school_id FROM trust.kiosk WHERE kiosk_id = %s", (kiosk_id,)
        ).fetchone()
        if row and row[0] != school_id:
            raise Refused(
                f"Kiosk {kiosk_id!r} belongs to {row[0]!r}. A kiosk keeps its school; "
                "give the new one another id."
            )
        password = _new_login(conn, role, "trust_kiosks", 3)
        conn.execute(
            "INSERT INTO trust.kiosk (kiosk_id, school_id, role_name) VALUES (%s, %s, %s) "
            "ON CONFLICT (kiosk_id) DO NOTHING",
            (kiosk_id, school_id, role),
        )
    return Login(role, password, _conninfo(conn, role, password, host, port, ca))


def add_reader(
    conn: psycopg.Connection[Any],
    name: str,
    school_id: str | None,
    *,
    host: str,
    port: int,
    ca: str,
    web: bool = False,
) -> Login:
    """A login that reads one school (an office account) or, with no school, the whole trust.

    ``web``: the login for ``kiosk web``'s trust pages (``trust_web``, migration 0002): every
    school, but only what the pages show, and only the schools each statement names.
    """
    _check_id(name, "reader name")
    if web and school_id is not None:
        raise Refused("A web login reads the schools each page names: give no --school.")
    with conn.transaction():
        if web:
            if check_version(conn) < WEB_VERSION:
                raise TrustError(
                    f"the trust database has no web role yet (schema {WEB_VERSION}): "
                    "run kiosk trust migrate first"
                )
            role = role_for("web", name)
            password = _new_login(conn, role, "trust_web", 10)
        elif school_id is None:
            role = role_for("trust", name)
            password = _new_login(conn, role, "trust_readers", 20)
        else:
            _school_exists(conn, school_id)
            role = role_for("office", name)
            other = conn.execute(
                "SELECT school_id FROM trust.reader WHERE role_name = %s", (role,)
            ).fetchone()
            if other and other[0] != school_id:
                raise Refused(
                    f"The office reader {name!r} reads {other[0]!r}; choose another name."
                )
            password = _new_login(conn, role, "trust_office", 20)
            conn.execute(
                "INSERT INTO trust.reader (role_name, school_id) VALUES (%s, %s) "
                "ON CONFLICT (role_name) DO NOTHING",
                (role, school_id),
            )
    return Login(role, password, _conninfo(conn, role, password, host, port, ca))


@dataclass(frozen=True)
class KioskProgress:
    kiosk_id: str
    school_id: str
    pushed_seq: int
    pushed_at: Any
    reconciled_at: Any


def kiosks(conn: psycopg.Connection[Any]) -> list[KioskProgress]:
    rows = conn.execute(
        "SELECT kiosk_id, school_id, pushed_seq, pushed_at, reconciled_at FROM trust.kiosk "
        "ORDER BY school_id, kiosk_id"
    ).fetchall()
    return [KioskProgress(*r) for r in rows]

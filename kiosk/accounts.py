"""Web accounts: who may open the office board in a browser, their sessions and lockouts.

Kept in a small SQLite file of its own (``web.db`` beside the kiosk database, see
``[web] accounts``), so that ``kiosk web`` never needs to write the kiosk's database.
Only ``kiosk web``, ``kiosk web add-user``/``passwd``/``remove-user`` and the kiosk's admin
screen (Admin, Web accounts) write it: this module imports no web framework for that reason.

- Passwords: at least ``MIN_PASSWORD`` characters, not one of the common passwords in
  ``kiosk/data/common-passwords.txt.gz`` (nor one of them with digits or symbols added),
  stored as argon2id hashes. The cost is OWASP's argon2id setting (19 MiB, 2 passes, 1
  lane), not argon2-cffi's 64 MiB default: ``kiosk web`` must stay under 80 MB beside the
  kiosk on a Pi, and only one hash is computed at a time (``Accounts`` holds a lock).
- Sessions: a random token in the browser's cookie; only its SHA-256 is stored, so a copy
  of this file signs nobody in. A session ends on sign-out, after ``idle_minutes`` with no
  page opened, or ``MAX_SESSION_HOURS`` after sign-in, whichever is first.
- Lockout: ``attempts`` wrong passwords in a row for one account name (known or not: the
  answer never tells which names exist) lock it for ``lock_minutes``; a client address gets
  ``ADDRESS_FACTOR`` times as many over all names, so one machine cannot try every name.

Times come from the injected ``Clock`` (UTC), so tests pin them.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import logging
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.clock import Clock
from kiosk.errors import KioskError, StorageError
from kiosk.settings import Settings

log = logging.getLogger(__name__)

MIN_PASSWORD = 10
#: Longer than any password manager makes; refuses megabytes of "password" up front.
MAX_PASSWORD = 256
#: The longest a session lasts, however busy: a school day and a bit.
MAX_SESSION_HOURS = 12
#: A session's last use is written at most this often (each page view need not write).
TOUCH_SECONDS = 60
#: A client address may get this many times ``attempts`` wrong passwords over all names.
ADDRESS_FACTOR = 4

ROLES = ("office", "slt", "admin")
ROLE_LABELS = {"office": "Office", "slt": "Senior leadership", "admin": "Admin (IT)"}

COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"

#: argon2id at OWASP's setting (see the module docstring).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS account (
        username TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        password_changed_at TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE IF NOT EXISTS session (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES account (username) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS session_username ON session (username)",
    """CREATE TABLE IF NOT EXISTS lockout (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        first_at TEXT NOT NULL,
        locked_until TEXT
    )""",
]
_SCHEMA_VERSION = 2
#: Steps from each older version to the next (one function each, run in order).
_UPGRADES: dict[int, str] = {
    # v2: what a trust-mode account may see ("" one kiosk's board, a school id, or "*").
    1: "ALTER TABLE account ADD COLUMN scope TEXT NOT NULL DEFAULT ''",
}
#: The scope of an account that sees every school of the trust (trust-mode ``kiosk web``).
WHOLE_TRUST = "*"
_SCHOOL_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class AccountError(KioskError, ValueError):
    """A web account cannot be made or changed as asked; the message says why."""


class SignInRefused(KioskError):
    """A sign-in was refused; the message is what the sign-in page shows."""


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    role: str
    created_at: datetime
    password_changed_at: datetime
    scope: str = ""
    """What a trust-mode ``kiosk web`` shows this account: a school id (that school's page
    only), WHOLE_TRUST (every school), or "" (an account of one kiosk's own board, which
    the trust's pages refuse)."""

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def scope_label(self) -> str:
        if self.scope == WHOLE_TRUST:
            return "the whole trust"
        return f"school {self.scope}" if self.scope else "this kiosk's school"

    def may_see(self, school_id: str) -> bool:
        """Whether this account may see ``school_id``'s page on the trust's board."""
        return self.scope in (WHOLE_TRUST, school_id)


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser. ``token`` is set only when the session is made (for its cookie)."""

    account: Account
    csrf: str
    created_at: datetime
    last_seen: datetime
    token: str = ""


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` may not be used, in words for the person choosing it; None if fine."""
    if len(password) < MIN_PASSWORD:
        return f"The password needs at least {MIN_PASSWORD} characters (it has {len(password)})."
    if len(password) > MAX_PASSWORD:
        return f"The password can have at most {MAX_PASSWORD} characters."
    lowered = password.lower()
    if len(set(lowered)) < 4:
        return "The password repeats too few characters: choose one that is harder to guess."
    if username and username.lower() in lowered:
        return "The password must not contain the account name."
    common = _common_passwords()
    if lowered in common:
        return "That password is one of the most common passwords: choose another."
    stripped = lowered.strip("0123456789!?.,;:_-+*#@$%&^~ ")
    if stripped != lowered and stripped in common:
        return (
            "That password is a common password with numbers or symbols added: choose another "
            "(three or four unrelated words make a good one)."
        )
    return None


def normalise_scope(scope: str) -> str:
    """A scope as stored: "", WHOLE_TRUST, or a school id as ``kiosk trust add-school`` has it."""
    scope = scope.strip().lower()
    if scope in ("", WHOLE_TRUST) or _SCHOOL_ID.match(scope):
        return scope
    raise AccountError(
        f"A school id is lower-case letters, digits and dashes (as kiosk trust add-school "
        f"made it, e.g. hillside); {scope!r} is not."
    )


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise AccountError(
            "An account name is 1 to 64 letters, digits and . _ @ - (no spaces), starting "
            f"with a letter or digit; {username!r} is not."
        )
    return name


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """The accounts file: accounts, sessions, sign-in lockouts. Safe to share between threads."""

    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        idle_minutes: int = 30,
        attempts: int = 5,
        lock_minutes: int = 15,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.idle = timedelta(minutes=idle_minutes)
        self.attempts = attempts
        self.lock = timedelta(minutes=lock_minutes)
        self._hash_lock = threading.Lock()
        self._dummy_hash: str | None = None
        self._create()

    # --- storage ------------------------------------------------------------------------

    def _create(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                # Password hashes: readable by the kiosk user only, from the first byte.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise StorageError(
                f"Cannot create the web accounts file {self.path}: {exc.strerror}. "
                "Check [web] accounts in the settings and who owns the folder."
            ) from exc
        with self._write() as con:
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
            if version > _SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path}: written by a newer kiosk (accounts schema {version}). "
                    "Update the kiosk software."
                )
            has_account = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account'"
            ).fetchone()
            if has_account:
                for step in range(max(version, 1), _SCHEMA_VERSION):
                    con.execute(_UPGRADES[step])
            for statement in _SCHEMA:
                con.execute(statement)
            con.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _connect(self, durable: bool = True) -> sqlite3.Connection:
        """``durable``: the commit is on the card before it returns (accounts, lockouts).
        A session's last use is not worth an SD card flush on every page opened."""
        try:
            con = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            con.execute("PRAGMA journal_mode = WAL")
            con.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            con.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise StorageError(self._explain(exc)) from exc
        return con

    def _explain(self, exc: sqlite3.Error) -> str:
        from kiosk.db import explain_sqlite_error

        return explain_sqlite_error(exc, self.path)

    @contextmanager
    def _write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        con = self._connect(durable)
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise StorageError(self._explain(exc)) from exc
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            yield con
        except sqlite3.Error as exc:
            raise StorageError(self._explain(exc)) from exc
        finally:
            con.close()

    # --- hashing ------------------------------------------------------------------------

    def _hash(self, password: str) -> str:
        with self._hash_lock:
            return _HASHER.hash(password)

    def _verify(self, stored: str, password: str) -> bool:
        with self._hash_lock:
            try:
                return _HASHER.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False

    def _dummy(self) -> str:
        """A hash to check unknown names against, so that they take as long as known ones."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    # --- accounts -----------------------------------------------------------------------

    @staticmethod
    def _account(row: sqlite3.Row | tuple[str, ...]) -> Account:
        return Account(row[0], row[1], row[2], _dt(row[3]), _dt(row[4]), row[5])

    def users(self) -> list[Account]:
        with self._read() as con:
            rows = con.execute(
                "SELECT username, name, role, created_at, password_changed_at, scope"
                " FROM account"
                " ORDER BY username"
            ).fetchall()
        return [self._account(r) for r in rows]

    def get(self, username: str) -> Account | None:
        with self._read() as con:
            row = con.execute(
                "SELECT username, name, role, created_at, password_changed_at, scope"
                " FROM account"
                " WHERE username = ?",
                (username.strip().lower(),),
            ).fetchone()
        return self._account(row) if row else None

    def add_user(
        self, username: str, name: str, role: str, password: str, *, scope: str = ""
    ) -> Account:
        """Make an account; AccountError says what is wrong with any part of it.

        ``scope``: for the trust's board, the school it sees or WHOLE_TRUST (see Account)."""
        username = normalise_username(username)
        scope = normalise_scope(scope)
        name = " ".join(name.split())
        if not name:
            raise AccountError("Give the person's name (as the office knows them).")
        if role not in ROLES:
            raise AccountError(f"The role must be one of {', '.join(ROLES)}; got {role!r}.")
        problem = password_problem(password, username)
        if problem:
            raise AccountError(problem)
        hashed = self._hash(password)
        now = _ts(self.clock.now())
        with self._write() as con:
            if con.execute("SELECT 1 FROM account WHERE username = ?", (username,)).fetchone():
                raise AccountError(
                    f"There is already an account called {username!r} "
                    "(kiosk web passwd changes its password)."
                )
            con.execute(
                "INSERT INTO account (username, name, role, password_hash, created_at,"
                " password_changed_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (username, name, role, hashed, now, now, scope),
            )
        log.info("web account %s added (%s)", username, role)
        account = self.get(username)
        assert account is not None
        return account

    def set_password(self, username: str, password: str, *, keep_token: str = "") -> None:
        """Change a password and end the account's sessions (but the one of ``keep_token``)."""
        username = normalise_username(username)
        problem = password_problem(password, username)
        if problem:
            raise AccountError(problem)
        hashed = self._hash(password)
        with self._write() as con:
            done = con.execute(
                "UPDATE account SET password_hash = ?, password_changed_at = ? WHERE username = ?",
                (hashed, _ts(self.clock.now()), username),
            ).rowcount
            if not done:
                raise AccountError(f"There is no account called {username!r}.")
            con.execute(
                "DELETE FROM session WHERE username = ? AND token_hash != ?",
                (username, _token_hash(keep_token) if keep_token else ""),
            )
        log.info("web account %s: password changed", username)

    def change_own_password(
        self, session: WebSession, token: str, current: str, new: str, address: str = ""
    ) -> None:
        """A signed-in person changes their own password; the current one is checked first."""
        username = session.account.username
        self._refuse_if_locked(username, address)
        with self._read() as con:
            row = con.execute(
                "SELECT password_hash FROM account WHERE username = ?", (username,)
            ).fetchone()
        if row is None or not self._verify(row[0], current):
            self._failed(username, address)
            raise AccountError("The current password is not right. Nothing was changed.")
        if new == current:
            raise AccountError("The new password is the same as the current one.")
        self.set_password(username, new, keep_token=token)

    def remove_user(self, username: str) -> None:
        username = normalise_username(username)
        with self._write() as con:
            con.execute("DELETE FROM session WHERE username = ?", (username,))
            if not con.execute("DELETE FROM account WHERE username = ?", (username,)).rowcount:
                raise AccountError(f"There is no account called {username!r}.")
        log.info("web account %s removed", username)

    # --- signing in ---------------------------------------------------------------------

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        keys = [(f"name:{username.strip().lower()}", self.attempts)]
        if address:
            keys.append((f"addr:{address}", self.attempts * ADDRESS_FACTOR))
        return keys

    def locked_for(self, username: str, address: str = "") -> float:
        """Seconds until sign-in is allowed again for this name from this address (0: now)."""
        now = self.clock.now()
        worst = 0.0
        with self._read() as con:
            for key, _ in self._keys(username, address):
                row = con.execute(
                    "SELECT locked_until FROM lockout WHERE key = ?", (key,)
                ).fetchone()
                if row and row[0]:
                    worst = max(worst, (_dt(row[0]) - now).total_seconds())
        return max(0.0, worst)

    def _refuse_if_locked(self, username: str, address: str) -> None:
        wait = self.locked_for(username, address)
        if wait > 0:
            minutes = max(1, round(wait / 60 + 0.49))
            raise SignInRefused(
                "Too many wrong passwords. Sign-in is locked for "
                f"{minutes} minute{'s' if minutes != 1 else ''}; try again then, or ask "
                "the IT lead to set a new password."
            )

    def _failed(self, username: str, address: str) -> None:
        now = self.clock.now()
        with self._write() as con:
            for key, limit in self._keys(username, address):
                row = con.execute(
                    "SELECT failures, first_at, locked_until FROM lockout WHERE key = ?", (key,)
                ).fetchone()
                failures, first = 0, now
                if row and not (row[2] and _dt(row[2]) <= now) and now - _dt(row[1]) < self.lock:
                    failures, first = row[0], _dt(row[1])
                failures += 1
                until = _ts(now + self.lock) if failures >= limit else None
                con.execute(
                    "INSERT OR REPLACE INTO lockout VALUES (?, ?, ?, ?)",
                    (key, 0 if until else failures, _ts(first), until),
                )
                if until:
                    log.warning("web sign-in locked for %s after %d wrong passwords", key, limit)

    def sign_in(self, username: str, password: str, address: str = "") -> WebSession:
        """Check a name and password; a new session, or SignInRefused with what to say."""
        name = username.strip().lower()
        self._refuse_if_locked(name, address)
        with self._read() as con:
            row = con.execute(
                "SELECT password_hash FROM account WHERE username = ?", (name,)
            ).fetchone()
        ok = self._verify(row[0] if row else self._dummy(), password[:MAX_PASSWORD])
        if not (row and ok):
            self._failed(name, address)
            self._refuse_if_locked(name, address)
            raise SignInRefused("That account name and password do not match. Try again.")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = _ts(self.clock.now())
        with self._write() as con:
            con.execute("DELETE FROM lockout WHERE key = ?", (f"name:{name}",))
            con.execute(
                "INSERT INTO session VALUES (?, ?, ?, ?, ?)",
                (_token_hash(token), name, csrf, now, now),
            )
        log.info("web sign-in: %s", name)
        session = self.session(token, touch=False)
        assert session is not None
        return WebSession(session.account, csrf, session.created_at, session.last_seen, token)

    def session(self, token: str, *, touch: bool = True) -> WebSession | None:
        """The live session of a cookie's token, or None (unknown, idle too long or too old).

        ``touch``: a page was opened, so the idle time starts again (the live board's
        stream does not touch: an open page nobody looks at still times out).
        """
        if not token:
            return None
        now = self.clock.now()
        key = _token_hash(token)
        with self._read() as con:
            row = con.execute(
                "SELECT a.username, a.name, a.role, a.created_at, a.password_changed_at,"
                " a.scope, s.csrf, s.created_at, s.last_seen FROM session s"
                " JOIN account a ON a.username = s.username WHERE s.token_hash = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        created, last = _dt(row[7]), _dt(row[8])
        if now - last > self.idle or now - created >= timedelta(hours=MAX_SESSION_HOURS):
            self.sign_out(token)
            return None
        if touch and (now - last).total_seconds() >= TOUCH_SECONDS:
            with self._write(durable=False) as con:
                con.execute(
                    "UPDATE session SET last_seen = ? WHERE token_hash = ?", (_ts(now), key)
                )
            last = now
        return WebSession(self._account(row[:6]), row[6], created, last)

    def sign_out(self, token: str) -> None:
        with self._write() as con:
            con.execute("DELETE FROM session WHERE token_hash = ?", (_token_hash(token),))

    def prune(self) -> int:
        """Forget sessions that have timed out and lockouts that are over; returns how many."""
        now = self.clock.now()
        with self._write() as con:
            n = con.execute(
                "DELETE FROM session WHERE last_seen < ? OR created_at < ?",
                (_ts(now - self.idle), _ts(now - timedelta(hours=MAX_SESSION_HOURS))),
            ).rowcount
            n += con.execute(
                "DELETE FROM lockout WHERE (locked_until IS NOT NULL AND locked_until < ?)"
                " OR (locked_until IS NULL AND first_at < ?)",
                (_ts(now), _ts(now - self.lock)),
            ).rowcount
        return n


def same_token(a: str, b: str) -> bool:
    """Constant-time comparison of two tokens (CSRF), false when either is empty."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def accounts_path(settings: Settings) -> Path:
    """Where the accounts file is: ``[web] accounts``, or web.db beside the kiosk database."""
    return settings.web.accounts or settings.kiosk.db.parent / "web.db"


def open_accounts(settings: Settings, clock: Clock) -> Accounts:
    """The accounts file the settings name, with their sign-in rules (``kiosk web``, the CLI
    and the admin screen all open it here, so they agree on where it is)."""
    w = settings.web
    return Accounts(
        accounts_path(settings),
        clock,
        idle_minutes=w.idle_minutes,
        attempts=w.signin_attempts,
        lock_minutes=w.signin_lock_minutes,
    )

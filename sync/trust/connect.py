"""Connecting to the trust's PostgreSQL: the credentials file, TLS, time-outs.

The credentials file holds one libpq connection string (``host=... dbname=...
user=... password=... sslmode=verify-full sslrootcert=...``), written by
``kiosk trust add-kiosk`` / ``add-reader``. It holds a password, so it must be
readable only by root and the kiosk user: a file others can read (or anyone
but its owner can write) is refused, naming the file and the fix.

A server that is not on this machine (not a unix socket, not loopback) must be
reached over TLS with its certificate checked against the trust's CA
(``sslmode=verify-full``); anything weaker is refused before connecting.

Every connection sets a connect time-out, a statement time-out, a lock time-out
and a TCP user time-out, so a server that is down, slow or unreachable costs at
most those seconds and never hangs ``kiosk sync``.
"""

from __future__ import annotations

import ipaddress
import logging
import stat
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from kiosk.errors import ConfigError
from sync.errors import SyncError

log = logging.getLogger(__name__)

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class TrustError(SyncError):
    """The trust's database refused, failed or is not set up; the message says what to do."""


class TrustUnavailable(TrustError, ConnectionError):
    """The trust's database cannot be reached right now (down, slow, network); retried later."""


def read_credentials(path: Path) -> str:
    """The connection string in ``path``, after checking who may read the file."""
    fix = f"sudo chown root:kiosk {path} && sudo chmod 640 {path}"
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: the trust credentials file does not exist ([trust] credentials). "
            "Trust IT makes it with: kiosk trust add-kiosk"
        ) from exc
    except PermissionError as exc:
        raise ConfigError(
            f"{path}: cannot read the trust credentials file (permission denied)"
        ) from exc
    mode = stat.S_IMODE(st.st_mode)
    if mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH):
        raise ConfigError(
            f"{path}: other users can read this file (mode {mode:04o}) and it holds the "
            f"trust database password. Fix: {fix}"
        )
    if mode & stat.S_IWGRP:
        raise ConfigError(f"{path}: its group can change this file (mode {mode:04o}). Fix: {fix}")
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError as exc:
        raise ConfigError(
            f"{path}: cannot read the trust credentials file (permission denied). "
            f"Run as the kiosk user, or: {fix}"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the trust credentials file: {exc}") from exc
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) != 1:
        raise ConfigError(
            f"{path}: expected one line, a connection string like "
            "host=trust.example.org dbname=trust user=kiosk_x password=... "
            "sslmode=verify-full sslrootcert=/etc/kiosk/trust-ca.crt"
        )
    conninfo = lines[0]
    check_conninfo(conninfo, str(path))
    return conninfo


def _is_local(host: str) -> bool:
    if not host or host.startswith("/") or host.startswith("@"):
        return True  # a unix socket (a path, or an abstract one)
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_conninfo(conninfo: str, where: str) -> dict[str, Any]:
    """Parse ``conninfo`` and refuse a remote server without certificate checking."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"{where}: not a valid connection string: {exc}") from exc
    hosts = [h.strip() for h in str(params.get("host") or "").split(",")]
    addrs = [a.strip() for a in str(params.get("hostaddr") or "").split(",") if a.strip()]
    remote = [h for h in hosts if not _is_local(h)] + [a for a in addrs if not _is_local(a)]
    if remote:
        mode = str(params.get("sslmode") or "prefer")
        root = str(params.get("sslrootcert") or "")
        if mode != "verify-full":
            raise ConfigError(
                f"{where}: {remote[0]} is not on this machine, so the connection must check "
                f"the server's certificate: set sslmode=verify-full (it is {mode}) and "
                "sslrootcert=/etc/kiosk/trust-ca.crt (the trust's CA certificate)"
            )
        if not root:
            raise ConfigError(
                f"{where}: sslmode=verify-full needs sslrootcert=PATH, the trust's CA "
                "certificate (or sslrootcert=system for a public CA)"
            )
        if root != "system" and not Path(root).is_file():
            raise ConfigError(f"{where}: sslrootcert={root}: there is no such file")
    return params


def connect(
    conninfo: str,
    *,
    connect_timeout: int,
    statement_timeout: float,
    application_name: str,
) -> psycopg.Connection[Any]:
    """An autocommit connection with every time-out set; TrustUnavailable when it fails."""
    ms = max(1, int(statement_timeout * 1000))
    try:
        return psycopg.connect(
            conninfo,
            autocommit=True,
            connect_timeout=max(2, int(connect_timeout)),
            application_name=application_name,
            # Server side: a slow statement or a lock held elsewhere ends with an error.
            options=f"-c statement_timeout={ms} -c lock_timeout={ms} "
            f"-c idle_in_transaction_session_timeout={ms * 3} -c TimeZone=UTC",
            # Client side: a server that stops answering mid-statement (network gone)
            # is given up by the kernel instead of waiting for ever.
            tcp_user_timeout=ms + 5000,
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )
    except psycopg.OperationalError as exc:
        raise TrustUnavailable(explain(exc)) from exc


def explain(exc: BaseException) -> str:
    """The driver's error in words trust IT and a school's IT lead can act on."""
    text = " ".join(str(exc).split())
    low = text.lower()
    if "password authentication failed" in low:
        return (
            "the trust's database refused the password in the credentials file: ask trust IT "
            f"for a new one (kiosk trust add-kiosk or add-reader). ({text})"
        )
    if "certificate verify failed" in low or "server certificate" in low:
        return (
            "the trust's server certificate could not be checked against the CA in "
            f"sslrootcert: check the CA file and the host name. ({text})"
        )
    if "timeout" in low or "timed out" in low:
        return f"the trust's database did not answer in time; will try again. ({text})"
    if "terminating connection" in low or "server closed the connection" in low:
        return f"the trust's database closed the connection; will try again. ({text})"
    if "connection refused" in low or "could not connect" in low or "no such file" in low:
        return f"the trust's database is not reachable; will try again. ({text})"
    if "canceling statement due to statement timeout" in low or "lock timeout" in low:
        return f"the trust's database was too slow; will try again. ({text})"
    return f"the trust's database: {text}"

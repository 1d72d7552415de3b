"""``kiosk web``: the office board in a browser; ``kiosk web add-user|passwd|remove-user|users``.

The web framework (Starlette, uvicorn, Jinja2) is imported only when the board is served,
so every other ``kiosk`` command starts as fast as before.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.cli import add_common, load_from_args
from kiosk.commands import out
from kiosk.errors import ConfigError, Refused
from kiosk.settings import Settings

if TYPE_CHECKING:
    from kiosk.accounts import Accounts
    from kiosk.clock import Clock

log = logging.getLogger("kiosk.web")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "web", help="the office board in a browser (and its accounts: kiosk web add-user ...)"
    )
    add_common(p)
    p.add_argument("--listen", help="address to listen on (default [web] listen)")
    p.add_argument("--port", type=int, help="port to listen on (default [web] port)")
    p.set_defaults(func=run_serve)
    action = p.add_subparsers(dest="action", metavar="ACTION")
    add = action.add_parser("add-user", help="make a web account for office, SLT or admin staff")
    add.add_argument("username", help="the account name they sign in with (e.g. s.evans)")
    add.add_argument(
        "--name", required=True, help='their name, as the office knows them: "Siân Evans"'
    )
    add.add_argument(
        "--role", choices=("office", "slt", "admin"), default="office", help="default office"
    )
    scope = add.add_mutually_exclusive_group()
    scope.add_argument(
        "--school",
        metavar="SCHOOL_ID",
        help="on the trust's board ([web] trust_credentials): sees this school's page only",
    )
    scope.add_argument(
        "--trust",
        action="store_true",
        help="on the trust's board: sees every school and the all-schools page",
    )
    add_common(add)
    add.set_defaults(func=run_add_user)
    passwd = action.add_parser("passwd", help="set a new password for a web account")
    passwd.add_argument("username")
    add_common(passwd)
    passwd.set_defaults(func=run_passwd)
    remove = action.add_parser("remove-user", help="remove a web account (signs it out)")
    remove.add_argument("username")
    add_common(remove)
    remove.set_defaults(func=run_remove_user)
    users = action.add_parser("users", help="list the web accounts")
    add_common(users)
    users.set_defaults(func=run_users)


def accounts_path(settings: Settings) -> Path:
    from kiosk.accounts import accounts_path

    return accounts_path(settings)


def open_accounts(settings: Settings, clock: Clock | None = None) -> Accounts:
    from kiosk.accounts import open_accounts
    from kiosk.clock import clock_from_env

    return open_accounts(settings, clock or clock_from_env())


def _new_password(username: str) -> str:
    """Asked twice at a terminal; one line on standard input otherwise (scripts)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    from kiosk.accounts import MIN_PASSWORD

    first = getpass.getpass(f"New password for {username} (at least {MIN_PASSWORD} characters): ")
    if getpass.getpass("Again: ") != first:
        raise Refused("The two passwords differ. Nothing changed.")
    return first


def _account_error(exc: Exception) -> Refused:
    return Refused(f"{exc} Nothing changed.")


def run_add_user(args: argparse.Namespace) -> int:
    from kiosk.accounts import WHOLE_TRUST, AccountError, normalise_scope, normalise_username

    accounts = open_accounts(load_from_args(args))
    try:
        username = normalise_username(args.username)
        if accounts.get(username) is not None:
            raise AccountError(
                f"There is already an account called {username!r} (kiosk web passwd "
                "changes its password)."
            )
        scope = WHOLE_TRUST if args.trust else normalise_scope(args.school or "")
        account = accounts.add_user(
            username, args.name, args.role, _new_password(username), scope=scope
        )
    except AccountError as exc:
        raise _account_error(exc) from exc
    sees = f", sees {account.scope_label}" if account.scope else ""
    out(f"Web account {account.username} made for {account.name} ({account.role_label}{sees}).")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    from kiosk.accounts import AccountError, normalise_username

    accounts = open_accounts(load_from_args(args))
    try:
        username = normalise_username(args.username)
        if accounts.get(username) is None:
            raise AccountError(f"There is no account called {username!r}.")
        accounts.set_password(username, _new_password(username))
    except AccountError as exc:
        raise _account_error(exc) from exc
    out(f"Password changed for {username}; its browsers are signed out.")
    return 0


def run_remove_user(args: argparse.Namespace) -> int:
    from kiosk.accounts import AccountError

    accounts = open_accounts(load_from_args(args))
    try:
        accounts.remove_user(args.username)
    except AccountError as exc:
        raise _account_error(exc) from exc
    out(f"Web account {args.username.strip().lower()} removed.")
    return 0


def run_users(args: argparse.Namespace) -> int:
    accounts = open_accounts(load_from_args(args))
    users = accounts.users()
    if not users:
        out("No web accounts yet: kiosk web add-user USERNAME --name NAME --role office")
        return 0
    for a in users:
        sees = f"  (sees {a.scope_label})" if a.scope else ""
        out(f"{a.username:<24} {a.role_label:<18} {a.name}{sees}")
    return 0


def _listen_socket(host: str, port: int) -> socket.socket:
    """Bound and listening before the server starts, so the address printed is the real one."""
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, UnicodeError) as exc:
        raise ConfigError(
            f'[web] listen: expected an address like "127.0.0.1" or "0.0.0.0", got {host!r}'
        ) from exc
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"[web] listen/port: cannot listen on {host} port {port}: {exc.strerror}. "
            "Is another program (or another kiosk web) using it?"
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _check_tls(settings: Settings) -> tuple[str | None, str | None]:
    w = settings.web
    if w.tls_cert is None or w.tls_key is None:
        return None, None
    for key, path in (("tls_cert", w.tls_cert), ("tls_key", w.tls_key)):
        try:
            path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"{settings.source}: [web] {key}: cannot read {path}: {exc.strerror}"
            ) from exc
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(w.tls_cert, w.tls_key)
    except ssl.SSLError as exc:
        raise ConfigError(
            f"{settings.source}: [web] tls_cert, tls_key: {w.tls_cert} and {w.tls_key} are not "
            "a certificate and its key (PEM files, the key matching the certificate)"
        ) from exc
    return str(w.tls_cert), str(w.tls_key)


#: glibc's mallopt parameter, and the size above which blocks are mapped and unmapped alone.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 64 * 1024


def steady_memory() -> bool:
    """Keep memory that the board frees from staying in the process (glibc only).

    glibc raises its mmap threshold each time a large block is freed, after which large
    blocks (a page section for twenty open browsers, pieces of a download) come from the
    heap, whose freed space is seldom given back: in bench_web ``kiosk web`` grew from
    40 MB to 100 MB over live streams and a download of every loan, and stays at about
    45 MB with the threshold fixed (which also stops glibc adjusting it).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        return bool(ctypes.CDLL(name).mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to tune
        return False


def _trust_app(settings: Settings, clock: Clock) -> Any:
    """The trust's board: PostgreSQL through the trust view, never the kiosk database."""
    import math

    from kiosk.web.trust import create_trust_app
    from sync.trust.view import TrustView

    w = settings.web
    assert w.trust_credentials is not None
    timeout = max(0.1, w.trust_timeout_seconds)
    view = TrustView.from_credentials(
        w.trust_credentials, connect_timeout=max(1, math.ceil(timeout)), statement_timeout=timeout
    )
    try:
        login = view.login()
    except ConnectionError as exc:  # down now: the pages say so, and catch up when it answers
        log.warning("kiosk web: the trust's database is not answering yet: %s", exc)
    else:
        if login == "kiosk":
            view.close()
            raise ConfigError(
                f"[web] trust_credentials: {w.trust_credentials} is a kiosk's login, which can "
                "write. Ask trust IT for the web's: kiosk trust add-reader NAME --web"
            )
        if login != "web":
            log.warning(
                "kiosk web: [web] trust_credentials is a %s login, which reads more than the "
                "trust's pages show; trust IT can make the web's own with "
                "kiosk trust add-reader NAME --web",
                login,
            )
    return create_trust_app(settings, clock, open_accounts(settings, clock), view)


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run_serve(args: argparse.Namespace) -> int:
    # Imported here so that other subcommands never load the web framework.
    import asyncio

    import uvicorn

    from kiosk import sdnotify
    from kiosk.calendar import SchoolCalendar
    from kiosk.clock import clock_from_env
    from kiosk.db import ChangeWatch, open_database_readonly
    from kiosk.loans.queries import Queries
    from kiosk.web.app import create_app

    steady_memory()
    settings = load_from_args(args)
    w = settings.web
    host, port = args.listen or w.listen, w.port if args.port is None else args.port
    cert, key = _check_tls(settings)
    clock = clock_from_env()
    app: Any
    if w.trust_credentials is not None:
        app = _trust_app(settings, clock)
    else:
        # Read-only: the board can never write or slow a tap (see open_database_readonly).
        open_database_readonly(settings.kiosk.db)
        # The loan package's read-only questions: no tap state, nothing that writes.
        queries = Queries(settings, clock, SchoolCalendar(settings.school))
        app = create_app(
            settings, clock, open_accounts(settings, clock), queries, ChangeWatch(settings.kiosk.db)
        )
    sock = _listen_socket(host, port)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        ssl_certfile=cert,
        ssl_keyfile=key,
        proxy_headers=bool(w.trusted_proxies),
        forwarded_allow_ips=",".join(w.trusted_proxies) or None,
        server_header=False,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    scheme = "https" if cert else "http"
    where = f"[{host}]" if ":" in host else host
    loopback = host in ("127.0.0.1", "::1", "localhost")
    if not cert and not loopback and not w.secure_cookies:
        log.warning(
            "kiosk web listens on %s without TLS: passwords cross the network readable. "
            "Set [web] tls_cert and tls_key (deploy/install.sh --web-tls), or listen on "
            "127.0.0.1 behind the school's reverse proxy.",
            host,
        )

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            board = "trust's board" if w.trust_credentials else "office board"
            out(f"Serving the {board} on {scheme}://{where}:{bound}/ (Ctrl+C stops it).")
            sys.stdout.flush()
            sdnotify.ready()
        await task

    # uvicorn stops gracefully on SIGTERM (systemd's stop), then raises the signal again for
    # the handler that was there before: this one, so that a requested stop exits with 0.
    signal.signal(signal.SIGTERM, _stopped)
    try:
        asyncio.run(serve())
    finally:
        sock.close()
    if not server.started:
        # uvicorn has logged why (the app's start-up failed): say it plainly as well.
        raise Refused("kiosk web could not start; the lines above say why.")
    return 0

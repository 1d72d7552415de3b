"""``kiosk trust``: set up the trust's PostgreSQL, and check a kiosk's replication to it.

On the trust's side (trust IT, with an administrator's connection: ``--dsn``, or
libpq's PG* variables and ~/.pgpass, e.g. ``sudo -u postgres kiosk trust init``):

- ``init`` / ``migrate``: apply the schema migrations (and make the roles);
- ``add-school ID --name NAME``;
- ``add-kiosk ID --school ID --host HOST``: a login for one kiosk; prints the
  credentials line and the ``[trust]`` settings to put on that kiosk;
- ``add-reader NAME --school ID`` (an office account), ``--all`` (trust-wide) or ``--web``
  (the login of ``kiosk web``'s trust pages: only what they show);
- ``status``: every kiosk and when it last sent its changes.

On a kiosk: ``check`` (connect with the kiosk's own credentials and say what the
trust holds), ``resync`` (send every row again at the next pass).

psycopg is imported inside these commands only.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.cli import add_common, load_from_args
from kiosk.commands import out
from kiosk.errors import ConfigError, Refused

DEFAULT_CREDENTIALS = Path("/etc/kiosk/trust.conninfo")
DEFAULT_CA = "/etc/kiosk/trust-ca.crt"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("trust", help="the trust's PostgreSQL: set it up, check replication")
    tsub = p.add_subparsers(dest="trust_command", metavar="ACTION")
    tsub.required = True

    def admin(name: str, help_text: str) -> argparse.ArgumentParser:
        a: argparse.ArgumentParser = tsub.add_parser(name, help=help_text)
        a.add_argument(
            "--dsn",
            default=os.environ.get("KIOSK_TRUST_DSN", ""),
            help="administrator's connection string (default: libpq's PG* variables; "
            "or $KIOSK_TRUST_DSN)",
        )
        return a

    a = admin("init", "create the schema and roles in the trust's database")
    a.set_defaults(func=run_migrate)
    a = admin("migrate", "apply schema migrations the trust's database lacks")
    a.set_defaults(func=run_migrate)

    a = admin("add-school", "add a school (or rename one)")
    a.add_argument("school", metavar="SCHOOL_ID", help="short id: lower case, digits, dashes")
    a.add_argument("--name", required=True, help="the school's name, as people know it")
    a.set_defaults(func=run_add_school)

    def login_options(a: argparse.ArgumentParser) -> None:
        a.add_argument("--host", required=True, help="the trust server's name as kiosks reach it")
        a.add_argument("--port", type=int, default=5432)
        a.add_argument(
            "--ca",
            default=DEFAULT_CA,
            help=f"where the trust's CA certificate is (default {DEFAULT_CA})",
        )
        a.add_argument(
            "--write",
            type=Path,
            default=None,
            metavar="FILE",
            help="write the credentials to FILE (mode 600) instead of printing them",
        )

    a = admin("add-kiosk", "add a kiosk: its own login, writing only its own rows")
    a.add_argument("kiosk", metavar="KIOSK_ID", help="short id, e.g. hillside-office")
    a.add_argument("--school", required=True, metavar="SCHOOL_ID")
    login_options(a)
    a.set_defaults(func=run_add_kiosk)

    a = admin("add-reader", "add a login that reads one school (office) or the whole trust")
    a.add_argument("reader", metavar="NAME", help="short name, e.g. hillside or slt")
    who = a.add_mutually_exclusive_group(required=True)
    who.add_argument("--school", metavar="SCHOOL_ID", help="an office account for this school")
    who.add_argument("--all", action="store_true", help="a trust account: every school")
    who.add_argument(
        "--web",
        action="store_true",
        help="the login for kiosk web's trust pages: only what they show ([web] trust_credentials)",
    )
    login_options(a)
    a.set_defaults(func=run_add_reader)

    a = admin("status", "every kiosk and when it last sent its changes")
    a.set_defaults(func=run_status)

    k = tsub.add_parser("check", help="on a kiosk: connect to the trust and say what it holds")
    add_common(k)
    k.set_defaults(func=run_check)
    k = tsub.add_parser("resync", help="on a kiosk: send every row again at the next sync pass")
    add_common(k)
    k.set_defaults(func=run_resync)


def _admin(args: argparse.Namespace) -> Any:
    from sync.trust.connect import check_conninfo, connect

    check_conninfo(args.dsn, "--dsn")
    return connect(
        args.dsn, connect_timeout=10, statement_timeout=600, application_name="kiosk trust"
    )


def run_migrate(args: argparse.Namespace) -> int:
    from sync.trust.schema import migrate

    with _admin(args) as conn:
        done = migrate(conn)
        name = conn.info.dbname
    if done:
        out(f"Trust database {name}: applied {', '.join(done)}.")
    else:
        out(f"Trust database {name}: up to date.")
    if args.trust_command == "init":
        out("Next: kiosk trust add-school ID --name NAME, then kiosk trust add-kiosk per kiosk.")
    return 0


def run_add_school(args: argparse.Namespace) -> int:
    from sync.trust.schema import add_school

    with _admin(args) as conn:
        add_school(conn, args.school, args.name)
    out(f"School {args.school} ({args.name.strip()}) is in the trust database.")
    return 0


def _write_credentials(path: Path, line: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise Refused(f"Cannot write {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(line + "\n")


def _hand_over(login: Any, args: argparse.Namespace, what: str) -> None:
    if args.write:
        _write_credentials(args.write, login.conninfo)
        out(f"Credentials for {what} written to {args.write} (mode 600).")
    else:
        out(f"Credentials for {what} (one line; keep it secret):")
        out(f"    {login.conninfo}")


def run_add_kiosk(args: argparse.Namespace) -> int:
    from sync.trust.schema import add_kiosk

    with _admin(args) as conn:
        login = add_kiosk(conn, args.kiosk, args.school, host=args.host, port=args.port, ca=args.ca)
    out(f"Kiosk {args.kiosk} at {args.school}: login {login.role} (a new password each time).")
    _hand_over(login, args, f"kiosk {args.kiosk}")
    out("On the kiosk, as root:")
    out(f"  1. Save the credentials as {DEFAULT_CREDENTIALS}, then:")
    out(f"     chown root:kiosk {DEFAULT_CREDENTIALS} && chmod 640 {DEFAULT_CREDENTIALS}")
    if not args.host.startswith("/"):
        out(f"  2. Copy the trust's CA certificate to {args.ca}")
    out("  3. Add to /etc/kiosk/kiosk.toml:")
    out("       [trust]")
    out(f'       credentials = "{DEFAULT_CREDENTIALS}"')
    out("  4. Check it: sudo -u kiosk kiosk trust check")
    return 0


def run_add_reader(args: argparse.Namespace) -> int:
    from sync.trust.schema import add_reader

    with _admin(args) as conn:
        login = add_reader(
            conn,
            args.reader,
            None if args.all or args.web else args.school,
            host=args.host,
            port=args.port,
            ca=args.ca,
            web=args.web,
        )
    if args.web:
        out(
            f"Web login {login.role}: reads what is out now at every school, for kiosk web's "
            "trust pages (each page only the schools its account may see)."
        )
    else:
        scope = "every school" if args.all else f"school {args.school} only"
        out(f"Reader {login.role}: reads {scope}.")
    _hand_over(login, args, login.role)
    if args.web:
        out("On the web server: save the credentials (owner root, group kiosk, mode 640) and")
        out('set [web] trust_credentials = "/etc/kiosk/trust-web.conninfo" in kiosk.toml.')
    return 0


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    minutes = int((now - when).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes} min ago"
    hours = minutes // 60
    return f"{hours} h ago" if hours < 48 else f"{hours // 24} days ago"


def run_status(args: argparse.Namespace) -> int:
    from sync.trust.schema import kiosks

    with _admin(args) as conn:
        found = kiosks(conn)
        row = conn.execute("SELECT now()").fetchone()  # the server's clock, as pushed_at is
    now = row[0] if row else datetime.now(UTC)
    if not found:
        out("No kiosks yet: kiosk trust add-kiosk ID --school SCHOOL_ID --host HOST")
        return 0
    out(f"{'SCHOOL':<20} {'KIOSK':<24} {'LAST SENT':<14} JOURNAL APPLIED UP TO")
    for k in found:
        out(f"{k.school_id:<20} {k.kiosk_id:<24} {_ago(k.pushed_at, now):<14} {k.pushed_seq}")
    return 0


def _pusher(args: argparse.Namespace) -> Any:
    settings = load_from_args(args)
    if settings.trust.credentials is None:
        raise ConfigError(
            f"{settings.source}: [trust] credentials: not set, so this kiosk does not "
            "replicate to a trust (see docs/trust.md)"
        )
    from sync.trust.push import Pusher

    return Pusher(settings.trust, settings.kiosk.db, application_name="kiosk trust check")


def run_check(args: argparse.Namespace) -> int:
    pusher = _pusher(args)
    try:
        info = pusher.check()
    finally:
        pusher.close()
    out(info)
    return 0


def run_resync(args: argparse.Namespace) -> int:
    settings = load_from_args(args)
    from kiosk.db import open_database
    from sync.trust.changes import ChangeJournal

    open_database(settings.kiosk.db).close()  # migrated, so the journal exists
    journal = ChangeJournal(settings.kiosk.db)
    try:
        journal.new_incarnation()
    finally:
        journal.close()
    out("Every row will be sent to the trust again at the next sync pass (kiosk sync --once).")
    return 0

"""The ``kiosk`` command: the same database from a shell (office over SSH, cron, systemd).

Exit 0 on success; otherwise one clear line on stderr and a non-zero code:
1 for a refusal or bad input, 2 for usage, 3 for settings, 4 for storage,
5 for hardware (a reader, the LEDs or the buzzer cannot be used: not a Pi,
not wired, no permission; ``hardware.errors.HardwareError``). Output to a pipe
that closes early (``kiosk export loans - | head``) ends quietly with 1.

Each subcommand lives in a module with ``add_parser(subparsers)`` that sets
``func`` to a ``(args) -> int``; ``COMMANDS`` lists them in ``--help`` order.
Only the module of the subcommand being run is imported (``SUBCOMMANDS`` says
which module adds which name; ``--help``, a mistyped name or a name missing from
the table builds the whole parser), and heavy modules (the TUI, hardware, HTTP,
the loan rules' writing side) only when a subcommand uses them: ``kiosk status``
is what the office types over SSH and what scripts poll, and on a Pi every module
imported is felt (``python -X importtime -m kiosk.cli status``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import peewee as pw

# hardware imports nothing of kiosk, so its errors are not KioskErrors: caught on their own.
from hardware.errors import HardwareError
from kiosk import __version__, integrity
from kiosk.clock import Clock, clock_from_env
from kiosk.commands import err
from kiosk.db import (
    SCREEN_WAL_AUTOCHECKPOINT,
    database,
    explain_sqlite_error,
    open_database,
)
from kiosk.errors import ConfigError, KioskError, StorageError
from kiosk.integrity import IntegrityReport
from kiosk.settings import Settings, load_settings

if TYPE_CHECKING:
    from kiosk.calendar import SchoolCalendar
    from kiosk.loans import LoanService
    from kiosk.loans.queries import Queries

log = logging.getLogger("kiosk")

#: Modules that each add one or more subcommands, in the order ``--help`` lists them.
COMMANDS = [
    "kiosk.commands.status",
    "kiosk.commands.imports",
    "kiosk.commands.exports",
    "kiosk.commands.admin",
    "kiosk.commands.hardware_check",
    "kiosk.commands.backup",
    "kiosk.commands.sync",
    "kiosk.commands.trust",
    "kiosk.commands.demo",
    "kiosk.commands.run",
    "kiosk.commands.web",
]

#: Which module adds each subcommand, so that running one imports only its module.
#: A name missing here still works (the whole parser is built); a test keeps it complete.
SUBCOMMANDS = {
    "status": "kiosk.commands.status",
    "import": "kiosk.commands.imports",
    "export": "kiosk.commands.exports",
    "purge": "kiosk.commands.admin",
    "staff": "kiosk.commands.admin",
    "set-pin": "kiosk.commands.admin",
    "hardware-check": "kiosk.commands.hardware_check",
    "backup": "kiosk.commands.backup",
    "restore": "kiosk.commands.backup",
    "sync": "kiosk.commands.sync",
    "trust": "kiosk.commands.trust",
    "demo": "kiosk.commands.demo",
    "run": "kiosk.commands.run",
    "web": "kiosk.commands.web",
}


class Context:
    """What a subcommand works with: settings, clock, the open database and the service.

    The loan service, the read-only queries and the calendar are made when first used:
    a command that only reads (``status``) never imports the rules that write.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        db: pw.SqliteDatabase,
        integrity: IntegrityReport | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.integrity = integrity
        """What the start-up integrity check found (``kiosk.integrity``)."""

    @cached_property
    def service(self) -> LoanService:
        from kiosk.loans import LoanService

        return LoanService(self.settings, self.clock)

    @cached_property
    def calendar(self) -> SchoolCalendar:
        if "service" in self.__dict__:
            return self.service.calendar
        from kiosk.calendar import SchoolCalendar

        return SchoolCalendar(self.settings.school)

    @cached_property
    def queries(self) -> Queries:
        """What is out and what happened: ``LoanService.queries`` without the service."""
        if "service" in self.__dict__:
            return self.service.queries
        from kiosk.loans.queries import Queries

        return Queries(self.settings, self.clock, self.calendar)


def load_from_args(args: argparse.Namespace) -> Settings:
    options = {"kiosk": {"db": str(args.db)}} if args.db is not None else None
    return load_settings(args.config, required=args.config is not None, options=options)


def open_context(
    args: argparse.Namespace, clock: Clock | None = None, *, screen: bool = False
) -> Context:
    """Settings, clock, database and service for a subcommand.

    ``screen``: the kiosk screen's process, which checkpoints the WAL when idle
    (``SCREEN_WAL_AUTOCHECKPOINT``) rather than inside a tap.
    """
    settings = load_from_args(args)
    clock = clock or clock_from_env()
    db = open_database(
        settings.kiosk.db,
        wal_autocheckpoint=SCREEN_WAL_AUTOCHECKPOINT if screen else None,
        new_database=getattr(args, "new_database", False),
    )
    report = check_integrity(db, settings, clock)
    return Context(settings, clock, db, report)


def check_integrity(db: pw.SqliteDatabase, settings: Settings, clock: Clock) -> IntegrityReport:
    """The start-up integrity check (``kiosk.integrity``): damage is one line on stderr.

    The command carries on: the office can still see what is out, and sync still sends
    the alert for IT. A whole-file check that could not run now is left to ``kiosk run``
    (in the background) and to the nightly backup.
    """
    report = integrity.check_at_start(db)
    log.debug(
        "integrity check at start (%s): %.0f ms",
        "whole file" if report.whole_file else "start tables",
        report.seconds * 1000,
    )
    if not report.ok:
        line = integrity.report_damage(report.problems, settings.kiosk.db, clock, settings)
        err(f"kiosk: warning: {line}")
    return report


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="settings file (default /etc/kiosk/kiosk.toml, or $KIOSK_CONFIG)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(os.environ["KIOSK_DB"]) if os.environ.get("KIOSK_DB") else None,
        help="database file (default from settings, or $KIOSK_DB)",
    )
    parser.add_argument(
        "--new-database",
        action="store_true",
        help="the database file is empty (0 bytes) on purpose: start a new, empty database in it",
    )


def _columns() -> int:
    """The terminal's width, found as ``shutil.get_terminal_size`` finds it."""
    with contextlib.suppress(KeyError, ValueError):
        if (columns := int(os.environ["COLUMNS"])) > 0:
            return columns
    stream = sys.__stdout__
    with contextlib.suppress(ValueError, OSError):  # not a terminal, or closed
        if stream is not None and (columns := os.get_terminal_size(stream.fileno()).columns) > 0:
            return columns
    return 80


class _Help(argparse.HelpFormatter):
    """argparse's help, told the terminal's width. Left to find it, argparse imports
    ``shutil`` (and through it ``fnmatch`` and more) and asks the terminal once for every
    option added, in every command, for help nobody asked for: 3 ms of ``kiosk status``
    here, four times that at a Pi's speed."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, width or _columns() - 2)


class _Parser(argparse.ArgumentParser):
    """The kiosk's parsers, and their subcommands' (``add_subparsers`` makes its own kind)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``kiosk`` parser; with ``command`` (a name in ``SUBCOMMANDS``), only its module's
    subcommands are added, and only that module is imported."""
    parser = _Parser(
        prog="kiosk",
        description="School sign-out kiosk: badge, then item.",
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in [SUBCOMMANDS[command]] if command in SUBCOMMANDS else COMMANDS:
        module = importlib.import_module(name)
        module.add_parser(sub)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (its first word that is not an option), if any."""
    for word in argv:
        if word in ("-h", "--help", "--version"):
            return None  # the whole parser answers these
        if not word.startswith("-"):
            return word
    return None


def _output_closed() -> int:
    """Standard output was a pipe whose reader has gone (``kiosk export loans - | head``).

    The Python documentation's recipe: point stdout at /dev/null, so that the flush at
    exit cannot raise again, and end quietly with 1 as Python itself does on EPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 1


def _database_path() -> str:
    return str(getattr(database.obj, "database", "the database"))


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = build_parser(_command_in(argv))
        args = parser.parse_args(argv)  # --help and usage errors write here too
    except BrokenPipeError:
        return _output_closed()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # Its modules are loaded: the collector (off from ``kiosk.launch``) is on for its work,
    # and never looks at what they made (it lives as long as the process).
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that has gone shows here, not as noise at exit
        return code
    except ConfigError as exc:
        err(f"kiosk: settings: {exc}")
        return 3
    except StorageError as exc:
        err(f"kiosk: {exc}")
        return 4
    except (pw.DatabaseError, sqlite3.DatabaseError) as exc:
        # A read outside a write transaction (an export meeting a damaged page, ...).
        err(f"kiosk: {explain_sqlite_error(exc, _database_path())}")
        return 4
    except KioskError as exc:
        err(f"kiosk: {exc}")
        return 1
    except HardwareError as exc:
        err(f"kiosk: hardware: {exc}")
        return 5
    except BrokenPipeError:
        return _output_closed()
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

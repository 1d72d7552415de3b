"""The ``kiosk`` command: the same database from a shell (office over SSH, cron, systemd).

Exit 0 on success; otherwise one clear line on stderr and a non-zero code:
1 for a refusal or bad input, 2 for usage, 3 for settings, 4 for storage.

Each subcommand lives in a module with ``add_parser(subparsers)`` that sets
``func`` to a ``(args) -> int``; ``COMMANDS`` lists them in ``--help`` order.
Heavy modules (the TUI, hardware, HTTP) are imported only by the subcommand
that needs them, so ``kiosk status`` starts quickly.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import peewee as pw

from kiosk import __version__
from kiosk.clock import Clock, SystemClock
from kiosk.commands import err
from kiosk.db import SCREEN_WAL_AUTOCHECKPOINT, open_database
from kiosk.errors import ConfigError, KioskError, StorageError
from kiosk.service import LoanService
from kiosk.settings import Settings, load_settings

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
    "kiosk.commands.demo",
    "kiosk.commands.run",
]


@dataclass
class Context:
    """What a subcommand works with: settings, clock, the open database and the service."""

    settings: Settings
    clock: Clock
    db: pw.SqliteDatabase
    service: LoanService


def load_from_args(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config, required=args.config is not None)
    if args.db is not None:
        settings.kiosk.db = args.db
    return settings


def open_context(
    args: argparse.Namespace, clock: Clock | None = None, *, screen: bool = False
) -> Context:
    """Settings, clock, database and service for a subcommand.

    ``screen``: the kiosk screen's process, which checkpoints the WAL when idle
    (``SCREEN_WAL_AUTOCHECKPOINT``) rather than inside a tap.
    """
    settings = load_from_args(args)
    clock = clock or SystemClock()
    db = open_database(
        settings.kiosk.db,
        wal_autocheckpoint=SCREEN_WAL_AUTOCHECKPOINT if screen else None,
        new_database=getattr(args, "new_database", False),
    )
    return Context(settings, clock, db, LoanService(settings, clock))


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="School sign-out kiosk: badge, then item.",
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(name)
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        err(f"kiosk: settings: {exc}")
        return 3
    except StorageError as exc:
        err(f"kiosk: {exc}")
        return 4
    except KioskError as exc:
        err(f"kiosk: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

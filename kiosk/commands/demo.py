"""``kiosk demo``: the kiosk screen on a seeded demo school, with the keyboard as the reader.

No Pi, no network, no settings file: the demo uses the default settings and its
own database (``~/.local/share/kiosk/demo.db`` unless ``--db``), re-seeded at
every start so the README's badge and tag numbers always work. A second demo on
the same database is refused before it touches it (``kiosk.demo.DemoLock``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kiosk.commands import out


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="the kiosk screen on a demo school (type tag numbers)")
    p.add_argument(
        "--db",
        type=Path,
        default=None,
        help="demo database file (default ~/.local/share/kiosk/demo.db)",
    )
    p.add_argument(
        "--keep", action="store_true", help="keep the demo database as it was left last time"
    )
    p.add_argument("--exit-when-ready", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that other subcommands never load Textual.
    from hardware.base import KeyboardReader, NullFeedback
    from kiosk.clock import clock_from_env
    from kiosk.db import SCREEN_WAL_AUTOCHECKPOINT, open_database
    from kiosk.demo import DEFAULT_DEMO_DB, DEMO_PIN, DemoLock, seed_demo
    from kiosk.loans import LoanService
    from kiosk.settings import settings_from
    from kiosk.tui.app import build_app
    from kiosk.tui.logs import log_away_from_screen
    from sync.status import AlertDesk

    path = args.db or DEFAULT_DEMO_DB
    settings = settings_from(
        {"school": {"name": "Oakfield Primary School (demo)"}, "kiosk": {"db": str(path)}},
        origin="demo",
    )
    clock = clock_from_env()
    # Held until this process ends: another demo on this database is refused, untouched.
    with DemoLock(path) as lock:
        if not (args.keep and path.exists()):
            seed_demo(path, settings, clock, lock=lock)
        open_database(path, wal_autocheckpoint=SCREEN_WAL_AUTOCHECKPOINT)
        log_away_from_screen(path.with_suffix(".log"))
        app = build_app(
            LoanService(settings, clock),
            [KeyboardReader()],
            NullFeedback(),
            alerts=AlertDesk(clock),
            clock=clock,
            exit_when_ready=args.exit_when_ready,
            tune_gc=True,
            warm_up=True,
        )
        app.run(headless=args.exit_when_ready)
    if not args.exit_when_ready:
        out(f"Demo database: {path}  (admin PIN {DEMO_PIN})")
    return 0

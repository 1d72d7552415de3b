"""``kiosk run``: the kiosk screen in production, from ``/etc/kiosk/kiosk.toml``.

The readers and the LEDs/buzzer are opened in one place, ``_open_hardware``,
so the same app is built with real hardware on the Pi and the keyboard
elsewhere.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from hardware.base import Feedback, Reader
from kiosk.cli import add_common, open_context
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="the kiosk screen (production, on the Pi)")
    add_common(p)
    p.add_argument("--exit-when-ready", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _open_hardware(settings: Settings) -> tuple[list[Reader], Feedback]:
    """The readers and feedback the settings ask for.

    The hardware factory (RC522, USB badge readers, gpiozero LEDs and buzzer) is
    not part of this build yet: until it is wired in here, the kiosk uses the
    keyboard as its reader and gives no light or sound, and says so in the log.
    """
    from hardware.base import KeyboardReader, NullFeedback

    log.warning("no hardware factory in this build: using the keyboard reader, no LEDs or buzzer")
    return [KeyboardReader()], NullFeedback()


def run(args: argparse.Namespace) -> int:
    from kiosk.tui.app import build_app
    from kiosk.tui.logs import log_away_from_screen

    ctx = open_context(args)
    readers, feedback = _open_hardware(ctx.settings)
    log_away_from_screen(Path(ctx.settings.kiosk.db).with_suffix(".log"))
    app = build_app(
        ctx.service,
        readers,
        feedback,
        clock=ctx.clock,
        exit_when_ready=args.exit_when_ready,
        tune_gc=True,
    )
    app.run(headless=args.exit_when_ready)
    return 0

"""``kiosk run``: the kiosk screen in production, from ``/etc/kiosk/kiosk.toml``.

The readers and the LEDs/buzzer come from the ``[hardware]`` settings through
``hardware.factory``, in one place (``_open_hardware``). Under systemd
(``Type=notify``, ``WatchdogSec``) it says READY=1 once the idle screen is
drawn, and pings the watchdog while the screen's loop and every reader are
alive: a frozen screen or a hung reader gets the kiosk restarted.
"""

from __future__ import annotations

import argparse
import gc
import logging
from pathlib import Path
from typing import Any

from hardware.base import Feedback, Reader
from kiosk import integrity
from kiosk.cli import add_common, open_context
from kiosk.db import check_writable
from kiosk.settings import Settings

log = logging.getLogger(__name__)

#: The screen's loop beats once a second; this many seconds without a beat is a frozen screen.
UI_MAX_SILENCE = 10.0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="the kiosk screen (production, on the Pi)")
    add_common(p)
    p.add_argument("--exit-when-ready", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _open_hardware(settings: Settings) -> tuple[list[Reader], Feedback]:
    """The readers and feedback ``[hardware]`` asks for (each reader its own, for the status line).

    Raises HardwareError (a KioskError for the CLI) with what to check when a device
    cannot be opened; systemd then restarts the kiosk.
    """
    from hardware.factory import open_feedback, open_readers

    group = open_readers(settings.hardware)
    feedback = open_feedback(settings.hardware, handle_sigterm=True)
    return list(group.readers), feedback


def run(args: argparse.Namespace) -> int:
    # Off while the screen's modules load and its screens are built: the app turns it on
    # once it has frozen what they hold (``keep_gc_out_of_taps``; see ``kiosk.launch``).
    gc.disable()
    try:
        return _run(args)
    finally:
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    from kiosk import sdnotify
    from kiosk.tui.app import build_app
    from kiosk.tui.logs import log_away_from_screen
    from sync.status import AlertDesk

    ctx = open_context(args, screen=True)
    # Before the screen: a kiosk that cannot record a tap must not tell systemd it is ready.
    check_writable(ctx.db)
    readers, feedback = _open_hardware(ctx.settings)
    log_away_from_screen(Path(ctx.settings.kiosk.db).with_suffix(".log"))
    heartbeat = sdnotify.Heartbeat(UI_MAX_SILENCE)

    def on_ready() -> None:
        sdnotify.ready()
        watchdog.start()
        if ctx.integrity is None or not ctx.integrity.whole_file:
            # The whole-file check that did not fit the start-up budget, now, beside the taps.
            integrity.check_in_background(ctx.settings.kiosk.db, on_damage)

    def on_damage(report: integrity.IntegrityReport) -> None:
        line = integrity.report_damage(
            report.problems, ctx.settings.kiosk.db, ctx.clock, ctx.settings
        )
        log.error("%s", line)

    watchdog = sdnotify.Watchdog(lambda: heartbeat.alive() and all(r.alive() for r in readers))
    app = build_app(
        ctx.service,
        readers,
        feedback,
        alerts=AlertDesk(ctx.clock),
        clock=ctx.clock,
        exit_when_ready=args.exit_when_ready,
        tune_gc=True,
        warm_up=True,
        on_ready=on_ready,
        every_second=heartbeat.beat,
    )
    try:
        app.run(headless=args.exit_when_ready)
    finally:
        sdnotify.stopping()
        watchdog.stop()
    return 0

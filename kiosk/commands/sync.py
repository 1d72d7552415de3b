"""``kiosk sync``: raise time-based alerts, deliver the outbox, replicate to the trust.

``kiosk sync --once`` runs one pass (for cron, a systemd timer or a quick check);
``kiosk sync`` keeps running, a pass every ``[sync] interval_seconds``, until
SIGTERM or Ctrl-C. Any number may run at once against one database: rows are
claimed before they are sent.

``--once`` prints why alerts wait (the clock is not set, no channel for an audience)
and exits 0 when nothing failed, 6 when a delivery failed in this pass, 7 when alerts
wait and none can be sent (``sync.runner.PassReport.exit_code``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType
from typing import Any

from kiosk.cli import add_common, open_context
from kiosk.commands import out
from kiosk.errors import Refused

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sync", help="raise overdue alerts and deliver them (webhook, Teams, email)")
    add_common(p)
    p.add_argument("--once", action="store_true", help="run one pass, then exit")
    p.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds between passes (default [sync] interval_seconds)",
    )
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="give every failed alert a fresh set of attempts first",
    )
    p.add_argument(
        "--new-secret",
        action="store_true",
        help="print a new webhook signing secret for the settings and exit",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: requests and the channels are loaded only by this subcommand.
    from sync.delivery import Deliverer
    from sync.runner import PassReport, run_forever, run_pass
    from sync.signing import new_secret
    from sync.status import retry_all_dead

    if args.new_secret:
        out(new_secret())
        return 0
    if args.interval is not None and args.interval <= 0:
        raise Refused("--interval must be more than 0 seconds.")
    ctx = open_context(args)
    settings = ctx.settings
    if not settings.sync.channels:
        log.warning("no alert channels are set up ([sync.channels]): alerts will wait")
    if args.retry_failed:
        out(f"{retry_all_dead(ctx.clock)} failed deliveries will be tried again.")
    pusher = None
    if settings.trust.credentials is not None:
        # psycopg is loaded only here, when the kiosk replicates to its trust. A
        # credentials file others can read, or a remote server without certificate
        # checking, stops kiosk sync here (exit 3, naming the file).
        from sync.trust.push import Pusher

        pusher = Pusher(settings.trust, settings.kiosk.db)
    deliverer = Deliverer(settings, ctx.clock)
    cal = ctx.calendar

    def show(report: PassReport) -> None:
        line = report.summary.describe(cal, ctx.clock.now(), ctx.clock.synchronised())
        out(f"{report.raised} raised, {report.delivered} delivered. {line}.")
        for reason in report.reasons():
            out(f"  {reason}")
        for error in report.errors:
            out(f"  {error}")
        if report.trust is not None:
            out(report.trust.describe())

    # SIGTERM (systemd stopping the service, or its start time-out on a --once run)
    # ends the pass after the batch in hand is recorded, so no 2xx goes unrecorded.
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping after this batch", signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if args.once:
            report = run_pass(settings, ctx.clock, deliverer, stop, pusher)
            show(report)
            return report.exit_code()

        def log_pass(report: PassReport) -> None:
            pushed = report.trust is not None and (report.trust.rows or report.trust.error)
            if report.raised or report.delivered or report.retried or report.dead or pushed:
                show(report)

        run_forever(
            settings, ctx.clock, deliverer, stop, log_pass, interval=args.interval, pusher=pusher
        )
        out("Stopped.")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        deliverer.close()
        if pusher is not None:
            pusher.close()
        ctx.db.close()

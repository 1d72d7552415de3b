"""``kiosk hardware-check``: find and test the readers, LEDs and buzzer, for the IT lead.

Run it on the Pi after wiring (the kiosk service stopped, so the devices are
free). ``--emulate`` runs the same checks against an emulated RC522, USB
reader and GPIO pins, with no Pi: the tests use it, and it shows what a good
run looks like. Exit 0 when everything passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli import add_common, load_from_args
from kiosk.commands import out


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "hardware-check",
        help="find the tag readers, LEDs and buzzer and test each one",
    )
    add_common(p)
    p.add_argument(
        "--timeout", type=float, default=20.0, help="seconds to wait for each tap (default 20)"
    )
    p.add_argument(
        "--no-tap", action="store_true", help="only find the readers; do not wait for taps"
    )
    p.add_argument(
        "--emulate",
        action="store_true",
        help="use an emulated RC522, USB reader and pins (no Pi needed)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hardware.check import emulated_kit, run_check

    settings = load_from_args(args)
    kit = emulated_kit() if args.emulate else None
    if args.emulate:
        out("Emulated hardware: no Pi parts are used.")
    ok = run_check(settings.hardware, out, kit=kit, timeout=args.timeout, taps=not args.no_tap)
    return 0 if ok else 1

"""``kiosk export loans|calls|day|person``: CSV for the office; one person's data for a SAR.

- ``loans``: every loan (or since a date).
- ``calls``: personal calls on trip phones with the policy's Appendix 5 columns.
- ``day``: one day as the office's Today view shows it.
- ``person``: everything held about one member of staff, as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kiosk.calendar import DAY_EXAMPLES, parse_day
from kiosk.cli import Context, add_common, open_context
from kiosk.commands import out
from kiosk.errors import Refused, StorageError
from kiosk.exporter import export_calls, export_day, export_loans, export_person
from kiosk.loans.calls import read_stated_times

log = logging.getLogger(__name__)


def _day_given(option: str, text: str, ctx: Context) -> date:
    """``text`` read as a day of the school's calendar, or a message saying what to write."""
    cal = ctx.service.calendar
    try:
        return parse_day(text, cal.local(ctx.clock.now()).date())
    except ValueError as exc:
        raise Refused(f"{option}: {exc}.") from None


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export loans to CSV, or everything about one person")
    what = p.add_subparsers(dest="what", metavar="WHAT")
    what.required = True
    loans = what.add_parser("loans", help="loans as CSV (for a spreadsheet)")
    loans.add_argument("file", type=Path, help="the CSV file to write ('-' for the screen)")
    loans.add_argument(
        "--since",
        metavar="DAY",
        help=f"only loans out on or after this day ({DAY_EXAMPLES})",
    )
    add_common(loans)
    loans.set_defaults(func=run_loans)
    calls = what.add_parser(
        "calls",
        help="personal calls on trip phones as CSV (Appendix 5: date, time, number, reason)",
    )
    calls.add_argument(
        "--since", metavar="DAY", help=f"only calls made on or after this day ({DAY_EXAMPLES})"
    )
    calls.add_argument("--out", type=Path, help="write to this file instead of the screen")
    add_common(calls)
    calls.set_defaults(func=run_calls)
    day = what.add_parser("day", help="one day as CSV: loans, returns, problems, calls, stock-take")
    day.add_argument(
        "day", nargs="?", default="today", help=f"the day ({DAY_EXAMPLES}; default today)"
    )
    day.add_argument("--out", type=Path, help="write to this file instead of the screen")
    add_common(day)
    day.set_defaults(func=run_day)
    person = what.add_parser(
        "person", help="everything held about one person (subject access request), as JSON"
    )
    person.add_argument("staff", help="their staff_id (or exact name)")
    person.add_argument("--out", type=Path, help="write to this file instead of the screen")
    add_common(person)
    person.set_defaults(func=run_person)


def run_loans(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    cal = ctx.calendar
    since = None
    if args.since is not None:
        since = cal.at(_day_given("--since", args.since, ctx), datetime.min.time())
    count = export_loans(args.file, cal, since=since)
    if str(args.file) != "-":
        out(f"{count} loans written to {args.file}.")
    return 0


def run_calls(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    # Calls recorded before the kiosk kept exact times: read now what can be read (a
    # reader without write access exports them as written; sync reads them later).
    try:
        read_stated_times(ctx.settings, ctx.clock)
    except StorageError as exc:
        log.warning("old personal calls not read: %s", exc)
    cal = ctx.service.calendar
    since = None
    if args.since is not None:
        since = cal.at(_day_given("--since", args.since, ctx), datetime.min.time())
    count = export_calls(args.out or Path("-"), cal, since=since)
    if args.out:
        out(f"{count} personal calls written to {args.out}.")
    return 0


def run_day(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    cal = ctx.service.calendar
    day = _day_given("the day", args.day, ctx)
    report = ctx.service.day(day)
    count = export_day(args.out or Path("-"), report, cal)
    if args.out:
        out(f"{day:%a} {day.day} {day:%b %Y}: {count} rows written to {args.out}.")
    return 0


def run_person(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    data = export_person(args.staff, ctx.settings.retention)
    data["exported_at"] = datetime.now(UTC).isoformat()
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
        out(f"Everything held about {data['person']['name']} written to {args.out}.")
    else:
        out(text)
    return 0

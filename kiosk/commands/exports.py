"""``kiosk export loans|person``: loans as CSV for the office; one person's data for a SAR."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.calendar import DAY_EXAMPLES, parse_day
from kiosk.cli import add_common, open_context
from kiosk.commands import out
from kiosk.errors import Refused
from kiosk.exporter import export_loans, export_person


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
        try:
            day = parse_day(args.since, cal.local(ctx.clock.now()).date())
        except ValueError as exc:
            raise Refused(f"--since: {exc}.") from None
        since = cal.at(day, datetime.min.time())
    count = export_loans(args.file, cal, since=since)
    if str(args.file) != "-":
        out(f"{count} loans written to {args.file}.")
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

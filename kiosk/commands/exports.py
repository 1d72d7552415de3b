"""``kiosk export loans|person``: loans as CSV for the office; one person's data for a SAR."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kiosk.cli import add_common, open_context
from kiosk.commands import out
from kiosk.exporter import export_loans, export_person


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-09-01") from exc


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export loans to CSV, or everything about one person")
    what = p.add_subparsers(dest="what", metavar="WHAT")
    what.required = True
    loans = what.add_parser("loans", help="loans as CSV (for a spreadsheet)")
    loans.add_argument("file", type=Path, help="the CSV file to write ('-' for the screen)")
    loans.add_argument("--since", type=_date, help="only loans out on or after this date")
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
    since = ctx.calendar.at(args.since, datetime.min.time()) if args.since else None
    count = export_loans(args.file, ctx.calendar, since=since)
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

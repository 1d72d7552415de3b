"""``kiosk import staff|items FILE``: load the staff list or the item list from CSV."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kiosk.cli import add_common, open_context
from kiosk.commands import out
from kiosk.importer import import_items, import_staff
from kiosk.records import ITEM_COLUMNS, STAFF_COLUMNS


def _columns(columns: dict[str, str]) -> str:
    width = max(len(c) for c in columns)
    return "\n".join(f"  {c.ljust(width)}  {doc}" for c, doc in columns.items())


EPILOG = f"""\
The first line names the columns (any order, any case). UTF-8 (with or without
BOM) or Excel's Windows-1252; commas or semicolons. Every bad line is listed and
then nothing is written. Rows are matched on staff_id / asset_tag, so importing
the same file again changes nothing. Samples: kiosk/samples/*.csv.

staff columns:
{_columns(STAFF_COLUMNS)}

items columns:
{_columns(ITEM_COLUMNS)}
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "import",
        help="import staff or items from a CSV file",
        description="Import the staff list or the item list from a CSV file, all or nothing.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("what", choices=["staff", "items"], help="which list the file holds")
    p.add_argument("file", type=Path, help="the CSV file")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    importer = import_staff if args.what == "staff" else import_items
    report = importer(args.file, ctx.settings, ctx.clock)
    out(report.summary())
    return 0

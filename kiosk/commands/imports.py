"""``kiosk import staff|items FILE [--dry-run]``: load the staff list or the item list from CSV.

The import is previewed first (read-only) and its report printed: every row added,
every field changed (old and new), how many unchanged. ``--dry-run`` stops there;
otherwise exactly that preview is applied in one brief transaction.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kiosk.cli import add_common, open_context
from kiosk.clock import Clock
from kiosk.commands import out
from kiosk.importer import ImportReport, Plan, PlanOutdated, apply, preview
from kiosk.records import ITEM_COLUMNS, STAFF_COLUMNS
from kiosk.settings import Settings


def _columns(columns: dict[str, str]) -> str:
    width = max(len(c) for c in columns)
    return "\n".join(f"  {c.ljust(width)}  {doc}" for c, doc in columns.items())


EPILOG = f"""\
The first line names the columns (any order, any case). Any CSV Excel saves:
"CSV UTF-8", plain "CSV" (Windows-1252), "Unicode text" (UTF-16, tabs); commas,
semicolons or tabs, or a first line "sep=;". Every bad line is listed and then
nothing is written. Rows are matched on staff_id / asset_tag, so importing the
same file again changes nothing. --dry-run shows what would change and writes
nothing. An import that would leave no active admin with a PIN is refused.
Samples: kiosk/samples/*.csv (they fit the demo school).

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
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="show what the import would add and change, and write nothing",
    )
    add_common(p)
    p.set_defaults(func=run)


#: Previews made again when another program changed the list before this one applied.
_ATTEMPTS = 3


def run(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    plan = preview(args.what, args.file, ctx.settings)
    if args.dry_run:
        out(f"{plan.summary()} Nothing was written (--dry-run).")
    else:
        plan, report = _apply(plan, args, ctx.settings, ctx.clock)
        out(report.summary())
    for line in plan.lines():
        out(line)
    return 0


def _apply(
    plan: Plan, args: argparse.Namespace, settings: Settings, clock: Clock
) -> tuple[Plan, ImportReport]:
    """Apply the plan; if the kiosk changed the list meanwhile, work it out again (the
    report printed is always that of the plan applied)."""
    for _ in range(_ATTEMPTS - 1):
        try:
            return plan, apply(plan, settings, clock)
        except PlanOutdated:
            plan = preview(args.what, args.file, settings)
    return plan, apply(plan, settings, clock)

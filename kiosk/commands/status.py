"""``kiosk status``: what is out now, with whom, due when; for the office at a shell."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kiosk.cli import add_common, open_context
from kiosk.commands import out
from kiosk.views import LoanView
from sync.status import delivery_summary


def add_parser(sub: Any) -> None:
    p = sub.add_parser("status", help="what is out now, with whom, due when")
    add_common(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _as_dict(v: LoanView) -> dict[str, Any]:
    return {
        "loan": v.id,
        "item": v.item.name,
        "asset_tag": v.item.asset_tag,
        "kind": v.item.kind,
        "borrower": v.borrower.name if v.borrower else None,
        "out_at": v.out_at.isoformat(),
        "due_at": v.due_at.isoformat() if v.due_at else None,
        "overdue": v.overdue,
        "time_uncertain": v.time_uncertain,
        "trip": v.trip,
        "phone_number": v.item.phone_number or None,
    }


def run(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    board = ctx.queries.board()
    alerts = delivery_summary()
    if args.json:
        out(json.dumps({"out": [_as_dict(v) for v in board], "alerts": alerts.as_dict()}, indent=2))
        return 0
    cal = ctx.calendar
    alerts_line = alerts.describe(cal, ctx.clock.now(), ctx.clock.synchronised()) + "."
    if not board:
        out("Nothing is out.")
        out(alerts_line)
        return 0
    rows = [("ITEM", "KIND", "WITH", "OUT SINCE", "DUE", "")]
    for v in board:
        item = v.item.name + (f" ({v.item.phone_number})" if v.item.phone_number else "")
        flag = "OVERDUE" if v.overdue else ""
        if v.time_uncertain:
            flag = (flag + " " if flag else "") + "TIMES UNSURE (clock was not set)"
        if v.trip:
            flag = (flag + " " if flag else "") + f"trip: {v.trip}"
        rows.append(
            (
                item,
                v.item.kind_label,
                v.borrower.name if v.borrower else "-",
                cal.local(v.out_at).strftime("%a %d %b %H:%M"),
                v.due_text,
                flag,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    overdue = sum(v.overdue for v in board)
    out(f"\n{len(board)} out, {overdue} overdue.")
    out(alerts_line)
    return 0

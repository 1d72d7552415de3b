"""Alert payloads as people read them: a title, a few facts, a note, in local time.

The payload stores UTC ISO times (the webhook passes them on as they are);
Teams cards and emails show the school's wall-clock time instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Rendered:
    title: str
    facts: list[tuple[str, str]]
    note: str
    rows: list[list[str]]  # the end-of-day summary's table (empty for other alerts)
    school: str


SUMMARY_COLUMNS = ["Item", "With", "Due", ""]


def local_time(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return "-"
    when = datetime.fromisoformat(iso).astimezone(tz)
    return f"{when.strftime('%a')} {when.day} {when.strftime('%b %H:%M')}"


def render(payload: dict[str, Any], tz: ZoneInfo) -> Rendered:
    facts: list[tuple[str, str]] = []
    item = payload.get("item") or {}
    person = payload.get("person") or {}
    loan = payload.get("loan") or {}
    if item:
        tag = f" ({item['asset_tag']})" if item.get("asset_tag") else ""
        facts.append(("Item", f"{item.get('name', '')}{tag}"))
        if item.get("phone_number"):
            facts.append(("Phone number", item["phone_number"]))
    if person:
        facts.append(("Person", person.get("name", "")))
        if person.get("email"):
            facts.append(("Email", person["email"]))
    if loan:
        facts.append(("Signed out", local_time(loan.get("out_at"), tz)))
        if loan.get("due_at"):
            facts.append(("Due back", local_time(loan.get("due_at"), tz)))
        if loan.get("trip"):
            facts.append(("Trip", loan["trip"]))
    rows = []
    for entry in payload.get("items") or []:
        flag = "OVERDUE" if entry.get("overdue") else ""
        if entry.get("state"):  # a stock-take's line: MISSING, HERE, shown as out, ...
            flag = (str(entry["state"]) + " " + flag).strip()
        if entry.get("trip"):
            flag = (flag + " " if flag else "") + f"trip: {entry['trip']}"
        if entry.get("due_at"):
            due = local_time(entry.get("due_at"), tz)
        else:
            due = str(entry["due"]) if "due" in entry else "no due time"
        rows.append([entry.get("item", ""), entry.get("person") or "-", due, flag])
    today = payload.get("today") or {}
    if today:
        facts.append(("Today", str(today.get("headline", ""))))
        take = today.get("stock_take") or {}
        facts.append(
            ("Stock-take", f"{take['at']}: {take['summary']}" if take else "none saved yet")
        )
        rows += _day_rows(today)
    return Rendered(
        title=str(payload.get("summary") or payload.get("kind", "Alert")),
        facts=facts,
        note=str(payload.get("note") or ""),
        rows=rows,
        school=str(payload.get("school") or ""),
    )


def _day_rows(today: dict[str, Any]) -> list[list[str]]:
    """The day's problems under the summary's table: short counts, damage, losses, calls,
    and what the stock-take found (columns as SUMMARY_COLUMNS)."""
    rows: list[list[str]] = []
    for s in today.get("short") or []:
        rows.append([s.get("item", ""), s.get("person") or "-", "", f"SHORT: {s.get('counted')}"])
    for d in today.get("damaged") or []:
        rows.append([d.get("item", ""), d.get("person") or "-", "", f"DAMAGED: {d.get('note')}"])
    for d in today.get("lost") or []:
        rows.append([d.get("item", ""), d.get("person") or "-", "", "LOST"])
    for c in today.get("calls") or []:
        rows.append([c.get("phone", ""), c.get("person") or "-", "", f"personal call {c['at']}"])
    take = today.get("stock_take") or {}
    for m in take.get("missing") or []:
        rows.append([m.get("item", ""), m.get("last_with") or "-", "", "MISSING (stock-take)"])
    for h in take.get("here_but_shown_out") or []:
        rows.append([h.get("item", ""), h.get("shown_with") or "-", "", "HERE, shown as out"])
    return rows

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
        facts.append(("Item", f"{item.get('name', '')} ({item.get('asset_tag', '')})"))
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
        if entry.get("trip"):
            flag = (flag + " " if flag else "") + f"trip: {entry['trip']}"
        rows.append(
            [
                entry.get("item", ""),
                entry.get("person") or "-",
                local_time(entry.get("due_at"), tz) if entry.get("due_at") else "no due time",
                flag,
            ]
        )
    return Rendered(
        title=str(payload.get("summary") or payload.get("kind", "Alert")),
        facts=facts,
        note=str(payload.get("note") or ""),
        rows=rows,
        school=str(payload.get("school") or ""),
    )

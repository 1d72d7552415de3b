"""Open problems: what is wrong with an item, on the office's list until someone deals with it.

A trolley back short ("iPad trolley A key: 2 iPads missing since Tuesday, last with
Mrs Clarke"), damage, images left on a camera, an item lost: each is put on the list
where the fact is recorded (``followups``, ``counts``), in the same transaction, and
stays there until the office records what happened (found, repaired, written off,
erased), which is recorded too. An alert tells people once; this list is what is
still open.

Written only here; read by the office board (``Queries.open_problems``) and by
``kiosk web``, as plain ``ProblemView`` objects. A problem's times are its events'
times, so the clock correction (``clockfix``) covers them, and who had the item is
its loan's borrower, so retention removes the person with the loan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Item, Loan, Problem, database
from kiosk.errors import NotFound, Refused
from kiosk.journal import Journal, load_json
from kiosk.loans.desk import contents_text, require_office, write_contents
from kiosk.loans.mapper import ViewMapper
from kiosk.loans.rows import ItemRow, StaffRow
from kiosk.settings import Settings
from kiosk.views import RESOLUTIONS, ActionResult, ProblemList, ProblemView

KINDS = ("short", "damaged", "images", "lost")
#: The office's list (the kiosk's Problems screen, the web's open problems) shows at most
#: this many, the longest open first; its count always says how many there are in all.
LISTED = 200


#: What the office may record about each kind of problem.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "short": ("found", "written_off"),
    "damaged": ("repaired", "written_off"),
    "images": ("erased",),
    "lost": ("found", "written_off"),
}

_stamp = store.UTCDateTimeField().python_value


# --- written where the facts are recorded (inside the caller's transaction) --------------


def open_problem(
    kind: str, item_id: int, loan_id: int | None, event_id: int, detail: dict[str, Any]
) -> int:
    """Put a problem on the list; returns its id.

    The same kind raised again about the same loan (damage reported from My items, then
    again on return) updates the one already open instead of listing it twice.
    """
    assert kind in KINDS, kind
    if loan_id is not None:
        existing = Problem.get_or_none(
            Problem.kind == kind,
            Problem.item == item_id,
            Problem.loan == loan_id,
            Problem.resolved_event.is_null(),
        )
        if existing is not None:
            existing.detail = {**(existing.detail or {}), **detail}
            existing.save()
            return int(existing.id)
    return int(
        Problem.insert(
            kind=kind, item=item_id, loan=loan_id, detail=detail, opened_event=event_id
        ).execute()
    )


def close_open(kind: str, item_id: int, outcome: str, note: str, event_id: int) -> int:
    """Mark every open problem of ``kind`` on an item as dealt with (a lost item tapped is
    found); returns how many."""
    return int(
        Problem.update(resolved_event=event_id, resolution=outcome, resolution_note=note)
        .where(Problem.kind == kind, Problem.item == item_id, Problem.resolved_event.is_null())
        .execute()
    )


def close_for_loan(kind: str, loan_id: int, outcome: str, note: str, event_id: int) -> int:
    """Mark a loan's open problem of ``kind`` as dealt with; returns how many (0 or 1)."""
    return int(
        Problem.update(resolved_event=event_id, resolution=outcome, resolution_note=note)
        .where(Problem.kind == kind, Problem.loan == loan_id, Problem.resolved_event.is_null())
        .execute()
    )


def missing_now(item_id: int, except_loan: int | None = None) -> dict[str, int]:
    """What is already known missing from an item's contents (its open shortfalls), per line;
    with ``except_loan``, what other loans' shortfalls say."""
    cursor = database.execute_sql(
        "SELECT detail FROM problem WHERE item_id = ? AND resolved_event_id IS NULL"
        " AND kind = 'short' AND (? IS NULL OR loan_id IS NOT ?)",
        (item_id, except_loan, except_loan),
    )
    missing: dict[str, int] = {}
    for (detail,) in cursor:
        for name, n in (load_json(detail) or {}).get("missing", {}).items():
            missing[name] = missing.get(name, 0) + int(n)
    return missing


def told_missing(loan_id: int) -> dict[str, int]:
    """What the newest shortfall recorded against a loan said missing, open or dealt with
    ({} if none): the figures SLT were last told about it (``counts.record_short``)."""
    row = database.execute_sql(
        "SELECT detail FROM problem WHERE loan_id = ? AND kind = 'short' ORDER BY id DESC LIMIT 1",
        (loan_id,),
    ).fetchone()
    missing = (load_json(row[0]) or {}).get("missing", {}) if row else {}
    return {str(name): int(n) for name, n in missing.items()}


def damage_note(item_id: int) -> str:
    """What is wrong with an item marked damaged, from its open damage problems ("" if none)."""
    cursor = database.execute_sql(
        "SELECT detail FROM problem WHERE item_id = ? AND resolved_event_id IS NULL"
        " AND kind = 'damaged' ORDER BY id",
        (item_id,),
    )
    notes = [str((load_json(d) or {}).get("note", "")).strip() for (d,) in cursor]
    return "; ".join(n for n in notes if n)


# --- in words -------------------------------------------------------------------------------


def since_text(calendar: SchoolCalendar, at: datetime, now: datetime) -> str:
    """ "since 09:12 today", "since yesterday", "since Tuesday", "since Mon 9 Nov"."""
    local = calendar.local(at)
    day, today = local.date(), calendar.local(now).date()
    if day == today:
        return f"since {local:%H:%M} today"
    if day == today - timedelta(days=1):
        return "since yesterday"
    if today - timedelta(days=7) < day < today:
        return f"since {local:%A}"
    return f"since {local:%a} {day.day} {local:%b}"


def missing_text(missing: dict[str, int]) -> str:
    """ "2 iPads and 1 of the headphones" (a line's name is plural: "1 iPads" is not English)."""
    parts = [f"1 of the {name}" if n == 1 else f"{n} {name}" for name, n in missing.items()]
    if len(parts) <= 1:
        return "".join(parts) or "nothing"
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _what(kind: str, detail: dict[str, Any]) -> str:
    if kind == "short":
        return f"{missing_text(detail.get('missing', {}))} missing"
    if kind == "damaged":
        note = str(detail.get("note", "")).strip()
        return f"damaged: {note}" if note else "damaged"
    if kind == "images":
        return "images left on the camera"
    return "lost"


# --- read ---------------------------------------------------------------------------------


def _cols(row: type[Any], alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in row._fields)


_HEAD = (
    "p.id",
    "p.kind",
    "p.detail",
    "p.loan_id",
    "p.resolution",
    "p.resolution_note",
    "oe.at",
    "oe.clock_synced",
    "oe.corrected",
    "re.at",
)
_ITEM_AT = len(_HEAD)
_BORROWER_AT = _ITEM_AT + len(ItemRow._fields)
_RESOLVER_AT = _BORROWER_AT + len(StaffRow._fields)

_PROBLEMS = (
    f"SELECT {', '.join(_HEAD)}, {_cols(ItemRow, 'i')}, {_cols(StaffRow, 's')},"
    f" {_cols(StaffRow, 'r')}"
    " FROM problem p JOIN item i ON i.id = p.item_id"
    " JOIN event oe ON oe.id = p.opened_event_id"
    " LEFT JOIN loan l ON l.id = p.loan_id LEFT JOIN staff s ON s.id = l.borrower_id"
    " LEFT JOIN event re ON re.id = p.resolved_event_id LEFT JOIN staff r ON r.id = re.staff_id"
)


class Problems:
    """The office's list: read it, and record what happened to a problem."""

    def __init__(self, settings: Settings, clock: Clock, calendar: SchoolCalendar) -> None:
        self.settings = settings
        self.clock = clock
        self.calendar = calendar
        self.journal = Journal(clock)
        self.views = ViewMapper(settings, calendar)

    def open(self, limit: int = 200) -> list[ProblemView]:
        """Open problems, longest open first."""
        return self._read("p.resolved_event_id IS NULL ORDER BY p.opened_event_id LIMIT ?", limit)

    def listed(self, limit: int | None = None) -> ProblemList:
        """The office's list (at most ``LISTED``) and the count of all, read together."""
        limit = LISTED if limit is None else limit
        with database.atomic():
            shown = self.open(limit)
            total = len(shown) if len(shown) < limit else self.count_open()
        return ProblemList(shown, total)

    def resolved(self, limit: int = 50) -> list[ProblemView]:
        """Problems dealt with, most recently dealt with first."""
        return self._read(
            "p.resolved_event_id IS NOT NULL ORDER BY p.resolved_event_id DESC LIMIT ?", limit
        )

    def of_item(self, item_id: int) -> list[ProblemView]:
        """An item's open problems (for the office's screens)."""
        return self._read(
            "p.resolved_event_id IS NULL AND p.item_id = ? ORDER BY p.opened_event_id LIMIT ?",
            item_id,
            200,
        )

    def count_open(self) -> int:
        return int(
            database.execute_sql(
                "SELECT count(*) FROM problem WHERE resolved_event_id IS NULL"
            ).fetchone()[0]
        )

    def _read(self, where: str, *params: object) -> list[ProblemView]:
        now = self.clock.now()
        cursor = database.execute_sql(f"{_PROBLEMS} WHERE {where}", params)
        return [self._view(r, now) for r in cursor]

    def _view(self, r: Sequence[Any], now: datetime) -> ProblemView:
        pid, kind, detail, loan_id, resolution, note, at, synced, corrected, resolved = r[:_ITEM_AT]
        item = self.views.item(ItemRow.load(r[_ITEM_AT:_BORROWER_AT]))
        borrower = r[_BORROWER_AT]
        who = self.views.staff(StaffRow.load(r[_BORROWER_AT:_RESOLVER_AT])) if borrower else None
        resolver = r[_RESOLVER_AT]
        by = self.views.staff(StaffRow.load(r[_RESOLVER_AT:])) if resolver else None
        since = _stamp(at)
        assert since is not None
        what = _what(kind, load_json(detail) or {})
        since_words = since_text(self.calendar, since, now)
        summary = f"{item.name}: {what} {since_words}"
        if who is not None:
            summary += f", last with {who.greeting}"
        return ProblemView(
            id=pid,
            kind=kind,
            item=item,
            what=what,
            since=since,
            since_text=since_words,
            last_with=who,
            summary=summary,
            outcomes=OUTCOMES[kind] if resolution is None else (),
            loan_id=loan_id,
            time_uncertain=not synced and corrected is None,
            resolved_at=_stamp(resolved),
            resolution=resolution,
            resolved_by=by,
            resolution_note=note,
        )

    # --- what happened ------------------------------------------------------------------

    def resolve(self, problem_id: int, outcome: str, note: str, by_staff_id: int) -> ActionResult:
        """Record what happened to a problem (found, repaired, written off, erased)."""
        by = require_office(by_staff_id)
        problem = Problem.get_or_none(Problem.id == problem_id)
        if problem is None:
            raise NotFound(f"There is no problem number {problem_id}.")
        if problem.resolved_event_id is not None:
            raise Refused("That problem has already been dealt with.")
        allowed = OUTCOMES[problem.kind]
        if outcome not in allowed:
            choices = " or ".join(RESOLUTIONS[o] for o in allowed)
            raise Refused(f"For this problem, choose {choices}.")
        note = " ".join(note.split())
        if outcome == "written_off" and not note:
            raise Refused("Say why it is written off, in a few words.")
        item = problem.item
        if outcome == "written_off" and problem.kind in ("damaged", "lost"):
            out = Loan.select().where(Loan.item == item, Loan.closed_at.is_null()).first()
            if out is not None:
                who = out.borrower.name if out.borrower_id else "someone"
                raise Refused(f"{item.name} is out with {who}: write it off once it is back.")
        with store.write():
            ev = self.journal.event(
                "problem_resolved",
                staff_id=by.id,
                item_id=item.id,
                loan_id=problem.loan_id,
                detail={
                    "problem": problem.id,
                    "kind": problem.kind,
                    "outcome": outcome,
                    "note": note,
                },
            )
            problem.resolved_event_id = ev
            problem.resolution = outcome
            problem.resolution_note = note
            problem.save()
            message = self._apply(problem, item, outcome, note, by.id)
        return ActionResult(message)

    def _apply(self, problem: Problem, item: Item, outcome: str, note: str, by_id: int) -> str:
        """What dealing with it changes (contents, the item's status), in words."""
        detail = problem.detail or {}
        if problem.kind == "short":
            missing = {k: int(v) for k, v in detail.get("missing", {}).items()}
            if outcome == "found":
                return f"{item.name}: the missing {missing_text(missing)} are recorded as found."
            counts = {
                line["name"]: max(0, int(line["count"]) - missing.get(line["name"], 0))
                for line in item.contents or []
            }
            write_contents(self.journal, item, counts, f"written off: {note}", by_id)
            return (
                f"{item.name}: {missing_text(missing)} written off. "
                f"It now holds {contents_text(item.contents)}."
            )
        if problem.kind == "images":
            return f"Images on {item.name}: recorded as erased."
        if outcome == "written_off":
            item.status = "retired"
            item.save()
            return f"{item.name} is written off: it will not be lent again."
        if problem.kind == "damaged":
            still = Problem.select().where(
                Problem.kind == "damaged",
                Problem.item == item,
                Problem.resolved_event.is_null(),
                Problem.id != problem.id,
            )
            if item.status == "damaged" and not still.exists():
                item.status = "available"
                item.save()
                return f"{item.name} is recorded as repaired and can be lent again."
            return f"{item.name}: this damage is recorded as repaired."
        if item.status == "lost":
            item.status = "available"
            item.save()
            return f"{item.name} is recorded as found and can be lent again."
        return f"{item.name} is recorded as found."

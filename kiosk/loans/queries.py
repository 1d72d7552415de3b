"""What is out, with whom, and what happened before: the read-only questions, as views.

The kiosk's boards, the CLI's ``status`` and the browser board all ask these. They
only read, so ``kiosk web`` can hold its own ``Queries`` on a read-only connection
without the tap state of ``LoanService``. The office's open problems and its spare
cards are read here too (``open_problems``, ``spare_cards``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import peewee as pw

from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Item, Loan, PersonalCall, Staff, database
from kiosk.errors import NotFound
from kiosk.loans.acts import act_notes
from kiosk.loans.calls import call_counts, order_key, select_calls, views_of
from kiosk.loans.mapper import ViewMapper
from kiosk.loans.problems import Problems
from kiosk.loans.rows import LOANS_WITH_ITEM_AND_BORROWER, loan_with
from kiosk.settings import Settings
from kiosk.views import (
    CallView,
    ContentLine,
    ItemView,
    LoanView,
    ProblemList,
    ProblemView,
    SpareCardView,
    StaffView,
)

#: A return checklist: the kind's questions and the item's contents.
ReturnChecklist = tuple[tuple[str, ...], tuple[ContentLine, ...]]


class Queries:
    def __init__(self, settings: Settings, clock: Clock, calendar: SchoolCalendar) -> None:
        self.settings = settings
        self.clock = clock
        self.calendar = calendar
        self.views = ViewMapper(settings, calendar)
        self.problems = Problems(settings, clock, calendar)

    def loans(self, where: str, params: tuple[object, ...] = ()) -> list[LoanView]:
        """Loans with item and borrower from one joined query (``LOANS_WITH_ITEM_AND_BORROWER``)."""
        now = self.clock.now()
        cursor = database.execute_sql(f"{LOANS_WITH_ITEM_AND_BORROWER} WHERE {where}", params)
        return [self.views.loan(*loan_with(r), now) for r in cursor]

    def loan(self, loan_id: int) -> LoanView:
        """One loan, open or closed."""
        found = self.loans("l.id = ?", (loan_id,))
        if not found:
            raise NotFound(f"There is no loan number {loan_id}.")
        return found[0]

    def loan_view(self, loan: Loan, now: datetime | None = None) -> LoanView:
        """One loan read through the ORM (item and borrower loaded as needed)."""
        borrower = loan.borrower if loan.borrower_id is not None else None
        return self.views.loan(loan, loan.item, borrower, now or self.clock.now())

    def board(
        self, kind: str | None = None, overdue_only: bool = False, search: str = ""
    ) -> list[LoanView]:
        """What is out now: overdue first, then by due time."""
        where, params = ["l.closed_at IS NULL"], []
        if kind:
            where.append("i.kind = ?")
            params.append(kind)
        if search.strip():
            where.append(
                "(s.name LIKE ? OR s.known_as LIKE ? OR i.name LIKE ?"
                " OR i.asset_tag LIKE ? OR l.trip LIKE ?)"
            )
            params.extend([f"%{search.strip()}%"] * 5)
        views = self.loans(" AND ".join(where), tuple(params))
        if overdue_only:
            views = [v for v in views if v.overdue]
        far = datetime.max.replace(tzinfo=self.clock.now().tzinfo)
        views.sort(key=lambda v: (not v.overdue, v.due_at or far, v.item.name))
        calls = call_counts(
            [v.id for v in views if "personal_calls" in self.settings.kind(v.item.kind).checklist]
        )
        if calls:
            views = [v._replace(personal_calls=calls.get(v.id, 0)) for v in views]
        return views

    def calls(self, loan_id: int) -> list[CallView]:
        """The personal calls recorded on one loan, in the order they were made."""
        return sorted(views_of(select_calls().where(PersonalCall.loan == loan_id)), key=order_key)

    def loans_for(self, staff_pk: int) -> list[LoanView]:
        """What one person has out now, oldest first."""
        return self.loans(
            "l.borrower_id = ? AND l.closed_at IS NULL ORDER BY l.out_at", (staff_pk,)
        )

    def item_history(self, item_pk: int, limit: int = 50) -> list[LoanView]:
        return self._with_acts(
            self.loans("l.item_id = ? ORDER BY l.out_at DESC LIMIT ?", (item_pk, limit))
        )

    def staff_history(self, staff_pk: int, limit: int = 50) -> list[LoanView]:
        return self._with_acts(
            self.loans("l.borrower_id = ? ORDER BY l.out_at DESC LIMIT ?", (staff_pk, limit))
        )

    def _with_acts(self, views: list[LoanView]) -> list[LoanView]:
        """What the office did on the borrowers' behalf, in words, on each loan it acted on."""
        notes = act_notes([v.id for v in views])
        return [v._replace(office=notes[v.id]) if v.id in notes else v for v in views]

    def open_problems(self, limit: int = 200) -> list[ProblemView]:
        """The office's list: trolleys short, damage, images left, losses; oldest first."""
        return self.problems.open(limit)

    def open_problem_list(self) -> ProblemList:
        """The office's list as it is shown, with the count of all that are open."""
        return self.problems.listed()

    def resolved_problems(self, limit: int = 50) -> list[ProblemView]:
        """Problems the office has dealt with, and how; most recent first."""
        return self.problems.resolved(limit)

    def open_problem_count(self) -> int:
        return self.problems.count_open()

    def spare_cards(self) -> list[SpareCardView]:
        """The office's spare cards and who has each today."""
        from kiosk.loans import cards  # the office's pages only: not on ``kiosk status``'s path

        return cards.spare_cards(self.views, self.calendar, self.clock.now())

    def items_with_contents(self) -> list[ItemView]:
        """Items that hold things to count (trolleys), by name."""
        query = Item.select().where(Item.status != "retired").order_by(pw.fn.lower(Item.name))
        return [self.views.item(i) for i in query if i.contents]

    def find_staff(self, text: str = "", limit: int = 50) -> list[StaffView]:
        query = Staff.select().order_by(Staff.name).limit(limit)
        if text.strip():
            like = f"%{text.strip()}%"
            query = query.where(Staff.name**like | Staff.known_as**like | Staff.staff_id**like)
        return [self.views.staff(s) for s in query]

    def find_items(self, text: str = "", limit: int = 100) -> list[ItemView]:
        query = Item.select().order_by(Item.kind, Item.name).limit(limit)
        if text.strip():
            like = f"%{text.strip()}%"
            query = query.where(Item.name**like | Item.asset_tag**like)
        return self._with_holders([self.views.item(i) for i in query])

    def _with_holders(self, items: list[ItemView]) -> list[ItemView]:
        """The items, each saying who has it now if it is out (one query for them all)."""
        if not items:
            return items
        marks = ", ".join("?" * len(items))
        holders = dict(
            database.execute_sql(
                "SELECT l.item_id, COALESCE(s.name, '(removed)') FROM loan l"
                " LEFT JOIN staff s ON s.id = l.borrower_id"
                f" WHERE l.closed_at IS NULL AND l.item_id IN ({marks})",
                [i.id for i in items],
            ).fetchall()
        )
        return [i._replace(out_with=holders[i.id]) if i.id in holders else i for i in items]

    def staff(self, staff_pk: int) -> StaffView:
        staff = Staff.get_or_none(Staff.id == staff_pk)
        if staff is None:
            raise NotFound(f"There is no member of staff number {staff_pk}.")
        return self.views.staff(staff)

    def item(self, item_pk: int) -> ItemView:
        item = Item.get_or_none(Item.id == item_pk)
        if item is None:
            raise NotFound(f"There is no item number {item_pk}.")
        return self._with_holders([self.views.item(item)])[0]

    def tag_owner(self, uid: str, *, switched_off: bool = False) -> str | None:
        """Whose the tag is, in words ("Amira Khan's badge", "Spare card 2"), or None.

        With ``switched_off``, a badge switched off as lost is named too ("Amira Khan's
        badge, switched off as lost"); it may be enrolled again, so it is no owner.
        """
        staff = Staff.get_or_none(Staff.badge_uid == uid)
        if staff:
            return f"{staff.name}'s badge"
        item = Item.get_or_none(Item.tag_uid == uid)
        if item:
            return f"the tag on {item.name}"
        from kiosk.loans import cards

        spare = cards.spare_by_uid(uid)
        if spare is not None:
            return spare.label + (" (switched off)" if spare.switched_off else "")
        if switched_off:
            badge = cards.switched_off_owner(uid)
            if badge is not None:
                return f"{badge}, switched off as lost"
        return None

    def return_checklists(self, limit: int = 16) -> list[ReturnChecklist]:
        """The different return checklists of the items in service, most items first.

        A checklist is a kind's questions and the item's contents (a trolley of 30 iPads
        and one of 16 are two): the kiosk screen builds one checklist screen for each
        before the first return, so the most common are enough (``limit``).
        """
        query = (
            Item.select(Item.kind, Item.contents, pw.fn.COUNT(Item.id).alias("n"))
            .where(Item.status.not_in(("retired", "lost")))
            .group_by(Item.kind, Item.contents)
            .order_by(pw.SQL("n").desc(), Item.kind)
        )
        found: list[ReturnChecklist] = []
        for row in query:
            checks = tuple(self.settings.kind(row.kind).checklist)
            contents = self.views.contents(row.contents)
            if checks and (checks, contents) not in found:
                found.append((checks, contents))
            if len(found) == limit:
                break
        return found

    def stock_take(self, seen_uids: set[str]) -> list[tuple[ItemView, LoanView | None]]:
        """Items in service whose tags were not seen, each with its last loan (who had it)."""
        missing = []
        query = Item.select().where(Item.status.in_(("available", "damaged")))
        for item in query:
            if item.tag_uid and item.tag_uid in seen_uids:
                continue
            last = Loan.select().where(Loan.item == item).order_by(Loan.out_at.desc()).first()
            missing.append((self.views.item(item), self.loan_view(last) if last else None))
        return missing

    def out_but_here(self, seen_uids: set[str]) -> list[LoanView]:
        """Items tapped in the cupboard that the records say are out: the record is wrong."""
        if not seen_uids:
            return []
        marks = ", ".join("?" * len(seen_uids))
        return self.loans(
            f"l.closed_at IS NULL AND i.tag_uid IN ({marks}) ORDER BY i.name", tuple(seen_uids)
        )


def open_loans_among(ids: list[int]) -> pw.ModelSelect[Loan]:
    """Those of ``ids`` still open, with item and borrower loaded, by due time (the alert
    rules: overdue and reminders)."""
    return (
        Loan.select(Loan, Item, Staff)
        .join(Item, on=(Loan.item == Item.id))
        .switch(Loan)
        .join(Staff, pw.JOIN.LEFT_OUTER, on=(Loan.borrower == Staff.id))
        .where(Loan.id.in_(ids), Loan.closed_at.is_null())
        .order_by(Loan.due_at, Loan.id)
    )


def iter_open_loans() -> Iterator[Loan]:
    """Open loans with item and borrower loaded (for the alert rules' end-of-day summary)."""
    yield from (
        Loan.select(Loan, Item, Staff)
        .join(Item, on=(Loan.item == Item.id))
        .switch(Loan)
        .join(Staff, pw.JOIN.LEFT_OUTER, on=(Loan.borrower == Staff.id))
        .where(Loan.closed_at.is_null())
        .order_by(Loan.due_at)
    )

"""The one place where stored rows become the plain views screens, the CLI and the web read.

It takes anything with the columns' names as attributes: the hot path's typed rows
(``kiosk.loans.rows``) and the ORM's model instances alike, so a loan looks the same
on the board whichever way it was read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from kiosk.calendar import SchoolCalendar
from kiosk.settings import Settings
from kiosk.views import ContentLine, ItemView, LoanView, StaffView


class StaffLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def staff_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def known_as(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def classes(self) -> str: ...
    @property
    def active(self) -> bool: ...
    @property
    def email(self) -> str: ...
    @property
    def badge_uid(self) -> str | None: ...


class ItemLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def asset_tag(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def home_class(self) -> str: ...
    @property
    def phone_number(self) -> str: ...
    @property
    def contents(self) -> list[dict[str, Any]] | None: ...
    @property
    def tag_uid(self) -> str | None: ...
    @property
    def notes(self) -> str: ...


class LoanLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def out_at(self) -> datetime: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def trip(self) -> str: ...
    @property
    def off_site(self) -> bool: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def checklist(self) -> dict[str, object] | None: ...
    @property
    def condition_note(self) -> str: ...
    @property
    def out_clock_synced(self) -> bool: ...
    @property
    def out_corrected(self) -> float | None: ...


class ViewMapper:
    """Rows to views, with the settings' kind labels and the school's way of saying times."""

    def __init__(self, settings: Settings, calendar: SchoolCalendar) -> None:
        self.settings = settings
        self.calendar = calendar

    def staff(self, s: StaffLike) -> StaffView:
        return StaffView(
            id=s.id,
            staff_id=s.staff_id,
            name=s.name,
            greeting=s.known_as or s.name,
            role=s.role,
            classes=tuple(s.classes.split()),
            active=bool(s.active),
            email=s.email,
            has_badge=bool(s.badge_uid),
        )

    @staticmethod
    def contents(stored: list[dict[str, Any]] | None) -> tuple[ContentLine, ...]:
        return tuple(ContentLine(c["name"], int(c["count"])) for c in stored or [])

    def item(self, i: ItemLike) -> ItemView:
        rule = self.settings.kind(i.kind)
        return ItemView(
            id=i.id,
            asset_tag=i.asset_tag,
            name=i.name,
            kind=i.kind,
            kind_label=rule.label,
            status=i.status,
            home_class=i.home_class,
            phone_number=i.phone_number,
            contents=self.contents(i.contents),
            off_site=rule.off_site,
            has_tag=bool(i.tag_uid),
            notes=i.notes,
        )

    def loan(
        self,
        loan: LoanLike,
        item: ItemLike | ItemView,
        borrower: StaffLike | StaffView | None,
        now: datetime,
    ) -> LoanView:
        due, closed_at = loan.due_at, loan.closed_at
        return LoanView(
            id=loan.id,
            item=item if isinstance(item, ItemView) else self.item(item),
            borrower=(
                borrower
                if borrower is None or isinstance(borrower, StaffView)
                else self.staff(borrower)
            ),
            out_at=loan.out_at,
            due_at=due,
            due_text=self.calendar.describe(due, now) if due else "no due time",
            overdue=bool(due and closed_at is None and now > due),
            trip=loan.trip,
            off_site=bool(loan.off_site),
            closed_at=closed_at,
            outcome=loan.outcome,
            checklist=loan.checklist,
            condition_note=loan.condition_note,
            time_uncertain=not loan.out_clock_synced and loan.out_corrected is None,
        )

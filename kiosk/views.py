"""Plain result objects the service hands to screens and the CLI.

Screens never touch the ORM: they get these immutable values, which carry everything
needed to draw a line on the board or a confirmation. They are named tuples, not frozen
dataclasses: Python 3.11 compiles six methods for each frozen dataclass as its module
loads, about 1 ms a class here and five times that on a Pi, at every start of the kiosk
and every ``kiosk status``; a named tuple's are built in. A changed copy is
``view._replace(field=value)``. ``ContentLine`` is a small class of its own: as a
tuple, its ``count`` field would hide the tuple's ``count`` method.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from kiosk.calendar import SchoolCalendar


class ContentLine:
    """One line of what an item holds: "iPads", 30. Immutable, compared by value."""

    __slots__ = ("count", "name")
    name: str
    count: int

    def __init__(self, name: str, count: int) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "count", count)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"a ContentLine cannot be changed ({key})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContentLine):
            return NotImplemented
        return (self.name, self.count) == (other.name, other.count)

    def __hash__(self) -> int:
        return hash((self.name, self.count))

    def __repr__(self) -> str:
        return f"ContentLine(name={self.name!r}, count={self.count!r})"

    def __reduce__(self) -> tuple[type[ContentLine], tuple[str, int]]:
        return (ContentLine, (self.name, self.count))


class StaffView(NamedTuple):
    id: int
    staff_id: str
    name: str
    greeting: str
    role: str
    classes: tuple[str, ...]
    active: bool
    email: str = ""
    has_badge: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class ItemView(NamedTuple):
    id: int
    asset_tag: str
    name: str
    kind: str
    kind_label: str
    status: str
    home_class: str = ""
    phone_number: str = ""
    contents: tuple[ContentLine, ...] = ()
    off_site: bool = False
    has_tag: bool = False
    notes: str = ""
    out_with: str = ""
    """Who has it now, when it is out on loan (lists of items say so, not "available")."""


class LoanView(NamedTuple):
    id: int
    item: ItemView
    borrower: StaffView | None
    out_at: datetime
    due_at: datetime | None
    due_text: str
    overdue: bool
    trip: str = ""
    off_site: bool = False
    closed_at: datetime | None = None
    outcome: str | None = None
    checklist: dict[str, object] | None = None
    condition_note: str = ""
    time_uncertain: bool = False
    """Signed out while the kiosk's clock was not set, and not corrected since: the out
    and due times may be wrong (they are shown as such, and start no escalation)."""
    personal_calls: int = 0
    """Personal calls recorded on it (trip phones; filled in by the office board)."""
    office: tuple[str, ...] = ()
    """What the office did on the borrower's behalf, in words ("signed out by Mrs Price
    (office)"); filled in by the histories only."""

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Outcome(StrEnum):
    SESSION_STARTED = "session_started"
    SIGNED_OUT = "signed_out"
    RETURNED = "returned"
    HANDED_OVER = "handed_over"
    FOUND = "found"
    UNDONE = "undone"
    REFUSED = "refused"
    UNKNOWN_TAG = "unknown_tag"
    IGNORED = "ignored"
    WARNING = "warning"
    """Nothing done yet: the item is marked damaged, and Yes (a follow-up call) lends it."""


#: Outcomes that the green light and one beep answer; IGNORED gets no answer at all.
ACCEPTED = frozenset(
    {
        Outcome.SESSION_STARTED,
        Outcome.SIGNED_OUT,
        Outcome.RETURNED,
        Outcome.HANDED_OVER,
        Outcome.FOUND,
        Outcome.UNDONE,
    }
)


class TapResult(NamedTuple):
    """What a tap did, and what to say about it.

    ``message`` is the one line a person must read ("Class camera 5B is yours.");
    ``detail`` the optional second ("Back by 15:30 today.").
    """

    outcome: Outcome
    message: str
    detail: str = ""
    staff: StaffView | None = None
    item: ItemView | None = None
    loan: LoanView | None = None
    previous: LoanView | None = None
    loans: tuple[LoanView, ...] = ()
    checklist: tuple[str, ...] = ()
    asks_return_time: bool = False
    undo_until: float | None = None
    """Until when (the service clock's monotonic time) the action can be undone."""
    session_until: float | None = None
    """Until when the badge session this tap opened lasts without another tap."""
    uid: str = ""
    expected: tuple[ContentLine, ...] = ()
    """What should be counted now (a return or a hand-over): the contents less what is
    already known missing (open problems)."""
    confirm_until: float | None = None
    """A WARNING: until when (the service clock's monotonic time) Yes still lends the item."""

    @property
    def accepted(self) -> bool:
        return self.outcome in ACCEPTED

    @property
    def refused(self) -> bool:
        return self.outcome in (Outcome.REFUSED, Outcome.UNKNOWN_TAG)

    @property
    def asks_first(self) -> bool:
        """A question before anything is done (the item is marked damaged)."""
        return self.outcome is Outcome.WARNING


class Checklist(NamedTuple):
    """Answers to a return checklist. ``None`` means "not asked"."""

    counts: dict[str, int] | None = None
    images_erased: bool | None = None
    charged: bool | None = None
    personal_calls: bool | None = None
    damage: str | None = None  # None: not asked; "": no damage; text: what is damaged

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self._asdict().items() if v is not None}


class AlertRaised(NamedTuple):
    kind: str
    audience: str
    summary: str
    channels: tuple[str, ...] = ()
    """Where it will go ([sync.routes]); none means nobody will be told by the kiosk."""


class ActionResult(NamedTuple):
    """The result of a follow-up action (checklist, loss report, due change)."""

    message: str
    alerts: tuple[AlertRaised, ...] = ()
    loan: LoanView | None = None
    warnings: tuple[str, ...] = ()


# --- the office's day: personal calls, stock-takes, the day's report ----------------------


class CallView(NamedTuple):
    """A personal call, text or email from a trip phone (Appendix 5), as the office reads it."""

    id: int
    loan_id: int
    made_at: datetime | None
    """When it was made. None only for a call recorded before the kiosk kept exact times
    whose words (``stated``) could not be read without guessing."""
    stated: str
    """The words typed for its time before the kiosk kept exact times ("23/11 12:10");
    empty for calls recorded since."""
    number: str
    reason: str
    recorded_at: datetime
    phone: str
    """The phone's name ("Trip phone 2")."""
    phone_number: str
    person: str
    """Who had the phone (empty once retention has removed the person)."""
    recorded_by: str = ""
    """Who typed it in, when known (the office, afterwards; or the person at the return)."""


class ShortCount(NamedTuple):
    """A return counted short: which loan, and each line that came back short."""

    loan: LoanView
    lines: tuple[tuple[str, int, int], ...]
    """(what, counted, expected) per line of the item's contents that came back short."""

    @property
    def text(self) -> str:
        """ "28 of 30 iPads, 29 of 30 headphones"."""
        return ", ".join(f"{got} of {want} {name}" for name, got, want in self.lines)


class Incident(NamedTuple):
    """Damage reported, or an item reported lost: what, when, the words given, by whom."""

    item: ItemView
    at: datetime
    note: str
    person: str
    """Whose loan it was (damage), or who reported it (lost); empty when not known."""
    loan_id: int | None = None


class StockLine(NamedTuple):
    """One item a stock-take found something to say about, with the loan that explains it."""

    item: ItemView
    loan: LoanView | None
    """Missing: its last loan (who had it last; None if never borrowed). Out and here:
    the open loan the records show."""


class StockTakeView(NamedTuple):
    """An end-of-day stock-take as saved: missing items, items out, items here but shown out."""

    id: int
    at: datetime
    by: str
    seen: int
    """Tags tapped during the stock-take."""
    missing: tuple[StockLine, ...]
    """Not seen and not on loan: nobody knows where they are."""
    out: tuple[StockLine, ...]
    """Not seen, and on loan: where the records say (not a problem by itself)."""
    here: tuple[StockLine, ...]
    """Seen in the cupboard, yet the records show them out: the records are wrong."""

    @property
    def summary(self) -> str:
        """ "2 missing, 1 out on loan, 1 here but shown as out" or "everything is here"."""
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing")
        if self.out:
            parts.append(f"{len(self.out)} out on loan")
        if self.here:
            parts.append(f"{len(self.here)} here but shown as out")
        return ", ".join(parts) if parts else "everything is here"


class StockTakeSaved(NamedTuple):
    """What saving a stock-take did: the record, and what the screen may say about the alert."""

    stock_take: StockTakeView
    message: str
    alerts: tuple[AlertRaised, ...] = ()


class DayReport(NamedTuple):
    """The office's day in one object: the Today view, ``kiosk export day`` and the
    end-of-day summary alert all read this (``kiosk.loans.day``)."""

    day: date
    as_of: datetime
    """The moment "overdue" is judged at: now for today, the end of the day before."""
    signed_out: tuple[LoanView, ...]
    """Loans that started that day (passed on counts as a new loan), undone ones left out."""
    returned: tuple[LoanView, ...]
    """Loans that ended that day: returned or passed on."""
    short: tuple[ShortCount, ...]
    damaged: tuple[Incident, ...]
    lost: tuple[Incident, ...]
    calls: tuple[CallView, ...]
    overdue: tuple[LoanView, ...]
    """Out and past their due time at ``as_of``."""
    stock_take: StockTakeView | None = None
    """The last stock-take saved that day."""

    @property
    def counts(self) -> tuple[tuple[str, int], ...]:
        """Each fact and how many, in the order the Today view shows them."""
        return (
            ("out", len(self.signed_out)),
            ("back", len(self.returned)),
            ("short", len(self.short)),
            ("damaged", len(self.damaged)),
            ("lost", len(self.lost)),
            ("calls", len(self.calls)),
            ("overdue", len(self.overdue)),
        )

    @property
    def headline(self) -> str:
        """ "12 out, 10 back, 1 short, 1 damaged, 2 personal calls, 1 overdue"."""
        names = {"calls": "personal call", "short": "short count"}
        parts = []
        for key, n in self.counts:
            if key in ("out", "back") or n:
                noun = names.get(key, key)
                if key in ("calls", "short") and n != 1:
                    noun += "s"
                parts.append(f"{n} {noun}")
        return ", ".join(parts)


class DayLine(NamedTuple):
    """One line of the Today view (the kiosk's office screen and ``kiosk web``'s page)."""

    what: str
    """OVERDUE, MISSING, Here, Short, Damaged, Lost, Call, Out, Back or Passed on."""
    at: datetime | None
    name: str
    """The item (or phone) it is about."""
    who: str
    detail: str
    item: ItemView | None = None
    """For its history; None for a personal call (its loan says which phone)."""
    loan: LoanView | None = None
    loan_id: int | None = None

    @property
    def kind(self) -> str:
        return self.item.kind if self.item is not None else ""


def day_lines(report: DayReport) -> list[DayLine]:
    """The day's facts in the order the office deals with them: overdue, what the
    stock-take found missing or here-but-shown-out, short counts, damage and losses;
    then the personal calls; then each loan and return in the order they happened."""

    def who(loan: LoanView | None) -> str:
        return loan.borrower.name if loan is not None and loan.borrower else ""

    loans = {v.id: v for v in (*report.signed_out, *report.returned, *report.overdue)}
    out: list[DayLine] = []

    def add(
        what: str,
        at: datetime | None,
        item: ItemView,
        person: str,
        detail: str,
        loan: LoanView | None = None,
    ) -> None:
        line = DayLine(what, at, item.name, person, detail, item, loan, loan.id if loan else None)
        out.append(line)

    for v in report.overdue:
        add("OVERDUE", v.due_at, v.item, who(v), "was due", v)
    take = report.stock_take
    if take is not None:
        for s in take.missing:
            last = "never borrowed" if s.loan is None else "not seen at the stock-take"
            add("MISSING", take.at, s.item, who(s.loan), last, s.loan)
        for s in take.here:
            add("Here", take.at, s.item, who(s.loan), "shown as out", s.loan)
    for c in report.short:
        add("Short", c.loan.closed_at, c.loan.item, who(c.loan), c.text, c.loan)
    for d in report.damaged:
        add("Damaged", d.at, d.item, d.person, d.note, loans.get(d.loan_id or 0))
    for d in report.lost:
        add("Lost", d.at, d.item, d.person, d.note, loans.get(d.loan_id or 0))
    for call in report.calls:
        detail = f"as written: {call.stated}" if call.made_at is None else "personal call"
        loan = loans.get(call.loan_id)
        out.append(
            DayLine("Call", call.made_at, call.phone, call.person, detail, None, loan, call.loan_id)
        )
    moves = [(v.out_at, "Out", v) for v in report.signed_out]
    moves += [
        (v.closed_at, "Passed on" if v.outcome == "handed_over" else "Back", v)
        for v in report.returned
        if v.closed_at is not None
    ]
    for at, what, v in sorted(moves, key=lambda m: (m[0], m[2].id)):
        add(what, at, v.item, who(v), f"Trip: {v.trip}" if what == "Out" and v.trip else "", v)
    return out


T = TypeVar("T")

#: What a search's list says under it when it stops short of everything that matches.
_MORE_MATCH = {
    "people": "More people match: the first {n} are listed. Type more of the name to narrow it.",
    "items": (
        "More items match: the first {n} are listed. "
        "Type more of the name or the asset tag to narrow it."
    ),
}


def first(rows: Sequence[T], listed: int) -> tuple[list[T], bool]:
    """The first ``listed`` of ``rows`` looked up with ``limit=listed + 1``, and whether
    more matched than are listed: a list that stops short must say so."""
    return list(rows[:listed]), len(rows) > listed


def more_match(listed: int, **cut: bool) -> dict[str, str]:
    """The line under each list that was cut at ``listed``: ``more_match(30, people=True,
    items=False)`` is ``{"people": "More people match: the first 30 are listed. ..."}``."""
    return {what: _MORE_MATCH[what].format(n=listed) for what, more in cut.items() if more}


def search_lists(
    listed: int, people: Sequence[StaffView], items: Sequence[ItemView]
) -> tuple[list[StaffView], list[ItemView], dict[str, str]]:
    """A search's people and items, each looked up with ``limit=listed + 1``: each cut to
    ``listed``, and the line under each list that was cut (``more_match``)."""
    people_listed, more_people = first(people, listed)
    items_listed, more_items = first(items, listed)
    return people_listed, items_listed, more_match(listed, people=more_people, items=more_items)


#: Who an alert's audience is, in a sentence ("no channel for SLT").
AUDIENCE_NAMES = {"slt": "SLT", "office": "the office", "it": "IT", "borrower": "the borrower"}


class DeliverySummary(NamedTuple):
    last_delivered_at: datetime | None
    """The last time any alert reached any channel (None: never)."""
    waiting: int
    """Alerts not yet delivered everywhere they go (including ones backing off)."""
    failed: int
    """Alerts given up on (dead-lettered) on at least one channel."""
    unrouted: tuple[tuple[str, int], ...] = ()
    """Of the waiting ones, per audience: how many have no channel set up to go to."""

    def why_waiting(self, clock_set: bool = True) -> str:
        """Why alerts wait, when the kiosk knows: "2 for SLT have no channel set up"."""
        reasons = [
            f"{n} for {AUDIENCE_NAMES.get(who, who)} with no channel set up"
            for who, n in self.unrouted
        ]
        if self.waiting and not clock_set:
            reasons.append("the clock is not set")
        return "; ".join(reasons)

    def describe(self, calendar: SchoolCalendar, now: datetime, clock_set: bool = True) -> str:
        """``Alerts: last delivered 14:02 today, 3 waiting (1 for SLT with no channel set
        up), 1 failed``."""
        last = calendar.describe(self.last_delivered_at, now) if self.last_delivered_at else "never"
        why = self.why_waiting(clock_set)
        waiting = f"{self.waiting} waiting" + (f" ({why})" if why else "")
        return f"Alerts: last delivered {last}, {waiting}, {self.failed} failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "last_delivered_at": (
                self.last_delivered_at.isoformat() if self.last_delivered_at else None
            ),
            "waiting": self.waiting,
            "failed": self.failed,
            "unrouted": dict(self.unrouted),
        }


class FailedAlert(NamedTuple):
    outbox_id: int
    kind: str
    summary: str
    created_at: datetime
    error: str


#: What the office may record about a problem, in words.
RESOLUTIONS = {
    "found": "Found",
    "repaired": "Repaired",
    "written_off": "Written off",
    "erased": "Images erased",
}


class ProblemView(NamedTuple):
    """One problem on the office's list: a trolley short, damage, images left, a loss."""

    id: int
    kind: str
    """short | damaged | images | lost"""
    item: ItemView
    what: str
    """The problem in a few words: "2 iPads missing", "damaged: cracked screen"."""
    since: datetime
    since_text: str
    """ "since 09:12 today", "since yesterday", "since Tuesday", "since Mon 9 Nov"."""
    last_with: StaffView | None
    """Who had the item when it was found (the loan's borrower), if anyone."""
    summary: str
    """ "iPad trolley A key: 2 iPads missing since Tuesday, last with Mrs Clarke"."""
    outcomes: tuple[str, ...]
    """What the office may record (keys of ``RESOLUTIONS``); empty once dealt with."""
    loan_id: int | None = None
    time_uncertain: bool = False
    """Raised while the kiosk's clock was not set, and not corrected since."""
    resolved_at: datetime | None = None
    resolution: str | None = None
    resolved_by: StaffView | None = None
    resolution_note: str = ""

    @property
    def is_open(self) -> bool:
        return self.resolution is None


class ProblemList(NamedTuple):
    """The open problems as the office's list shows them, and how many are open in all."""

    shown: list[ProblemView]
    total: int

    def count_text(self) -> str:
        """ "2 open problems", or, when the list stops short, how many it leaves out."""
        n = self.total
        said = f"{n} open problem{'s' if n != 1 else ''}"
        if len(self.shown) < n:
            said += f"; the {len(self.shown)} longest open are listed"
        return said


class SpareCardView(NamedTuple):
    """A card of the office's pool and who has it today."""

    id: int
    label: str
    state: str
    """free | in_use | ended (the day is over, not taken back) | switched_off (lost)"""
    holder: StaffView | None = None
    until: datetime | None = None
    describe: str = ""
    """ "with Jo Smith until 15:30 today", "free", "switched off (lost)"."""

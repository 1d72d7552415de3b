"""Plain result objects the service hands to screens and the CLI.

Screens never touch the ORM: they get these frozen dataclasses, which carry
everything needed to draw a line on the board or a confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kiosk.calendar import SchoolCalendar


@dataclass(frozen=True)
class ContentLine:
    name: str
    count: int


@dataclass(frozen=True)
class StaffView:
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


@dataclass(frozen=True)
class ItemView:
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


@dataclass(frozen=True)
class LoanView:
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


@dataclass(frozen=True)
class TapResult:
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

    @property
    def accepted(self) -> bool:
        return self.outcome in ACCEPTED

    @property
    def refused(self) -> bool:
        return self.outcome in (Outcome.REFUSED, Outcome.UNKNOWN_TAG)


@dataclass(frozen=True)
class Checklist:
    """Answers to a return checklist. ``None`` means "not asked"."""

    counts: dict[str, int] | None = None
    images_erased: bool | None = None
    charged: bool | None = None
    personal_calls: bool | None = None
    damage: str | None = None  # None: not asked; "": no damage; text: what is damaged

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class AlertRaised:
    kind: str
    audience: str
    summary: str
    channels: tuple[str, ...] = ()
    """Where it will go ([sync.routes]); none means nobody will be told by the kiosk."""


@dataclass(frozen=True)
class ActionResult:
    """The result of a follow-up action (checklist, loss report, due change)."""

    message: str
    alerts: tuple[AlertRaised, ...] = ()
    loan: LoanView | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


#: Who an alert's audience is, in a sentence ("no channel for SLT").
AUDIENCE_NAMES = {"slt": "SLT", "office": "the office", "it": "IT"}


@dataclass(frozen=True)
class DeliverySummary:
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


@dataclass(frozen=True)
class FailedAlert:
    outbox_id: int
    kind: str
    summary: str
    created_at: datetime
    error: str

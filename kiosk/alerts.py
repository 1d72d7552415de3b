"""The one writer of alerts: their kinds, keys, ids, payloads and the audit event.

An alert is a row in the outbox, written in the same transaction as the fact it
reports, so that it can never be lost or sent for something that did not happen;
``sync`` delivers it later. Two names matter:

- ``uid``, the alert's id on the wire (``webhook-id``, the email Message-ID): random
  (UUID 4), made when the alert is raised and kept by every retry. No other alert,
  from this kiosk after a restore or from another kiosk, ever has it, so a receiver
  that drops repeats by id drops only repeats.
- ``key``, the logical key inside this kiosk ("overdue:loan:42"): raising the same
  fact twice is a no-op (a unique index). It never leaves the kiosk.

Payloads carry the minimum personal data: names, the item, times. Never a badge or
tag number.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from kiosk.clock import Clock
from kiosk.db import Item, Loan, Outbox, Staff
from kiosk.journal import Journal
from kiosk.views import AUDIENCE_NAMES, AlertRaised

#: The summary line of each kind ("Class camera 5B is lost"), shown first everywhere.
_SUMMARIES = {
    "lost": "{item} is lost",
    "damaged": "{item} is damaged",
    "images_not_erased": "Images not erased from {item}",
    "leaver_with_items": "{person} is inactive and still has items",
    "overdue": "{item} is overdue",
    "overdue_escalated": "{item} is still overdue",
    "stock_take": "Stock-take result",
    "reminder": "Reminder: {item} is due back soon",
    "reminder_overdue": "{item} is overdue: please bring it back",
}


# --- keys ----------------------------------------------------------------------------------


def loan_key(kind: str, loan_id: int) -> str:
    """The fact "this kind of alert about this loan" ("lost:loan:42"): at most once."""
    return f"{loan_key_prefix(kind)}{loan_id}"


def loan_key_prefix(kind: str) -> str:
    return f"{kind}:loan:"


def due_key(kind: str, loan_id: int, due: datetime) -> str:
    """A reminder about one loan's one due time ("reminder:loan:42:20261123T1530"): a new
    due time (a trip phone's return time changed) can be reminded of again."""
    return f"{loan_key(kind, loan_id)}:{due.astimezone(UTC):%Y%m%dT%H%M}"


def event_key(kind: str, subject: str, subject_id: int, event_id: int) -> str:
    """An alert about what one event did ("leaver_with_items:staff:3:120")."""
    return f"{kind}:{subject}:{subject_id}:{event_id}"


def day_key(kind: str, day: date) -> str:
    """Once a day ("summary:2026-11-23")."""
    return f"{kind}:{day.isoformat()}"


# --- payloads -----------------------------------------------------------------------------


def payload(
    kind: str,
    *,
    loan: Loan | None = None,
    item: Item | None = None,
    staff: Staff | None = None,
    note: str = "",
    school: str = "",
    summary: str = "",
) -> dict[str, Any]:
    """The minimum an alert's reader needs: names, item, times. Never a badge or tag ID."""
    item = item or (loan.item if loan is not None else None)
    person = staff or (loan.borrower if loan is not None and loan.borrower_id else None)
    body: dict[str, Any] = {"kind": kind, "school": school, "note": note}
    if item is not None:
        body["item"] = {"name": item.name, "asset_tag": item.asset_tag, "kind": item.kind}
        if item.phone_number:
            body["item"]["phone_number"] = item.phone_number
    if person is not None:
        body["person"] = {"name": person.name, "email": person.email}
    if loan is not None:
        body["loan"] = {
            "id": loan.id,
            "out_at": loan.out_at.isoformat(),
            "due_at": loan.due_at.isoformat() if loan.due_at else None,
            "trip": loan.trip,
        }
    default = _SUMMARIES.get(kind, kind.replace("_", " ").capitalize())
    body["summary"] = summary or default.format(
        item=item.name if item is not None else "An item",
        person=person.name if person is not None else "Someone",
    )
    return body


def reminder_payload(kind: str, loan: Loan, *, school: str, due_text: str) -> dict[str, Any]:
    """A reminder to the borrower: their name and address (to deliver it), the item and
    when it is due. Less than an office alert: no asset tag, no phone number, no trip."""
    person = loan.borrower
    assert person is not None, "a reminder is only for a loan that has a borrower"
    item = loan.item
    if kind == "reminder":
        summary = f"Reminder: {item.name} is due back at {due_text}"
        note = "Please bring it back to the office by then, or change the time at the kiosk."
    else:
        summary = f"{item.name} was due back at {due_text}: please bring it back"
        note = "The office will be told soon if it is not back."
    return {
        "kind": kind,
        "school": school,
        "summary": summary,
        "note": note,
        "item": {"name": item.name},
        "person": {"name": person.name, "email": person.email},
        "loan": {
            "id": loan.id,
            "out_at": loan.out_at.isoformat(),
            "due_at": loan.due_at.isoformat() if loan.due_at else None,
        },
    }


# --- writing --------------------------------------------------------------------------------


def promise(raised: AlertRaised | None, clock_set: bool) -> str:
    """What is true right now about telling people, in words for the person at the kiosk.

    Never "have been told" at the moment of raising: the alert is only waiting to be
    sent, and may never be if no channel is set up for its audience.
    """
    if raised is None:
        return ""
    who = AUDIENCE_NAMES.get(raised.audience, raised.audience)
    if not raised.channels:
        return f"No alert channel is set up for {who}: please tell {who} yourself."
    if not clock_set:
        return f"{who[0].upper()}{who[1:]} will be told once the kiosk's clock is set."
    return f"{who[0].upper()}{who[1:]} will be told: the alert is waiting to be sent."


def exists(key: str) -> bool:
    return bool(Outbox.select(Outbox.id).where(Outbox.key == key).exists())


def raise_alert(
    clock: Clock,
    *,
    kind: str,
    audience: str,
    key: str,
    body: dict[str, Any],
    channels: Sequence[str],
    loan: Loan | None = None,
    cause_event_id: int | None = None,
) -> AlertRaised | None:
    """Queue an alert, inside the caller's write transaction; None if ``key`` was raised.

    Writes an ``alert_raised`` event (who, what, the ids) and the outbox row pointing at
    the event that caused it (or at its own event, for alerts raised by time). The check
    and the insert share the caller's BEGIN IMMEDIATE transaction, so two processes can
    never both raise one key.
    """
    if exists(key):
        return None
    uid = str(uuid.uuid4())
    journal = Journal(clock)
    raised = journal.event(
        "alert_raised",
        staff_id=(loan.borrower_id if loan is not None else None),
        item_id=(loan.item_id if loan is not None else None),
        loan_id=(loan.id if loan is not None else None),
        detail={"kind": kind, "key": key, "uid": uid, "audience": audience},
    )
    now = clock.now()
    Outbox.insert(
        uid=uid,
        key=key,
        kind=kind,
        audience=audience,
        event=cause_event_id if cause_event_id is not None else raised,
        loan=loan,
        payload=body,
        created_at=now,
        next_attempt_at=now,
    ).execute()
    return AlertRaised(kind, audience, str(body["summary"]), tuple(channels))

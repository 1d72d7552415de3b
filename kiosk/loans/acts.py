"""What the office did on someone's behalf, kept beside the loan and said in the histories.

Signed out for someone who forgot their badge, returned for someone (an item found in
the staffroom), a class camera lent once to another class: the loan is the borrower's
as usual, and an ``office_act`` row says who in the office did it and why. The
event of the action says the same (``detail["by"]``), for the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.db import database

ACTS = ("signed_out_for", "returned_for", "lent_to_class")

INSERT_ACT = "INSERT INTO office_act (loan_id, act, by_id, reason, event_id) VALUES (?, ?, ?, ?, ?)"


def record_act(loan_id: int, act: str, by_id: int, reason: str, event_id: int) -> None:
    """Inside the caller's write transaction (the one that signed out or returned)."""
    assert act in ACTS, act
    database.execute_sql(INSERT_ACT, (loan_id, act, by_id, reason, event_id))


def describe(act: str, by: str, reason: str) -> str:
    """ "signed out by Mrs Price (office)", "lent once by Mrs Price: their camera is broken"."""
    who = f"{by} (office)" if by else "the office"
    text = {
        "signed_out_for": f"signed out by {who}",
        "returned_for": f"returned by {who}",
        "lent_to_class": f"lent once by {who}",
    }[act]
    return f"{text}: {reason}" if reason else text


def act_notes(loan_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """For each of these loans that the office acted on, what it did, in words."""
    if not loan_ids:
        return {}
    marks = ", ".join("?" * len(loan_ids))
    cursor = database.execute_sql(
        "SELECT a.loan_id, a.act, a.reason, s.known_as, s.name FROM office_act a"
        f" LEFT JOIN staff s ON s.id = a.by_id WHERE a.loan_id IN ({marks}) ORDER BY a.id",
        tuple(loan_ids),
    )
    notes: dict[int, list[str]] = {}
    for loan_id, act, reason, known_as, name in cursor:
        notes.setdefault(loan_id, []).append(describe(act, known_as or name or "", reason))
    return {k: tuple(v) for k, v in notes.items()}

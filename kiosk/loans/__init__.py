"""The loan rules, one room per job; ``LoanService`` is the front the screen and CLI call.

- ``service``: ``LoanService``, the one lock and the kiosk's in-memory state.
- ``taps``: a tag on the reader: badge, sign out, return, hand over, found, refused.
- ``undo``: the last action taken back within a few seconds.
- ``followups``: the return checklist, loss and damage reports, return times, calls.
- ``counts``: what a trolley should hold now, and a shortfall put against the right loan.
- ``problems``: the office's list of open problems, until it records what happened.
- ``office`` and ``acts``: the office acting for someone, and what it did, in the histories.
- ``cards``: spare cards for the day, and badges switched off as lost.
- ``desk``: who may act as the office; contents changed with a reason.
- ``people``: someone leaving or back (leaver alerts), badges and tags enrolled.
- ``pins``: admin PINs and the lockout after wrong ones.
- ``queries``: the read-only questions (boards, histories, search, stock-take).
- ``state``: the session, the double-tap memory, the undo slot and a question waiting.
- ``rows`` and ``mapper``: the hot path's SQL with typed rows, and rows into views.

``LoanService`` is imported when first asked for, so that a reader of one room
(``kiosk status`` and ``kiosk web`` use ``queries`` alone) does not load them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.loans.service import LoanService

__all__ = ["LoanService"]


def __getattr__(name: str) -> object:
    if name == "LoanService":
        from kiosk.loans.service import LoanService

        return LoanService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

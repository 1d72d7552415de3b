"""What one push did: the result ``kiosk sync`` prints. No psycopg, so the runner can name it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PushReport:
    rows: int = 0
    """Rows upserted or deleted on the server."""
    entries: int = 0
    """Journal entries the server acknowledged."""
    batches: int = 0
    reconciled: bool = False
    """A full reconcile was done (restore, resync, first contact)."""
    contacted: bool = False
    """The server was contacted (false: nothing to push)."""
    caught_up: bool = True
    """Nothing is left to push (false when stopped early or after an error)."""
    error: str = ""

    def describe(self) -> str:
        if self.error:
            return f"Trust: not sent ({self.error})."
        if self.reconciled:
            return f"Trust: reconciled in full, {self.rows} rows."
        if not self.contacted or not self.rows:
            return "Trust: up to date."
        more = "" if self.caught_up else ", more to send"
        return f"Trust: {self.rows} rows sent{more}."


class Replicator(Protocol):
    """What the sync runner needs of ``sync.trust.push.Pusher``."""

    def push(self, stop: threading.Event | None = None) -> PushReport: ...

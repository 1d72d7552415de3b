"""What every channel is: something that sends one alert and says plainly how it went.

The delivery loop (``sync.delivery``) owns retries, back-off, leases and
ordering; a channel only makes one attempt and classifies the answer:
delivered, try again later (perhaps the receiver asked when), or stop (HTTP 410:
the receiver says the address is gone). ``channel_down`` tells the loop the
whole channel is unreachable right now, so it stops sending to it for this
pass instead of waiting out a time-out per alert.
"""

from __future__ import annotations

import email.utils
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: The longest Retry-After the kiosk honours; a receiver asking for more is asked again daily.
MAX_RETRY_AFTER_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Alert:
    """One outbox row as a channel sees it."""

    outbox_id: int
    key: str  # the alert's wire id (outbox.uid): webhook-id, Message-ID; kept by retries
    kind: str
    audience: str
    payload: dict[str, Any]
    created_at: datetime


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GONE = "gone"  # never try this channel again for this alert (HTTP 410)


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    error: str = ""
    status: int | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait
    channel_down: bool = False  # unreachable or overloaded: stop using it for this pass

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


class Sender(Protocol):
    """One configured channel (a name in ``[sync.channels]``)."""

    name: str

    def not_ready(self) -> str:
        """Why nothing should be sent now (empty when ready)."""
        ...

    def send(self, alert: Alert) -> SendResult:
        """Make one attempt; never raise for a network or server failure."""
        ...

    def close(self) -> None:
        """Release connections at the end of a pass."""
        ...


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            log.warning(
                "ignoring a Retry-After header that is neither seconds nor a date: %r", value
            )
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    return max(0.0, min(seconds, MAX_RETRY_AFTER_SECONDS))

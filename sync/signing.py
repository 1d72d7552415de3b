"""Standard Webhooks signing: what the kiosk sends, and the check SLT's receiver runs.

The kiosk signs each webhook as the Standard Webhooks spec says
(https://www.standardwebhooks.com): three headers, ``webhook-id`` (the alert's
stable id, the same on every retry, so the receiver can drop repeats),
``webhook-timestamp`` (Unix seconds) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``). Secrets are
``whsec_`` + base64, as in the spec and its reference libraries, so a receiver
built with those libraries accepts our requests too.

``verify`` is for the receiving side. It needs only the standard library, so SLT's
system can import it from this package or copy this file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from sync.errors import InvalidWebhook

#: How far a webhook's timestamp may be from the receiver's clock (the spec's 5 minutes).
TOLERANCE_SECONDS = 300

_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret, ``whsec_`` + 32 random bytes in base64."""
    return _PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    """The key inside a ``whsec_...`` secret (the prefix is optional, the base64 is not)."""
    try:
        return base64.b64decode(secret.removeprefix(_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidWebhook("The signing secret is not valid base64 after 'whsec_'.") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one message: ``v1,<base64 HMAC-SHA256>``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers_for(secret: str, msg_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The three Standard Webhooks headers (plus the content type) for a JSON body."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a received webhook and return its JSON payload, or raise InvalidWebhook.

    ``headers`` may be any mapping (a Flask/Django/WSGI headers object works);
    names are matched without regard to case. ``body`` must be the raw bytes as
    received: re-serialised JSON would not match the signature. A timestamp more
    than ``tolerance`` seconds old (or ahead) is refused, so a captured request
    cannot be replayed later. De-duplicate on ``webhook-id`` after this check.
    """
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    msg_id = lower.get("webhook-id", "")
    stamp = lower.get("webhook-timestamp", "")
    signatures = lower.get("webhook-signature", "")
    if not (msg_id and stamp and signatures):
        raise InvalidWebhook("Missing webhook-id, webhook-timestamp or webhook-signature header.")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise InvalidWebhook(f"webhook-timestamp is not a number: {stamp!r}.") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidWebhook(
            f"webhook-timestamp is {int(current - timestamp)} seconds from now "
            f"(more than {tolerance}): too old, or a clock is wrong."
        )
    expected = sign(secret, msg_id, timestamp, body).split(",", 1)[1]
    # The header may carry several space-separated signatures (during a secret rotation).
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            break
    else:
        raise InvalidWebhook("The signature does not match: wrong secret or a changed body.")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise InvalidWebhook("The body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise InvalidWebhook("The body is not a JSON object.")
    return payload

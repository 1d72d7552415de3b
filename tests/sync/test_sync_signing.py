"""Standard Webhooks signing, and the check SLT's receiving side runs (``verify``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from sync.errors import InvalidWebhook
from sync.signing import headers_for, new_secret, sign, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_795_000_000


def signed(body: bytes, *, secret: str = SECRET, at: int = NOW) -> dict[str, str]:
    return headers_for(secret, "lost:loan:42", body, at)


def test_signature_is_hmac_sha256_of_id_timestamp_body_with_the_decoded_secret() -> None:
    body = b'{"type":"kiosk.lost"}'
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, b"lost:loan:42.%d." % NOW + body, hashlib.sha256).digest()
    assert sign(SECRET, "lost:loan:42", NOW, body) == "v1," + base64.b64encode(digest).decode()
    headers = signed(body)
    assert headers["webhook-id"] == "lost:loan:42"
    assert headers["webhook-timestamp"] == str(NOW)


def test_verify_accepts_an_untouched_webhook_and_returns_its_payload() -> None:
    body = json.dumps({"type": "kiosk.lost", "data": {"summary": "Camera is lost"}}).encode()
    headers = {k.title(): v for k, v in signed(body).items()}  # header case does not matter
    assert verify(SECRET, headers, body, now=NOW + 299)["data"]["summary"] == "Camera is lost"


def test_verify_rejects_a_tampered_body() -> None:
    body = b'{"type":"kiosk.lost","data":{"item":"Camera"}}'
    headers = signed(body)
    with pytest.raises(InvalidWebhook, match="signature does not match"):
        verify(SECRET, headers, body.replace(b"Camera", b"Kettle"), now=NOW)


def test_verify_rejects_a_tampered_id_or_timestamp() -> None:
    body = b"{}"
    headers = signed(body)
    with pytest.raises(InvalidWebhook):
        verify(SECRET, {**headers, "webhook-id": "lost:loan:43"}, body, now=NOW)
    with pytest.raises(InvalidWebhook):
        verify(SECRET, {**headers, "webhook-timestamp": str(NOW + 1)}, body, now=NOW)


def test_verify_rejects_a_timestamp_more_than_five_minutes_old_or_ahead() -> None:
    body = b"{}"
    with pytest.raises(InvalidWebhook, match="too old"):
        verify(SECRET, signed(body), body, now=NOW + 301)
    with pytest.raises(InvalidWebhook):
        verify(SECRET, signed(body, at=NOW + 301), body, now=NOW)
    assert verify(SECRET, signed(body), body, now=NOW + 300) == {}


def test_verify_rejects_the_wrong_secret_and_missing_headers() -> None:
    body = b"{}"
    with pytest.raises(InvalidWebhook, match="signature does not match"):
        verify(new_secret(), signed(body), body, now=NOW)
    with pytest.raises(InvalidWebhook, match="Missing"):
        verify(SECRET, {"webhook-id": "x"}, body, now=NOW)
    with pytest.raises(InvalidWebhook, match="not a number"):
        verify(SECRET, {**signed(body), "webhook-timestamp": "soon"}, body, now=NOW)


def test_verify_accepts_any_of_several_signatures_during_a_secret_rotation() -> None:
    body = b"{}"
    old = new_secret()
    headers = signed(body)
    headers["webhook-signature"] = (
        f"{sign(old, 'lost:loan:42', NOW, body)} " + headers["webhook-signature"]
    )
    assert verify(SECRET, headers, body, now=NOW) == {}
    assert verify(old, headers, body, now=NOW) == {}


def test_secret_prefix_is_optional_but_base64_is_not() -> None:
    body = b"{}"
    bare = SECRET.removeprefix("whsec_")
    assert sign(bare, "a", NOW, body) == sign(SECRET, "a", NOW, body)
    with pytest.raises(InvalidWebhook, match="base64"):
        sign("whsec_not base64!", "a", NOW, body)
    assert new_secret().startswith("whsec_")
    assert len(base64.b64decode(new_secret()[6:])) == 32


def test_backoff_is_full_jitter_under_a_doubling_ceiling_with_a_cap() -> None:
    import random

    from sync.delivery import backoff_delay

    rng = random.Random(1)
    for attempts, ceiling in ((1, 30), (2, 60), (3, 120), (5, 480), (9, 600), (400, 600)):
        delays = [backoff_delay(attempts, 30, 600, rng) for _ in range(300)]
        assert min(delays) >= 1.0
        assert max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not fixed
    assert backoff_delay(1, 30, 600, rng, retry_after=900) == 900  # Retry-After wins


def test_retry_after_as_seconds_or_http_date() -> None:
    from datetime import UTC, datetime

    from sync.channels.base import parse_retry_after

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Mon, 23 Nov 2026 09:02:30 GMT", now) == 150
    assert parse_retry_after("Mon, 23 Nov 2026 08:00:00 GMT", now) == 0  # already past
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("99999999", now) == 24 * 3600

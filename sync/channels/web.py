"""One POST with a time-out, and what its answer means for the outbox (webhook and Teams)."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from kiosk.clock import Clock
from sync.channels.base import Outcome, SendResult, parse_retry_after
from sync.channels.deadline import deadline


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def environment_proxies(url: str) -> dict[str, str]:
    """The proxy for ``url`` from HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read once."""
    return dict(requests.utils.get_environ_proxies(url))


def post(
    session: requests.Session,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    clock: Clock,
    what: str,
    proxies: dict[str, str] | None = None,
) -> SendResult:
    """POST ``body`` and classify the answer; ``what`` names the channel in messages.

    ``timeout`` is the whole attempt's (connect, send, the complete answer), not only
    each read's: see ``sync.channels.deadline``.
    """
    host = host_of(url)
    too_slow = SendResult(
        Outcome.RETRY,
        f"{what}: no complete answer from {host} within {timeout:g} seconds.",
        channel_down=True,
    )
    with deadline(timeout) as attempt:
        try:
            response = session.post(
                url, data=body, headers=headers, timeout=timeout, proxies=proxies
            )
            status = response.status_code
            text = response.text[:200].strip()
            response.close()
        except requests.RequestException as exc:
            if attempt.expired or isinstance(exc, requests.Timeout):
                return too_slow
            return _failed(what, host, exc)
    if attempt.expired:
        # Cut off by the deadline: what arrived may look complete (a 200 and half its
        # headers) but is not an answer. Sent again later; receivers drop repeats.
        return too_slow
    return _classify(response, status, text, what, host, clock)


def _failed(what: str, host: str, exc: requests.RequestException) -> SendResult:
    if isinstance(exc, requests.ConnectionError):
        return SendResult(
            Outcome.RETRY,
            f"{what}: cannot connect to {host} ({_reason(exc)}).",
            channel_down=True,
        )
    return SendResult(Outcome.RETRY, f"{what}: request to {host} failed: {exc}.", channel_down=True)


def _classify(
    response: requests.Response, status: int, text: str, what: str, host: str, clock: Clock
) -> SendResult:
    if 200 <= status < 300:
        return SendResult(Outcome.DELIVERED, status=status)
    answer = f"HTTP {status} {response.reason or ''}".strip()
    if status == 410:
        return SendResult(
            Outcome.GONE,
            f"{what}: {host} says this address is gone ({answer}). Put the new address in "
            "the settings, then retry failed alerts.",
            status=status,
        )
    retry_after = parse_retry_after(response.headers.get("Retry-After"), clock.now())
    detail = f": {text}" if text else ""
    return SendResult(
        Outcome.RETRY,
        f"{what}: {host} answered {answer}{detail}",
        status=status,
        retry_after=retry_after,
        # Overloaded or broken receivers (429, 5xx) get a rest from the whole pass;
        # a 4xx about one request does not hold back the others.
        channel_down=status == 429 or status >= 500,
    )


def _reason(exc: requests.ConnectionError) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused: is the receiver running?"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host name: check the url"
    return text[:200]

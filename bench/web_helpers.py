"""What the benchmarks that drive ``kiosk web`` from outside share: signing in, and the
server's own timings."""

from __future__ import annotations

import re

import httpx2 as httpx


def sign_in(client: httpx.Client, user: str, password: str) -> None:
    """Sign ``client`` in to ``kiosk web`` through its form, as a browser does."""
    form = client.get("/signin").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token, form
    r = client.post(
        "/signin", data={"csrf": token.group(1), "username": user, "password": password}
    )
    assert r.status_code == 303, r.text


def server_ms(r: httpx.Response, metric: str = "app") -> float:
    """A figure of the response's Server-Timing header: app (wall) or cpu (the process's)."""
    for part in r.headers["server-timing"].split(","):
        name, _, dur = part.strip().partition(";dur=")
        if name == metric:
            return float(dur)
    raise KeyError(metric)

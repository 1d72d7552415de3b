"""Waiting for the hardware layer's own threads (reader loops, gpiozero's blinkers).

They run in real time on threads of their own: a test waits until what it expects has
happened, however slow the machine is today, never for a fixed time a busy machine outlasts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(done: Callable[[], bool], timeout: float = 10.0, what: Any = "") -> None:
    """Return once ``done()`` is true; fail, saying ``what``, after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, what or "what the test waited for never happened"
        time.sleep(0.005)

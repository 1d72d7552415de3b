"""``--wall-clock`` really moves the clock the suite runs on (so .ci/run's extra runs mean it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest


def test_the_wall_clock_option_moves_the_real_clock(_wall_clock: datetime | None) -> None:
    if _wall_clock is None:
        pytest.skip("runs when the suite is started with --wall-clock (.ci/run does)")
    now = datetime.now(UTC)
    assert timedelta(0) <= now - _wall_clock < timedelta(hours=2)
    assert abs(time.time() - now.timestamp()) < 60

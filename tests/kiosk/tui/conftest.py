"""Fixtures for the kiosk screen: the demo school in a real SQLite file, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from kiosk.clock import ManualClock
from kiosk.db import database, open_database
from kiosk.demo import seed_demo
from kiosk.loans import LoanService
from kiosk.settings import Settings, settings_from
from kiosk.tui.app import KioskApp
from tests.kiosk.tui.tui_helpers import MONDAY_9AM, make_app


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs do not blink, so snapshots and text do not depend on timing."""
    monkeypatch.setattr(Input, "cursor_blink", False)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(wall=MONDAY_9AM)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_from(
        {"school": {"name": "Oakfield Primary School"}, "kiosk": {"db": str(tmp_path / "kiosk.db")}}
    )


_SEEDED: dict[str, bytes] = {}


@pytest.fixture
def demo_service(settings: Settings, clock: ManualClock, tmp_path: Path) -> Iterator[LoanService]:
    """A loan service on the demo school in a real SQLite file (seeded once, copied per test)."""
    path = settings.kiosk.db
    if "db" not in _SEEDED:
        seed_demo(path, settings, ManualClock(wall=MONDAY_9AM))
        _SEEDED["db"] = path.read_bytes()
    else:
        path.write_bytes(_SEEDED["db"])
    db = open_database(path)
    yield LoanService(settings, clock)
    db.close()
    database.initialize(None)


@pytest.fixture
def app(demo_service: LoanService) -> KioskApp:
    return make_app(demo_service)

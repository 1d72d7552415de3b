"""Fixtures shared by every layer: a real SQLite file, settings, a manual clock, a small school."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import peewee as pw
import pytest

from kiosk.clock import ManualClock
from kiosk.db import Item, Staff, open_database
from kiosk.loans import LoanService
from kiosk.settings import Settings, load_settings
from kiosk.views import TapResult

#: Monday 23 November 2026, 09:00 in London (GMT): a school day.
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--wall-clock",
        metavar="INSTANT",
        help="run the tests with the real clock moved to this instant (2026-11-24T19:30+00:00)"
        " and running on from there: no test may depend on the hour it runs at (.ci/run)",
    )


@pytest.fixture(autouse=True, scope="session")
def _wall_clock(request: pytest.FixtureRequest) -> Iterator[datetime | None]:
    """With ``--wall-clock``, the whole run happens at another hour and date.

    time-machine moves the wall clock (datetime.now, time.time) in this process and its
    threads; monotonic time is left alone. Commands the tests start get a pinned clock
    of their own (KIOSK_CLOCK) whatever the hour.
    """
    spec = request.config.getoption("--wall-clock")
    if not spec:
        yield None
        return
    import time_machine

    start = datetime.fromisoformat(spec)
    with time_machine.travel(start, tick=True):
        yield start


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        tmp_path / "absent.toml", env={}, options={"kiosk": {"db": str(tmp_path / "kiosk.db")}}
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(wall=MONDAY_9AM, mono=1000.0, synced=True)


@pytest.fixture
def db(settings: Settings) -> Iterator[pw.SqliteDatabase]:
    database = open_database(settings.kiosk.db)
    yield database
    database.close()


@pytest.fixture
def service(settings: Settings, clock: ManualClock, db: pw.SqliteDatabase) -> LoanService:
    return LoanService(settings, clock)


@dataclass
class TinySchool:
    """A tiny school's rows and tag UIDs: two teachers, an office member, an admin, four items."""

    khan: Staff
    jones: Staff
    office: Staff
    admin: Staff
    camera: Item
    trolley: Item
    phone: Item
    ball: Item

    KHAN = "A0000001"
    JONES = "A0000002"
    OFFICE = "A0000003"
    ADMIN = "A0000004"
    CAMERA = "B0000001"
    TROLLEY = "B0000002"
    PHONE = "B0000003"
    BALL = "B0000004"


@pytest.fixture
def tiny_school(db: pw.SqliteDatabase) -> TinySchool:
    return TinySchool(
        khan=Staff.create(
            staff_id="S1",
            name="Amira Khan",
            known_as="Ms Khan",
            classes="5B",
            badge_uid=TinySchool.KHAN,
            email="khan@example.org",
        ),
        jones=Staff.create(
            staff_id="S2",
            name="John Jones",
            known_as="Mr Jones",
            classes="4A 4B",
            badge_uid=TinySchool.JONES,
        ),
        office=Staff.create(
            staff_id="S3", name="Siân Evans", role="office", badge_uid=TinySchool.OFFICE
        ),
        admin=Staff.create(
            staff_id="S4", name="Zoë Clarke", role="admin", badge_uid=TinySchool.ADMIN
        ),
        camera=Item.create(
            asset_tag="CAM-5B",
            name="Class camera 5B",
            kind="camera",
            tag_uid=TinySchool.CAMERA,
            home_class="5B",
        ),
        trolley=Item.create(
            asset_tag="IPAD-1",
            name="iPad trolley 1",
            kind="trolley_key",
            tag_uid=TinySchool.TROLLEY,
            contents=[{"name": "iPads", "count": 30}, {"name": "headphones", "count": 30}],
        ),
        phone=Item.create(
            asset_tag="PHONE-1",
            name="Trip phone 1",
            kind="trip_phone",
            tag_uid=TinySchool.PHONE,
            phone_number="07700 900101",
        ),
        ball=Item.create(
            asset_tag="PE-1", name="PE ball bag", kind="other", tag_uid=TinySchool.BALL
        ),
    )


def tap(service: LoanService, clock: ManualClock, uid: str, gap: float = 3.0) -> TapResult:
    """Tap after ``gap`` seconds (more than the double-tap window by default)."""
    clock.advance(gap)
    return service.tap(uid, "test")


def loan_id(result: TapResult) -> int:
    """The loan a tap signed out or returned (the tap must have had one)."""
    assert result.loan is not None, result
    return result.loan.id


@dataclass
class SmallCard:
    """A real, tiny file system (tmpfs) standing in for the kiosk's SD card, to fill up."""

    path: Path

    def fill(self) -> None:
        """Write a filler file until the file system refuses another byte (ENOSPC)."""
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for chunk in (65536, 4096, 512, 1):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * chunk)
        finally:
            os.close(fd)
        assert os.statvfs(self.path).f_bavail == 0

    def free(self) -> None:
        (self.path / "filler").unlink()

    def read_only(self) -> None:
        """What the kernel does to a card with errors: remount it read-only."""
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)


@pytest.fixture
def small_card(tmp_path: Path) -> Iterator[SmallCard]:
    """A 4 MB tmpfs mounted for the test: a card that really fills up.

    Mounting needs root (CI runs as root); elsewhere the test is skipped and the
    SQLITE_FULL injected at the connection (``PRAGMA max_page_count``) covers the class.
    """
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the injected SQLITE_FULL tests still run")
    mount = tmp_path / "card"
    mount.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "kiosk-test-card", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); the injected tests still run")
    try:
        yield SmallCard(mount)
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode:
            # Something still holds a file open on it: detach it now, freed when closed.
            subprocess.run(["umount", "-l", str(mount)], check=False)

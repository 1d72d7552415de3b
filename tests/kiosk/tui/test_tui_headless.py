"""The parts of the screen's work that need no screen: return times, alert counts, edits, demo."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.calendar import SchoolCalendar
from kiosk.clock import ManualClock
from kiosk.db import Item, Loan, Staff
from kiosk.demo import DEMO_PIN, is_demo_database, seed_demo
from kiosk.errors import KioskError
from kiosk.loans import LoanService
from kiosk.settings import Settings
from kiosk.tui.when import BadTime, parse_time, presets
from tests.kiosk.tui.tui_helpers import MONDAY_9AM


@pytest.fixture
def cal() -> SchoolCalendar:
    return SchoolCalendar(Settings().school)


def test_presets_on_a_school_morning(cal: SchoolCalendar) -> None:
    p = {x.key: x for x in presets(cal, MONDAY_9AM)}
    assert p["end_of_day"].label == "End of day, 15:30 today"
    assert p["plus_2h"].due == MONDAY_9AM + timedelta(hours=2)
    assert p["tomorrow"].label == "Tomorrow, 15:30 tomorrow"


def test_presets_after_school_and_on_friday(cal: SchoolCalendar) -> None:
    friday_evening = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    p = {x.key: x for x in presets(cal, friday_evening)}
    assert p["end_of_day"].label == "End of day, 15:30 on Mon 30 Nov"
    assert p["tomorrow"].label == "Next school day, 15:30 on Tue 1 Dec"


@pytest.mark.parametrize(
    ("text", "hour", "minute", "day"),
    [
        ("14:30", 14, 30, 23),
        ("2:30pm", 14, 30, 23),
        ("1430", 14, 30, 23),
        ("9", 9, 0, 23),
        ("tomorrow 12:00", 12, 0, 24),
        ("Tomorrow", 15, 30, 24),
        ("12am", 0, 0, 23),
    ],
)
def test_parse_time(cal: SchoolCalendar, text: str, hour: int, minute: int, day: int) -> None:
    got = parse_time(text, cal, MONDAY_9AM)
    assert (got.hour, got.minute, got.day) == (hour, minute, day)


@pytest.mark.parametrize("text", ["", "soon", "25:00", "14:75", "next week"])
def test_parse_time_says_what_to_type(cal: SchoolCalendar, text: str) -> None:
    with pytest.raises(BadTime, match="14:"):
        parse_time(text, cal, MONDAY_9AM)


def test_demo_school_is_realistic(demo_service: LoanService) -> None:
    assert Staff.select().count() == 25
    assert Staff.select().where(Staff.role == "admin").count() == 1
    assert Item.select().where(Item.kind == "camera").count() == 8
    assert Item.select().where(Item.kind == "trip_phone", Item.phone_number != "").count() == 4
    assert Item.select().where(Item.kind == "trolley_key").count() == 4
    board = demo_service.board()
    assert len(board) == 6 and sum(v.overdue for v in board) == 1
    assert Loan.select().where(Loan.closed_at.is_null(False)).count() > 100  # four weeks
    admin = Staff.get(Staff.role == "admin")
    assert demo_service.check_admin_pin(admin.get_id(), DEMO_PIN)


def test_demo_never_overwrites_a_database_that_is_not_a_demo(tmp_path: Path) -> None:
    real = tmp_path / "kiosk.db"
    from kiosk.db import open_database

    open_database(real).close()
    with pytest.raises(KioskError, match="not a demo database"):
        seed_demo(real, Settings(), ManualClock())
    assert not is_demo_database(real)


def test_headless_modules_do_not_load_textual() -> None:
    code = (
        "import sys; import kiosk.loans, kiosk.importer, kiosk.demo, kiosk.cli, "
        "kiosk.tui.when, hardware.base; kiosk.cli.build_parser(); "
        "assert 'textual' not in sys.modules, 'textual was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_kiosk_demo_starts_and_reaches_the_idle_screen(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    kiosk = Path(sys.executable).parent / "kiosk"
    done = subprocess.run(
        [str(kiosk), "demo", "--db", str(db), "--exit-when-ready"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert is_demo_database(db)


def test_kiosk_run_tells_systemd_it_is_ready_and_pings_the_watchdog(tmp_path: Path) -> None:
    """``kiosk run`` under a (socket-level) systemd: READY=1 once the idle screen is drawn."""
    db = tmp_path / "kiosk.db"
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\ndb = "{db}"\n\n[hardware]\nreaders = ["keyboard"]\nfeedback = "none"\n'
    )
    sock_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(30)
        kiosk = Path(sys.executable).parent / "kiosk"
        done = subprocess.run(
            [str(kiosk), "run", "--config", str(config), "--exit-when-ready"],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                "PATH": "/usr/bin:/bin",
                "NOTIFY_SOCKET": str(sock_path),
                "WATCHDOG_USEC": "2000000",
            },
        )
        assert done.returncode == 0, done.stderr
        said = []
        sock.settimeout(0.5)
        try:
            while True:
                said.append(sock.recv(256).decode())
        except TimeoutError:
            pass
    assert said[0] == "READY=1"
    assert "WATCHDOG=1" in said
    assert said[-1] == "STOPPING=1" or "STOPPING=1" in said
    assert db.exists() and not is_demo_database(db)


def test_kiosk_run_with_a_reader_that_cannot_start_shows_it_and_logs_why(
    tmp_path: Path,
) -> None:
    """No RC522 here: the screen still comes up (reader OFFLINE) and the log says what to check;
    the watchdog, which needs every reader alive, then gets systemd to try again."""
    db = tmp_path / "kiosk.db"
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndb = "{db}"\n\n[hardware]\nfeedback = "none"\n')
    kiosk = Path(sys.executable).parent / "kiosk"
    done = subprocess.run(
        [str(kiosk), "run", "--config", str(config), "--exit-when-ready"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "kiosk.log").read_text()
    assert "did not start" in log and "reset line" in log


def test_logs_go_to_a_file_not_the_screen(tmp_path: Path) -> None:
    import logging

    from kiosk.tui.logs import log_away_from_screen

    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        root.addHandler(logging.StreamHandler())
        handler = log_away_from_screen(tmp_path / "kiosk.log")
        assert not any(type(h) is logging.StreamHandler for h in root.handlers)
        logging.getLogger("kiosk.test").warning("reader gone")
        handler.flush()
        if isinstance(handler, logging.FileHandler):
            assert "reader gone" in (tmp_path / "kiosk.log").read_text()
    finally:
        for h in list(root.handlers):
            if h not in saved:
                root.removeHandler(h)
                h.close()
        for h in saved:
            if h not in root.handlers:
                root.addHandler(h)

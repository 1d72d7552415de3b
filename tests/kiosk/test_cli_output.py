"""The ``kiosk`` command's output: a closed pipe ends quietly, dates as an office types them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.calendar import parse_day
from kiosk.clock import CLOCK_ENV
from kiosk.db import Item, Loan, Staff, open_database, write
from tests.conftest import MONDAY_9AM

KIOSK = str(Path(sys.executable).with_name("kiosk"))
SAMPLES = Path(__file__).parents[2] / "kiosk" / "samples"


def env_for(folder: Path) -> dict[str, str]:
    empty = folder / "empty.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["KIOSK_CONFIG"] = str(empty)
    env[CLOCK_ENV] = MONDAY_9AM.isoformat()  # "today" is Monday 23 November 2026
    return env


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """2,000 closed loans in November 2023 (far more CSV than a pipe holds) and one open."""
    path = tmp_path / "kiosk.db"
    db = open_database(path)
    start = datetime(2023, 11, 1, 9, 0, tzinfo=UTC)
    with write(db):
        staff = Staff.create(staff_id="S1", name="Amira Khan", badge_uid="A0000001")
        item = Item.create(asset_tag="CAM-5B", name="Class camera 5B", kind="camera")
        ball = Item.create(asset_tag="PE-1", name="PE ball bag", kind="other")
        for n in range(2000):
            out = start + timedelta(hours=n)
            Loan.create(
                item=item,
                borrower=staff,
                out_at=out,
                due_at=out + timedelta(hours=6),
                closed_at=out + timedelta(hours=1),
                closed_by=staff,
                outcome="returned",
            )
        Loan.create(item=ball, borrower=staff, out_at=start, due_at=start + timedelta(hours=6))
    db.close()
    return path


def run_into_closed_pipe(args: list[str], folder: Path) -> subprocess.CompletedProcess[bytes]:
    """Run ``kiosk`` with stdout a pipe whose reader has already gone (as ``| head`` leaves it)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [KIOSK, *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env_for(folder),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["status"], 1),
        (["status", "--json"], 1),
        (["export", "loans", "-"], 1),
        (["export", "person", "S1"], 1),
        (["import", "staff", str(SAMPLES / "staff.csv")], 1),
        (["sync", "--new-secret"], 1),
        # argparse itself ignores a failed write of its help and exits 0.
        (["--help"], 0),
        (["export", "--help"], 0),
    ],
    ids=lambda a: " ".join(a).replace(str(SAMPLES), "samples") if isinstance(a, list) else "",
)
def test_output_to_a_closed_pipe_ends_quietly(
    args: list[str], code: int, history: Path, tmp_path: Path
) -> None:
    needs_db = args[0] not in ("--help", "sync") and "--help" not in args
    r = run_into_closed_pipe([*args, *(["--db", str(history)] if needs_db else [])], tmp_path)
    assert r.stderr == b"", r.stderr.decode()
    assert r.returncode == code


def test_export_into_head_stops_quietly_part_way(history: Path, tmp_path: Path) -> None:
    """``kiosk export loans - | head``: the reader goes after a few lines, mid-export."""
    proc = subprocess.Popen(
        [KIOSK, "export", "loans", "-", "--db", str(history)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_for(tmp_path),
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()  # what head does after its lines
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1
    assert first[0].startswith(b"loan,item,")
    assert err == b"", err.decode()


def export(history: Path, folder: Path, since: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KIOSK, "export", "loans", "-", "--db", str(history), "--since", since],
        capture_output=True,
        text=True,
        env=env_for(folder),
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("since", "rows"),
    [
        ("today", 0),  # Monday 23 November 2026 (KIOSK_CLOCK); every loan was in 2023
        ("yesterday", 0),
        ("2023-11-01", 2001),
        ("01/11/2023", 2001),
        ("1.11.23", 2001),
        ("2023-12-01", 2000 - (30 * 24 - 9)),  # from midnight: the 711th loan was at 00:00
        ("01/12/2023", 2000 - (30 * 24 - 9)),
    ],
)
def test_since_accepts_what_an_office_types(
    since: str, rows: int, history: Path, tmp_path: Path
) -> None:
    r = export(history, tmp_path, since)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == rows + 1  # and the header line


@pytest.mark.parametrize(
    ("since", "said"),
    [
        ("next week", "is not a date: write today, yesterday, 2026-11-23 or 23/11/2026"),
        ("31/02/2026", "is not a real date"),
        ("11/23/2026", "dates are day first, as in 23/11/2026"),
        ("", "is not a date"),
    ],
)
def test_since_that_is_not_a_date_is_one_clear_line(
    since: str, said: str, history: Path, tmp_path: Path
) -> None:
    r = export(history, tmp_path, since)
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kiosk: --since: ") and said in lines[0]


def test_parse_day_is_relative_to_the_schools_today() -> None:
    today = date(2026, 3, 30)  # the Monday after the clocks went forward
    assert parse_day("Today", today) == today
    assert parse_day("yesterday", today) == date(2026, 3, 29)
    assert parse_day(" 03/04/2026 ", today) == date(2026, 4, 3)  # day first: 3 April
    assert parse_day("29-02-2028", today) == date(2028, 2, 29)
    with pytest.raises(ValueError, match="not a real date"):
        parse_day("29/02/2027", today)

"""``kiosk export calls`` and ``kiosk export day`` as the office runs them: real processes on
a real database, spreadsheet-safe CSV, the Appendix 5 columns, plain refusals."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from kiosk.clock import ManualClock
from kiosk.demo import seed_demo
from kiosk.exporter import CALL_COLUMNS, DAY_COLUMNS
from kiosk.settings import load_settings
from tests.conftest import MONDAY_9AM
from tests.kiosk.test_cli import in_kiosk, run


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demo school, with Mrs Hussain's trip phone back and two calls recorded."""
    path = tmp_path / "demo.db"
    toml = tmp_path / "kiosk.toml"
    toml.write_text("", encoding="utf-8")
    seed_demo(path, load_settings(toml, env={}), ManualClock(wall=MONDAY_9AM))
    in_kiosk(
        path,
        "from datetime import date, time;"
        "loan = ctx.service.tap('F0000002').loan.id;"
        "c.advance(600);"
        "ctx.service.add_personal_call(loan, date(2026, 11, 23), time(8, 20), "
        "'+44 1234 567890', 'Childminder');"
        "ctx.service.add_personal_call(loan, date(2026, 11, 23), time(8, 45), "
        "'01234 567890', '=HYPERLINK(\"http://x\")')",
    )
    return path


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_calls_export_has_the_appendix_5_columns_and_safe_cells(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "calls.csv"
    r = run("export", "calls", "--since", "2026-11-23", "--out", str(out), db=demo)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"2 personal calls written to {out}."
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with its mark
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert list(rows[0]) == CALL_COLUMNS
    assert CALL_COLUMNS[:4] == ["date", "time", "number called or texted", "reason"]
    first, second = rows
    assert (first["date"], first["time"]) == ("2026-11-23", "08:20")
    assert first["number called or texted"] == "'+44 1234 567890"  # never a formula
    assert first["member of staff"] == "Fatima Hussain"
    assert (first["phone"], first["phone number"]) == ("Trip phone 2", "07700 900102")
    assert first["trip"] == "Year 4 to the Science Museum"
    assert second["reason"] == '\'=HYPERLINK("http://x")'


def test_calls_since_a_date_and_to_the_screen(demo: Path) -> None:
    r = run("export", "calls", db=demo)  # the demo school has one call from Friday
    assert r.returncode == 0 and len(rows_of(r.stdout)) == 3
    r = run("export", "calls", "--since", "2026-11-23", db=demo)
    assert r.returncode == 0 and len(rows_of(r.stdout)) == 2
    r = run("export", "calls", "--since", "2026-11-24", db=demo)
    assert rows_of(r.stdout) == []
    # Days as the office types them, as for every --since (kiosk.calendar.parse_day).
    r = run("export", "calls", "--since", "23/11/2026", db=demo)
    assert r.returncode == 0 and len(rows_of(r.stdout)) == 2
    r = run("export", "calls", "--since", "yesterday", db=demo)
    assert r.returncode == 0 and len(rows_of(r.stdout)) == 2  # nothing on the Sunday
    r = run("export", "calls", "--since", "last week", db=demo)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == (
        "kiosk: --since: 'last week' is not a date: write today, yesterday, 2026-11-23 "
        "or 23/11/2026."
    )


def test_calls_from_before_exact_times_are_read_or_kept_as_written(demo: Path) -> None:
    raw = sqlite3.connect(demo)
    raw.executemany(
        "INSERT INTO personal_call (loan_id, made_at, stated, number, reason, recorded_at)"
        " VALUES ((SELECT max(loan_id) FROM personal_call), NULL, ?, '01234 000000', ?,"
        " '2026-11-23 09:05:00.000000')",
        [("23/11 08:05", "Bank"), ("after lunch", "Dentist")],
    )
    raw.commit()
    raw.close()
    rows = rows_of(run("export", "calls", "--since", "2026-11-23", db=demo).stdout)
    by_reason = {r["reason"]: r for r in rows}
    assert (by_reason["Bank"]["date"], by_reason["Bank"]["time"]) == ("2026-11-23", "08:05")
    assert by_reason["Bank"]["as written"] == "23/11 08:05"
    assert (by_reason["Dentist"]["date"], by_reason["Dentist"]["time"]) == ("", "")
    assert by_reason["Dentist"]["as written"] == "after lunch"
    assert [r["reason"] for r in rows][:2] == ["Bank", "Childminder"]  # in the order made


def test_the_day_as_csv(demo: Path, tmp_path: Path) -> None:
    r = run("export", "day", db=demo)
    assert r.returncode == 0, r.stderr
    rows = rows_of(r.stdout)
    assert list(rows[0]) == DAY_COLUMNS
    what = [(row["what"], row["item"]) for row in rows]
    assert ("returned", "Trip phone 2") in what
    assert ("personal call", "Trip phone 2") in what
    assert ("overdue", "Class camera 3B") in what
    assert all(row["day"] == "2026-11-23" for row in rows)
    calls = [row for row in rows if row["what"] == "personal call"]
    assert [c["time"] for c in calls] == ["08:20", "08:45"]
    assert "01234" not in r.stdout  # the day's report names the call, not the number
    out = tmp_path / "friday.csv"
    r = run("export", "day", "2026-11-20", "--out", str(out), db=demo)
    assert r.returncode == 0 and r.stdout.startswith("Fri 20 Nov 2026: ")
    friday = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert {row["day"] for row in friday} == {"2026-11-20"}
    assert {"signed out", "returned", "personal call", "stock-take: out on loan"} <= {
        row["what"] for row in friday
    }
    assert rows_of(run("export", "day", "20/11/2026", db=demo).stdout) == friday
    sunday = rows_of(run("export", "day", "yesterday", db=demo).stdout)
    assert [(row["what"], row["item"]) for row in sunday] == [("overdue", "Class camera 3B")]


def test_a_day_that_is_not_one_or_has_not_come_is_refused_plainly(demo: Path) -> None:
    r = run("export", "day", "next week", db=demo)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == (
        "kiosk: the day: 'next week' is not a date: write today, yesterday, 2026-11-23 "
        "or 23/11/2026."
    )
    r = run("export", "day", "31/11/2026", db=demo)
    assert r.returncode == 1
    assert "'31/11/2026' is not a real date" in r.stderr
    r = run("export", "day", "2026-11-24", db=demo)
    assert r.returncode == 1
    assert r.stderr.strip() == "kiosk: Tue 24 Nov 2026 has not happened yet."

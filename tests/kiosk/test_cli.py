"""The installed ``kiosk`` command run as a subprocess on real files, as the office would."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.clock import CLOCK_ENV
from tests.conftest import MONDAY_9AM

KIOSK = str(Path(sys.executable).with_name("kiosk"))
SAMPLES = Path(__file__).parents[2] / "kiosk" / "samples"


def run(*args: str, db: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KIOSK, *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=clean_env(db.parent),
        input=stdin,
        timeout=60,
        check=False,
    )


def clean_env(folder: Path) -> dict[str, str]:
    """The environment with no KIOSK_* settings and an empty settings file, so that a
    developer's own /etc/kiosk/kiosk.toml never leaks into the tests."""
    empty = folder / "empty.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["KIOSK_CONFIG"] = str(empty)
    env[CLOCK_ENV] = MONDAY_9AM.isoformat()  # the same answers at any hour the suite runs
    return env


def in_kiosk(db: Path, code: str) -> None:
    """Run Python against the database with a manual clock ``c`` and context ``ctx``."""
    prelude = (
        "import argparse; from datetime import datetime;"
        "from kiosk.cli import open_context; from kiosk.clock import ManualClock;"
        "from kiosk.db import Item, Loan, Staff;"
        f"c = ManualClock(wall=datetime.fromisoformat({MONDAY_9AM.isoformat()!r}));"
        f"ctx = open_context(argparse.Namespace(config=None, db={str(db)!r}), clock=c);"
    )
    subprocess.run(
        [sys.executable, "-c", prelude + code], check=True, env=clean_env(db.parent), timeout=60
    )


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    return tmp_path / "kiosk.db"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_sample_files_import_and_reimport_changes_nothing(dbfile):
    r = run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "staff.csv (UTF-8): 4 added, 0 updated, 0 unchanged."
    r = run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    assert r.stdout.strip() == "staff.csv (UTF-8): 0 added, 0 updated, 4 unchanged."
    r = run("import", "items", str(SAMPLES / "items.csv"), db=dbfile)
    assert r.returncode == 0 and "4 added" in r.stdout


def test_bom_file_is_read_as_utf8_with_bom(tmp_path, dbfile):
    path = write(tmp_path, "bom.csv", "\ufeffstaff_id,name\r\nS1,Siân Evans\r\n".encode())
    r = run("import", "staff", str(path), db=dbfile)
    assert r.stdout.strip() == "bom.csv (UTF-8 with BOM): 1 added, 0 updated, 0 unchanged."
    r = run("export", "person", "S1", db=dbfile)
    assert json.loads(r.stdout)["person"]["name"] == "Siân Evans"


def test_windows_1252_file_keeps_sian_and_zoe(tmp_path, dbfile):
    text = "staff_id;name;known_as\r\nS1;Siân Evans;Mrs Evans\r\nS2;Zoë Clarke;Ms Clarke\r\n"
    path = write(tmp_path, "excel.csv", text.encode("cp1252"))
    r = run("import", "staff", str(path), db=dbfile)
    assert r.returncode == 0, r.stderr
    assert "(Windows-1252 (Excel)): 2 added" in r.stdout
    names = {
        json.loads(run("export", "person", s, db=dbfile).stdout)["person"]["name"]
        for s in ("S1", "S2")
    }
    assert names == {"Siân Evans", "Zoë Clarke"}


def test_duplicate_id_names_both_lines_and_writes_nothing(tmp_path, dbfile):
    path = write(tmp_path, "dup.csv", b"staff_id,name\nS1,A One\nS2,B Two\nS1,C Three\n")
    r = run("import", "staff", str(path), db=dbfile)
    assert r.returncode == 1
    assert "nothing was imported" in r.stderr
    assert "line 4: staff_id S1 is also on line 2" in r.stderr
    assert r.stdout == ""
    assert "Nothing is out." in run("status", db=dbfile).stdout
    assert run("export", "person", "S2", db=dbfile).returncode == 1  # nothing written


def test_missing_column_is_named(tmp_path, dbfile):
    path = write(tmp_path, "cols.csv", b"asset_tag,name\nCAM-1,Camera\n")
    r = run("import", "items", str(path), db=dbfile)
    assert r.returncode == 1
    assert "missing: kind" in r.stderr
    assert r.stderr.count("\n") == 1  # one clear line


def test_empty_file_is_refused(tmp_path, dbfile):
    path = write(tmp_path, "empty.csv", b"")
    r = run("import", "staff", str(path), db=dbfile)
    assert r.returncode == 1
    assert r.stderr.strip() == f"kiosk: {path}: the file is empty."


def test_every_bad_line_is_listed(tmp_path, dbfile):
    path = write(
        tmp_path,
        "bad.csv",
        (
            b"asset_tag,name,kind,phone_number,contents\n"
            b"A1,Thing,spaceship,,\n"
            b"A2,Phone,trip_phone,call me,\n"
            b"A3,Trolley,trolley_key,,iPads thirty\n"
            b"A4,Fine,other,,\n"
        ),
    )
    r = run("import", "items", str(path), db=dbfile)
    assert r.returncode == 1
    assert "line 2: kind 'spaceship' is not one of" in r.stderr
    assert "line 3: phone_number 'call me' is not a phone number" in r.stderr
    assert "line 4: contents 'iPads thirty' should look like iPads:30" in r.stderr


def test_missing_file_and_bad_settings_have_their_own_exit_codes(tmp_path, dbfile):
    r = run("import", "staff", str(tmp_path / "nope.csv"), db=dbfile)
    assert (r.returncode, r.stderr.strip()) == (1, f"kiosk: {tmp_path / 'nope.csv'}: no such file.")
    bad = write(tmp_path, "kiosk.toml", b"[school]\nday_ends = 1530\n")
    r = subprocess.run(
        [KIOSK, "status", "--config", str(bad), "--db", str(dbfile)],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(tmp_path),
    )
    assert r.returncode == 3
    assert 'kiosk.toml: [school] day_ends: expected a time like "15:30", got 1530' in r.stderr


def test_status_shows_what_is_out_and_json(tmp_path, dbfile):
    run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    run("import", "items", str(SAMPLES / "items.csv"), db=dbfile)
    # Sign a phone out through the service, as the kiosk would.
    in_kiosk(
        dbfile,
        (
            "Staff.update(badge_uid='A1').where(Staff.staff_id=='S002').execute();"
            "Item.update(tag_uid='B1').where(Item.asset_tag=='PHONE-1').execute();"
            "ctx.service.tap('A1'); c.advance(3); ctx.service.tap('B1')"
        ),
    )
    r = run("status", db=dbfile)
    assert r.returncode == 0
    assert "Trip phone 1 (07700 900101)" in r.stdout and "John Jones" in r.stdout
    assert "1 out" in r.stdout
    data = json.loads(run("status", "--json", db=dbfile).stdout)
    (row,) = data["out"]
    assert row["phone_number"] == "07700 900101" and row["borrower"] == "John Jones"


def test_export_loans_makes_formula_cells_safe(tmp_path, dbfile):
    staff = write(tmp_path, "s.csv", b'staff_id,name\nS1,=HYPERLINK("http://x")\n')
    run("import", "staff", str(staff), db=dbfile)
    run("import", "items", str(SAMPLES / "items.csv"), db=dbfile)
    in_kiosk(
        dbfile,
        "Loan.create(item=Item.get(), borrower=Staff.get(), out_at=c.now(), trip='+44 trip')",
    )
    out = tmp_path / "loans.csv"
    r = run("export", "loans", str(out), db=dbfile)
    assert r.returncode == 0 and r.stdout.strip() == f"1 loans written to {out}."
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert rows[0]["borrower"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["trip"] == "'+44 trip"
    r = run("export", "loans", str(out), "--since", "2999-01-01", db=dbfile)
    assert r.stdout.strip() == f"0 loans written to {out}."


def test_set_pin_and_staff_inactive(tmp_path, dbfile):
    run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    r = run("set-pin", "S004", db=dbfile, stdin="2468\n")
    assert r.returncode == 0 and r.stdout.strip() == "Admin PIN set for Zoë Clarke."
    r = run("set-pin", "S001", db=dbfile, stdin="2468\n")
    assert r.returncode == 1 and "does not have the admin role" in r.stderr
    r = run("staff", "inactive", "S002", "--reason", "left", db=dbfile)
    assert r.stdout.strip() == "John Jones is inactive."
    person = json.loads(run("export", "person", "John Jones", db=dbfile).stdout)["person"]
    assert person["active"] is False and person["inactive_reason"] == "left"


def test_purge_runs_on_an_empty_database(dbfile):
    r = run("purge", db=dbfile)
    assert r.returncode == 0 and "0 closed loans anonymised" in r.stdout


def test_unwritable_database_folder_is_a_storage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = subprocess.run(
        [KIOSK, "status", "--db", str(blocker / "kiosk.db")],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(tmp_path),
    )
    assert r.returncode == 4
    assert "Cannot create the folder for the database" in r.stderr

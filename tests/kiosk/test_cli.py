"""The installed ``kiosk`` command run as a subprocess on real files, as the office would."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.clock import CLOCK_ENV, ManualClock
from kiosk.demo import seed_demo
from kiosk.settings import load_settings
from tests.conftest import MONDAY_9AM
from tests.kiosk.test_csvfile import DATA, REFUSED, list_of

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


def test_sample_files_import_and_reimport_changes_nothing(dbfile: Path) -> None:
    r = run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    assert r.returncode == 0, r.stderr
    first, *lines = r.stdout.splitlines()
    assert first == "staff.csv (UTF-8, comma-separated): 6 added, 0 changed, 0 unchanged."
    assert lines[0] == "add     line 2: S001 Daniel Okafor" and len(lines) == 6
    r = run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    assert r.stdout == "staff.csv (UTF-8, comma-separated): 0 added, 0 changed, 6 unchanged.\n"
    r = run("import", "items", str(SAMPLES / "items.csv"), db=dbfile)
    assert r.returncode == 0 and "5 added" in r.stdout


def test_bom_file_is_read_as_utf8_with_bom(tmp_path: Path, dbfile: Path) -> None:
    path = write(tmp_path, "bom.csv", "\ufeffstaff_id,name\r\nS1,Siân Evans\r\n".encode())
    r = run("import", "staff", str(path), db=dbfile)
    assert r.stdout.splitlines()[0] == (
        "bom.csv (UTF-8 with BOM, comma-separated): 1 added, 0 changed, 0 unchanged."
    )
    r = run("export", "person", "S1", db=dbfile)
    assert json.loads(r.stdout)["person"]["name"] == "Siân Evans"


def test_windows_1252_file_keeps_sian_and_zoe(tmp_path: Path, dbfile: Path) -> None:
    text = "staff_id;name;known_as\r\nS1;Siân Evans;Mrs Evans\r\nS2;Zoë Clarke;Ms Clarke\r\n"
    path = write(tmp_path, "excel.csv", text.encode("cp1252"))
    r = run("import", "staff", str(path), db=dbfile)
    assert r.returncode == 0, r.stderr
    assert "(Windows-1252 (Excel), semicolon-separated): 2 added" in r.stdout
    names = {
        json.loads(run("export", "person", s, db=dbfile).stdout)["person"]["name"]
        for s in ("S1", "S2")
    }
    assert names == {"Siân Evans", "Zoë Clarke"}


def test_duplicate_id_names_both_lines_and_writes_nothing(tmp_path: Path, dbfile: Path) -> None:
    path = write(tmp_path, "dup.csv", b"staff_id,name\nS1,A One\nS2,B Two\nS1,C Three\n")
    r = run("import", "staff", str(path), db=dbfile)
    assert r.returncode == 1
    assert "nothing was imported" in r.stderr
    assert "line 4: staff_id S1 is also on line 2" in r.stderr
    assert r.stdout == ""
    assert "Nothing is out." in run("status", db=dbfile).stdout
    assert run("export", "person", "S2", db=dbfile).returncode == 1  # nothing written


def test_missing_column_is_named(tmp_path: Path, dbfile: Path) -> None:
    path = write(tmp_path, "cols.csv", b"asset_tag,name\nCAM-1,Camera\n")
    r = run("import", "items", str(path), db=dbfile)
    assert r.returncode == 1
    assert "missing: kind" in r.stderr
    assert r.stderr.count("\n") == 1  # one clear line


def test_empty_file_is_refused(tmp_path: Path, dbfile: Path) -> None:
    path = write(tmp_path, "empty.csv", b"")
    r = run("import", "staff", str(path), db=dbfile)
    assert r.returncode == 1
    assert r.stderr.strip() == f"kiosk: {path}: the file is empty."


def test_every_bad_line_is_listed(tmp_path: Path, dbfile: Path) -> None:
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


def test_missing_file_and_bad_settings_have_their_own_exit_codes(
    tmp_path: Path, dbfile: Path
) -> None:
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


def test_status_shows_what_is_out_and_json(tmp_path: Path, dbfile: Path) -> None:
    run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    run("import", "items", str(SAMPLES / "items.csv"), db=dbfile)
    # Sign a phone out through the service, as the kiosk would.
    in_kiosk(
        dbfile,
        (
            "Staff.update(badge_uid='A1').where(Staff.staff_id=='S007').execute();"
            "Item.update(tag_uid='B1').where(Item.asset_tag=='PHONE-1').execute();"
            "ctx.service.tap('A1'); c.advance(3); ctx.service.tap('B1')"
        ),
    )
    r = run("status", db=dbfile)
    assert r.returncode == 0
    assert "Trip phone 1 (07700 900101)" in r.stdout and "Tom Fletcher" in r.stdout
    assert "1 out" in r.stdout
    data = json.loads(run("status", "--json", db=dbfile).stdout)
    (row,) = data["out"]
    assert row["phone_number"] == "07700 900101" and row["borrower"] == "Tom Fletcher"


def test_export_loans_makes_formula_cells_safe(tmp_path: Path, dbfile: Path) -> None:
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


def test_set_pin_and_staff_inactive(tmp_path: Path, dbfile: Path) -> None:
    run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    r = run("set-pin", "S001", db=dbfile, stdin="2468\n")
    assert r.returncode == 0 and r.stdout.strip() == "Admin PIN set for Daniel Okafor."
    r = run("set-pin", "S014", db=dbfile, stdin="2468\n")
    assert r.returncode == 1 and "does not have the admin role" in r.stderr
    r = run("staff", "inactive", "S007", "--reason", "left", db=dbfile)
    assert r.stdout.strip() == "Tom Fletcher is inactive."
    person = json.loads(run("export", "person", "Tom Fletcher", db=dbfile).stdout)["person"]
    assert person["active"] is False and person["inactive_reason"] == "left"
    r = run("staff", "inactive", "S001", db=dbfile)
    assert r.returncode == 1 and r.stderr.startswith(
        "kiosk: This would leave no active admin with a PIN: Daniel Okafor (S001) would be "
        "switched off (inactive)."
    )


def test_purge_runs_on_an_empty_database(dbfile: Path) -> None:
    r = run("purge", db=dbfile)
    assert r.returncode == 0 and "0 closed loans anonymised" in r.stdout


def test_unwritable_database_folder_is_a_storage_error(tmp_path: Path) -> None:
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


def test_run_with_gpio_feedback_off_a_pi_is_one_line_and_exit_5(tmp_path: Path) -> None:
    """No pin library works here: `kiosk run` says so in one line, no traceback, code 5."""
    model = Path("/proc/device-tree/model")
    if model.exists() and "Raspberry Pi" in model.read_text(errors="replace"):
        pytest.skip("this is a Raspberry Pi: its pins can be driven")
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\ndb = "{tmp_path / "kiosk.db"}"\n'
        '[hardware]\nreaders = ["rc522"]\nfeedback = "gpio"\n'
    )
    env = clean_env(tmp_path)
    env.pop("GPIOZERO_PIN_FACTORY", None)
    r = subprocess.run(
        [KIOSK, "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert r.returncode == 5, r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(
        "kiosk: hardware: Cannot drive the LEDs and buzzer (GPIO 17, 27, 22)"
    )
    assert "no pin library could drive them (lgpio: " in r.stderr
    assert '[hardware] feedback = "none"' in r.stderr
    assert r.stdout == ""


# --- see before saving; every refusal the same shape ---------------------------------------


def tables(db: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return [
            row
            for table in ("staff", "item", "event", "outbox")
            for row in con.execute(f"SELECT * FROM {table} ORDER BY id")
        ]
    finally:
        con.close()


def test_dry_run_shows_each_change_and_writes_nothing(tmp_path: Path, dbfile: Path) -> None:
    run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    path = write(
        tmp_path,
        "staff.csv",
        b"staff_id,name,role,classes\nS001,Daniel Okafor,admin,\nS007,Tom Fletcher,staff,2A;2B\n"
        b"S030,Noor Ali,staff,2B\n",
    )
    before = tables(dbfile)
    r = run("import", "staff", str(path), "--dry-run", db=dbfile)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.splitlines() == [
        "staff.csv (UTF-8, comma-separated): would add 1, change 1, leave 1 unchanged. "
        "Nothing was written (--dry-run).",
        "change  line 3: S007 Tom Fletcher: classes 2A -> 2A 2B",
        "add     line 4: S030 Noor Ali",
    ]
    assert tables(dbfile) == before
    r = run("import", "staff", str(path), db=dbfile)
    assert r.stdout.splitlines() == [
        "staff.csv (UTF-8, comma-separated): 1 added, 1 changed, 1 unchanged.",
        "change  line 3: S007 Tom Fletcher: classes 2A -> 2A 2B",
        "add     line 4: S030 Noor Ali",
    ]


def test_the_sample_staff_list_only_adds_to_the_demo_school(tmp_path: Path) -> None:
    demo = tmp_path / "demo.db"
    toml = tmp_path / "kiosk.toml"
    toml.write_text("", encoding="utf-8")  # the school's settings: all defaults
    settings = load_settings(toml, env={})
    seed_demo(demo, settings, ManualClock(wall=MONDAY_9AM))
    r = run("import", "staff", str(SAMPLES / "staff.csv"), "--dry-run", db=demo)
    assert r.stdout.splitlines() == [
        "staff.csv (UTF-8, comma-separated): would add 1, change 0, leave 5 unchanged. "
        "Nothing was written (--dry-run).",
        "add     line 7: S026 Zoë Clarke",
    ]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_every_refused_file_exits_1_with_one_kiosk_line_then_its_lines(
    name: str, tmp_path: Path, dbfile: Path
) -> None:
    run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    run("import", "items", str(SAMPLES / "items.csv"), db=dbfile)
    before = tables(dbfile)
    r = run("import", list_of(name), str(DATA / name), db=dbfile)
    first, *rest = r.stderr.splitlines()
    assert r.returncode == 1 and r.stdout == ""
    assert first.startswith(f"kiosk: {DATA / name}: ")
    assert rest and all(line.startswith("line ") for line in rest), r.stderr
    assert tables(dbfile) == before


def test_set_pin_refuses_weak_and_untypable_pins_saying_why(tmp_path: Path, dbfile: Path) -> None:
    run("import", "staff", str(SAMPLES / "staff.csv"), db=dbfile)
    admin = next(
        row["staff_id"]
        for row in csv.DictReader((SAMPLES / "staff.csv").open(encoding="utf-8-sig"))
        if row.get("role") == "admin"
    )
    for pin, why in (
        ("1111\n", "one digit repeated"),
        ("\uff13\uff19\uff11\uff17\n", "cannot be typed"),
    ):
        r = run("set-pin", admin, db=dbfile, stdin=pin)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
        assert why in r.stderr

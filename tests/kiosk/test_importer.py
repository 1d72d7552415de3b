"""CSV import and the admin screen's single-record saves: same checks, all or nothing;
a preview first (what is added and changed), then exactly that preview applied."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from csv import writer as csv_writer
from pathlib import Path

import peewee as pw
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kiosk.admins import NoAdminLeft
from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Outbox, Staff, open_database
from kiosk.demo import seed_demo
from kiosk.errors import ImportFileError, StorageError
from kiosk.importer import (
    PlanOutdated,
    apply,
    import_items,
    import_staff,
    preview,
    preview_record,
    save_item,
    save_staff,
)
from kiosk.loans import LoanService
from kiosk.records import parse_contents
from kiosk.settings import Settings, load_settings
from tests.conftest import MONDAY_9AM, TinySchool, tap

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "kiosk" / "samples"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings as a school has them: a kiosk.toml naming the database."""
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndb = "{tmp_path / "kiosk.db"}"\n', encoding="utf-8")
    return load_settings(path, env={})


def csv(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_blank_badge_cell_keeps_the_enrolled_badge(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    report = import_staff(
        csv(tmp_path, "staff_id,name,badge_uid\nS1,Amira Khan,\n"), service.settings, service.clock
    )
    assert (report.unchanged, report.changed) == (1, 0)
    assert Staff.get(Staff.staff_id == "S1").badge_uid == TinySchool.KHAN


def test_changed_fields_are_updated_and_counted(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    report = import_staff(
        csv(tmp_path, "staff_id,name,classes\nS1,Amira Khan,5b;6A\n"),
        service.settings,
        service.clock,
    )
    assert report.changed == 1
    assert Staff.get(Staff.staff_id == "S1").classes == "5B 6A"


def test_badge_already_used_by_someone_else_is_refused(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    with pytest.raises(ImportFileError) as info:
        import_staff(
            csv(tmp_path, f"staff_id,name,badge_uid\nS9,New Person,{TinySchool.KHAN}\n"),
            service.settings,
            service.clock,
        )
    assert f"line 2: badge_uid {TinySchool.KHAN} is already Amira Khan's badge" in str(info.value)
    assert Staff.get_or_none(Staff.staff_id == "S9") is None


def test_tag_used_by_an_item_cannot_become_a_badge(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    with pytest.raises(ImportFileError, match="is already the tag on Class camera 5B"):
        import_staff(
            csv(tmp_path, f"staff_id,name,badge_uid\nS9,X Y,{TinySchool.CAMERA}\n"),
            service.settings,
            service.clock,
        )


def test_leaver_marked_by_import_while_holding_items_alerts_the_office(
    tmp_path: Path, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.BALL)
    report = import_staff(
        csv(tmp_path, "staff_id,name,active\nS2,John Jones,no\n"), service.settings, service.clock
    )
    assert report.alerts == 1
    assert "leavers who still have items" in report.summary()
    alert = Outbox.get()
    assert alert.kind == "leaver_with_items" and "PE ball bag" in alert.payload["note"]
    assert Staff.get(Staff.staff_id == "S2").inactive_reason == "marked inactive by import"


def test_unknown_columns_are_ignored_and_said(
    tmp_path: Path, service: LoanService, db: pw.SqliteDatabase
) -> None:
    report = import_staff(
        csv(tmp_path, "staff_id,name,Payroll number\nS1,A B,123\n"), service.settings, service.clock
    )
    assert report.ignored_columns == ["Payroll number"]
    assert "Ignored columns: Payroll number." in report.summary()


def test_semicolon_file_with_quoted_commas(
    tmp_path: Path, service: LoanService, db: pw.SqliteDatabase
) -> None:
    text = (
        'asset_tag;name;kind;contents\nT1;"Trolley, upstairs";trolley_key;30 iPads; 30 headphones\n'
    )
    with pytest.raises(ImportFileError, match=r"line 2: 5 cells.*a semicolon inside a cell"):
        import_items(csv(tmp_path, text), service.settings, service.clock)
    text = 'asset_tag;name;kind;contents\nT1;"Trolley, upstairs";trolley_key;"30 iPads; 30 headphones"\n'
    import_items(csv(tmp_path, text), service.settings, service.clock)
    item = Item.get()
    assert item.name == "Trolley, upstairs"
    assert item.contents == [{"name": "iPads", "count": 30}, {"name": "headphones", "count": 30}]


def test_import_records_one_event(
    tmp_path: Path, service: LoanService, db: pw.SqliteDatabase
) -> None:
    import_items(csv(tmp_path, "asset_tag,name,kind\nA,B,other\n"), service.settings, service.clock)
    (event,) = Event.select().where(Event.action == "import")
    assert event.detail["added"] == 1


def test_admin_save_staff_uses_the_same_checks(
    service: LoanService, tiny_school: TinySchool
) -> None:
    assert (
        save_staff(
            service.settings,
            service.clock,
            {"staff_id": "S9", "name": "New Teacher", "role": "staff", "classes": "3A"},
        )
        == "New Teacher added."
    )
    assert (
        save_staff(
            service.settings,
            service.clock,
            {"staff_id": "S9", "name": "New Teacher", "classes": "3B"},
        )
        == "New Teacher saved."
    )
    assert Staff.get(Staff.staff_id == "S9").classes == "3B"
    with pytest.raises(ImportFileError, match="Role 'boss' is not one of staff, office, admin"):
        save_staff(service.settings, service.clock, {"staff_id": "S9", "name": "X", "role": "boss"})
    with pytest.raises(ImportFileError, match="is already Amira Khan's badge"):
        save_staff(
            service.settings,
            service.clock,
            {"staff_id": "S9", "name": "X", "badge_uid": TinySchool.KHAN},
        )


def test_admin_save_item_checks_kind_and_phone(service: LoanService, db: pw.SqliteDatabase) -> None:
    assert (
        save_item(
            service.settings,
            service.clock,
            {
                "asset_tag": "P9",
                "name": "Trip phone 9",
                "kind": "trip_phone",
                "phone_number": "07700 900999",
            },
        )
        == "Trip phone 9 added."
    )
    with pytest.raises(ImportFileError, match="Kind 'drone' is not one of"):
        save_item(
            service.settings, service.clock, {"asset_tag": "D1", "name": "Drone", "kind": "drone"}
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("iPads:30;headphones:30", [("iPads", 30), ("headphones", 30)]),
        ("30 laptops; 30 mice", [("laptops", 30), ("mice", 30)]),
        ("iPads = 32", [("iPads", 32)]),
        ("", []),
    ],
)
def test_contents_forms(text: str, expected: list[tuple[str, int]]) -> None:
    assert [(c["name"], c["count"]) for c in parse_contents(text)] == expected


@pytest.mark.parametrize("text", ["iPads", "iPads:0", "iPads:3;ipads:4"])
def test_bad_contents(text: str) -> None:
    with pytest.raises(ValueError):
        parse_contents(text)


def test_readme_documents_every_csv_column() -> None:
    from kiosk.records import ITEM_COLUMNS, STAFF_COLUMNS

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for column, doc in {**STAFF_COLUMNS, **ITEM_COLUMNS}.items():
        assert f"| `{column}` | {doc} |" in readme, column


# --- see before saving -----------------------------------------------------------------------


def counts() -> tuple[int, int, int]:
    return Staff.select().count(), Item.select().count(), Event.select().count()


def test_preview_says_what_is_added_changed_and_unchanged_and_writes_nothing(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    path = csv(
        tmp_path,
        "staff_id,name,known_as,classes,active\n"
        "S1,Amira Khan,Ms Khan,5B,yes\n"  # as it is
        "S2,John Jones,Mr Jones,4A;4C,yes\n"  # classes change
        "S9,Noor Ali,Ms Ali,2B,yes\n",  # new
        name="staff.csv",
    )
    before = counts()
    plan = preview("staff", path, service.settings)
    assert counts() == before
    assert plan.summary() == (
        "staff.csv (UTF-8, comma-separated): would add 1, change 1, leave 1 unchanged."
    )
    assert plan.lines() == [
        "change  line 3: S2 John Jones: classes 4A 4B -> 4A 4C",
        "add     line 4: S9 Noor Ali",
    ]
    report = apply(plan, service.settings, service.clock)
    assert (report.added, report.changed, report.unchanged) == (1, 1, 1)
    assert Staff.get(Staff.staff_id == "S2").classes == "4A 4C"
    assert Staff.get(Staff.staff_id == "S9").known_as == "Ms Ali"


def test_each_changed_field_shows_old_and_new(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    path = csv(tmp_path, "staff_id,name,role,email,active\nS3,Siân Evans-Price,staff,,no\n")
    (change,) = preview("staff", path, service.settings).changed
    assert [str(c) for c in change.changes] == [
        'name "Siân Evans" -> "Siân Evans-Price"',
        "role office -> staff",
        "active yes -> no",
    ]


def test_a_leaver_with_items_out_is_said_in_the_preview(
    tmp_path: Path, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.BALL)
    plan = preview(
        "staff", csv(tmp_path, "staff_id,name,active\nS2,John Jones,no\n"), service.settings
    )
    assert plan.lines() == [
        "change  line 2: S2 John Jones: active yes -> no "
        "(still has 1 item(s) out: the office will be told)"
    ]


def test_a_plan_is_refused_when_the_list_changed_since_the_preview(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    plan = preview(
        "staff", csv(tmp_path, "staff_id,name\nS9,Noor Ali\n", "new.csv"), service.settings
    )
    service.enrol_tag("C0000009", staff_pk=tiny_school.jones.id)  # at the kiosk, meanwhile
    before = counts()
    with pytest.raises(
        PlanOutdated, match=r"new\.csv: nothing was imported: the staff list changed"
    ):
        apply(plan, service.settings, service.clock)
    assert counts() == before
    apply(
        preview("staff", csv(tmp_path, "staff_id,name\nS9,Noor Ali\n"), service.settings),
        service.settings,
        service.clock,
    )
    assert Staff.get(Staff.staff_id == "S9").name == "Noor Ali"


def test_a_plan_cannot_be_applied_twice(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    plan = preview("staff", csv(tmp_path, "staff_id,name\nS2,Jon Jones\n"), service.settings)
    apply(plan, service.settings, service.clock)
    with pytest.raises(PlanOutdated):
        apply(plan, service.settings, service.clock)
    assert Event.select().where(Event.action == "import").count() == 1


def test_items_plan_depends_on_badges_too(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    plan = preview(
        "items", csv(tmp_path, "asset_tag,name,kind,tag_uid\nX1,Drum,other,C1\n"), service.settings
    )
    service.enrol_tag("C1", staff_pk=tiny_school.jones.id)
    with pytest.raises(PlanOutdated):
        apply(plan, service.settings, service.clock)
    assert not Item.select().where(Item.asset_tag == "X1").exists()


def test_the_signed_in_admins_own_changes_are_asked_about_first(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    path = csv(
        tmp_path, "staff_id,name,role,classes\nS4,Zoe Clarke,admin,\nS1,Amira Khan,staff,6A\n"
    )
    plan = preview("staff", path, service.settings)
    assert plan.asks_first(tiny_school.admin.id) == (
        'This changes your own record (S4 Zoë Clarke): name "Zoë Clarke" -> "Zoe Clarke". '
        "Save it anyway?"
    )
    assert plan.asks_first(tiny_school.khan.id) is None  # only classes: nothing to ask
    assert plan.asks_first(tiny_school.jones.id) is None  # not in the file
    assert plan.asks_first(None) is None
    form = preview_record(
        "staff", {"staff_id": "S4", "name": "Zoë Clarke", "role": "staff"}, service.settings
    )
    assert form.asks_first(tiny_school.admin.id) == (
        "This changes your own record (S4 Zoë Clarke): role admin -> staff. Save it anyway?"
    )


def test_the_form_preview_is_what_save_applies(
    service: LoanService, tiny_school: TinySchool
) -> None:
    plan = preview_record(
        "staff", {"staff_id": "S2", "name": "John Jones", "classes": "4C"}, service.settings
    )
    assert plan.lines() == ["change  line 1: S2 John Jones: classes 4A 4B -> 4C"]
    assert Staff.get(Staff.staff_id == "S2").classes == "4A 4B"
    apply(plan, service.settings, service.clock)
    assert Staff.get(Staff.staff_id == "S2").classes == "4C"
    (event,) = Event.select().where(Event.action == "staff_saved")
    assert event.detail == {"record": "John Jones"}


def test_the_importer_needs_only_settings_and_a_clock(
    tmp_path: Path, settings: Settings, clock: ManualClock, db: pw.SqliteDatabase
) -> None:
    import_items(csv(tmp_path, "asset_tag,name,kind\nX1,Drum,other\n"), settings, clock)
    (event,) = Event.select().where(Event.action == "import")
    assert event.at == clock.now()


# --- never lose the last admin ----------------------------------------------------------------


@pytest.fixture
def admin_with_pin(service: LoanService, tiny_school: TinySchool) -> Staff:
    service.set_pin(tiny_school.admin.id, "2580")
    return Staff.get_by_id(tiny_school.admin.id)


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("S4,Amira Khan,staff,yes", "would no longer be an admin (role staff)"),
        ("S4,Zoë Clarke,admin,no", "would be switched off (inactive)"),
    ],
)
def test_an_import_that_leaves_no_admin_with_a_pin_is_refused(
    tmp_path: Path, service: LoanService, admin_with_pin: Staff, row: str, why: str
) -> None:
    path = csv(tmp_path, f"staff_id,name,role,active\nS1,Amira Khan,staff,yes\n{row}\n")
    before = counts()
    with pytest.raises(ImportFileError) as info:
        preview("staff", path, service.settings)
    first, *lines = str(info.value).splitlines()
    assert first == (
        f"{path}: nothing was imported. This would leave no active admin with a PIN, so "
        "nobody could open admin at the kiosk. Keep at least one admin who has a PIN "
        "('kiosk set-pin') as they are:"
    )
    assert lines == [f"line 3: Zoë Clarke (S4) {why}"]
    assert counts() == before


def test_another_admin_with_a_pin_keeps_the_school_open(
    tmp_path: Path, service: LoanService, admin_with_pin: Staff, tiny_school: TinySchool
) -> None:
    tiny_school.office.role = "admin"
    tiny_school.office.save()
    service.set_pin(tiny_school.office.id, "1357")
    import_staff(
        csv(tmp_path, "staff_id,name,role\nS4,Zoë Clarke,staff\n"), service.settings, service.clock
    )
    assert Staff.get(Staff.staff_id == "S4").role == "staff"


def test_a_school_with_no_admin_pin_yet_can_import(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    import_staff(
        csv(tmp_path, "staff_id,name,role\nS4,Zoë Clarke,staff\n"), service.settings, service.clock
    )
    assert Staff.get(Staff.staff_id == "S4").role == "staff"


def test_the_form_cannot_demote_the_last_admin(service: LoanService, admin_with_pin: Staff) -> None:
    with pytest.raises(
        NoAdminLeft,
        match="This would leave no active admin with a PIN: "
        r"Zoë Clarke \(S4\) would no longer be an admin \(role office\)",
    ):
        save_staff(
            service.settings,
            service.clock,
            {"staff_id": "S4", "name": "Zoë Clarke", "role": "office"},
        )
    assert Staff.get(Staff.staff_id == "S4").role == "admin"


def test_switching_off_the_last_admin_is_refused_by_the_loan_service(
    service: LoanService, admin_with_pin: Staff
) -> None:
    with pytest.raises(NoAdminLeft, match="Zoë Clarke \\(S4\\) would be switched off"):
        service.set_staff_active(admin_with_pin.id, False, "left")
    assert Staff.get_by_id(admin_with_pin.id).active


def test_the_demo_mistake_is_refused(tmp_path: Path, settings: Settings) -> None:
    """Issue 11: the old sample renamed the demo's admin S001 into a member of staff."""
    demo = seed_demo(tmp_path / "demo.db", settings, ManualClock(wall=MONDAY_9AM))
    open_database(demo.path)
    service = LoanService(settings, ManualClock(wall=MONDAY_9AM))
    old_sample = csv(
        tmp_path,
        "staff_id,name,known_as,role\nS001,Amira Khan,Ms Khan,staff\nS004,Zoë Clarke,Ms Clarke,admin\n",
    )
    with pytest.raises(ImportFileError, match="line 2: Daniel Okafor \\(S001\\) would no longer"):
        preview("staff", old_sample, service.settings)


@pytest.mark.parametrize("what", ["staff", "items"])
def test_the_sample_files_fit_the_demo_school(
    tmp_path: Path, settings: Settings, what: str
) -> None:
    demo = seed_demo(tmp_path / "demo.db", settings, ManualClock(wall=MONDAY_9AM))
    open_database(demo.path)
    service = LoanService(settings, ManualClock(wall=MONDAY_9AM))
    plan = preview(what, SAMPLES / f"{what}.csv", service.settings)
    assert plan.changed == ()  # nobody and nothing in the demo is renamed or re-roled
    assert len(plan.added) == 1 and plan.unchanged >= 4
    apply(plan, service.settings, service.clock)


# --- taps never wait for the import -----------------------------------------------------------


def test_the_preview_takes_no_write_lock(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool, db: pw.SqliteDatabase
) -> None:
    """Another process holds the write lock throughout: the preview does not need it (and
    with no busy wait allowed, anything that did would fail at once); the apply does."""
    db.execute_sql("PRAGMA busy_timeout = 0")
    other = sqlite3.connect(db.database, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        plan = preview(
            "staff", csv(tmp_path, "staff_id,name\nS9,Noor Ali\nS2,Jon\n"), service.settings
        )
        assert len(plan.added) == 1 and len(plan.changed) == 1
        with pytest.raises(StorageError, match="is busy"):
            apply(plan, service.settings, service.clock)
    finally:
        other.execute("ROLLBACK")
        other.close()
    apply(plan, service.settings, service.clock)
    assert Staff.get(Staff.staff_id == "S2").name == "Jon"


CHILD = textwrap.dedent(
    """
    import argparse, sys
    from pathlib import Path
    from kiosk.cli import open_context
    from kiosk.importer import apply, preview

    db, path, prefix, stop_at = sys.argv[1:5]
    ctx = open_context(argparse.Namespace(config=None, db=Path(db)))
    plan = preview("staff", Path(path), ctx.settings)
    seen = 0

    def trace(sql):
        global seen
        if sql.startswith(prefix):
            seen += 1
            if seen == int(stop_at):
                print("paused", flush=True)
                sys.stdin.readline()  # until killed

    ctx.db.connection().set_trace_callback(trace)
    apply(plan, ctx.settings, ctx.clock)
    print("applied", flush=True)
    """
)


def big_change(tmp_path: Path, people: int) -> tuple[Path, Path, Path]:
    """A database of ``people`` and a file that changes every one and adds as many."""
    db = tmp_path / "kiosk.db"
    before = tmp_path / "before.csv"
    before.write_text(
        "staff_id,name\n" + "".join(f"T{i},Teacher {i}\n" for i in range(people)), encoding="utf-8"
    )
    after = tmp_path / "after.csv"
    after.write_text(
        "staff_id,name\n" + "".join(f"T{i},Teacher {i} (new)\n" for i in range(2 * people)),
        encoding="utf-8",
    )
    return db, before, after


def run_child(
    db: Path, path: Path, prefix: str, stop_at: int, tmp_path: Path
) -> subprocess.Popen[str]:
    empty = tmp_path / "empty.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["KIOSK_CONFIG"] = str(empty)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(path), prefix, str(stop_at)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("prefix", "stop_at"),
    [
        ('UPDATE "staff"', 1),  # the first change
        ('UPDATE "staff"', 150),  # half of them
        ('INSERT INTO "staff"', 300),  # the last new person
        ("INSERT INTO event", 1),  # the import's own event
        ("COMMIT", 1),  # everything written, not yet committed
    ],
)
def test_an_import_killed_mid_apply_leaves_all_or_nothing(
    tmp_path: Path, prefix: str, stop_at: int
) -> None:
    db, before, after = big_change(tmp_path, 300)
    setup = run_child(db, before, "never", 0, tmp_path)
    assert setup.communicate(timeout=60)[0].strip() == "applied"
    child = run_child(db, after, prefix, stop_at, tmp_path)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "paused"  # waits on the child, not on time
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=60)
    con = sqlite3.connect(db)
    names = [r[0] for r in con.execute("SELECT name FROM staff ORDER BY id")]
    imports = con.execute("SELECT count(*) FROM event WHERE action = 'import'").fetchone()[0]
    con.close()
    assert names == [f"Teacher {i}" for i in range(300)]  # nothing of the second import
    assert imports == 1
    finish = run_child(db, after, "never", 0, tmp_path)
    assert finish.communicate(timeout=60)[0].strip() == "applied"
    con = sqlite3.connect(db)
    names = [r[0] for r in con.execute("SELECT name FROM staff ORDER BY id")]
    con.close()
    assert names == [f"Teacher {i} (new)" for i in range(600)]  # all of it


# --- stored exactly as the office typed it ----------------------------------------------------

TYPED = (
    st.text(
        st.characters(
            blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
            blacklist_characters="\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
        ),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(TYPED, min_size=1, max_size=5), notes=st.lists(TYPED, min_size=5, max_size=5))
def test_names_and_notes_are_stored_exactly_as_typed(
    tmp_path: Path, service: LoanService, db: pw.SqliteDatabase, names: list[str], notes: list[str]
) -> None:
    Item.delete().execute()
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(["asset_tag", "name", "kind", "notes"])
    for n, name in enumerate(names):
        writer.writerow([f"A{n}", name, "other", f"{notes[n]}\n{notes[-1]}"])
    path = tmp_path / "items.csv"
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    import_items(path, service.settings, service.clock)
    stored = [(i.name, i.notes) for i in Item.select().order_by(Item.asset_tag)]
    assert stored == [(name, f"{notes[n]}\n{notes[-1]}") for n, name in enumerate(names)]


def test_a_staff_plan_outlives_item_changes_it_does_not_depend_on(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    """An item reported lost meanwhile does not touch a staff plan; an item renamed (its
    name is in the "already the tag on ..." check) does."""
    path = csv(tmp_path, "staff_id,name\nS9,Noor Ali\n")
    plan = preview("staff", path, service.settings)
    service.report_lost(tiny_school.camera.id, tiny_school.khan.id, "left on the bus")
    apply(plan, service.settings, service.clock)
    plan = preview("staff", csv(tmp_path, "staff_id,name\nS10,Ann Lee\n"), service.settings)
    Item.update(name="Class camera 5B (old)").where(Item.id == tiny_school.camera.id).execute()
    with pytest.raises(PlanOutdated):
        apply(plan, service.settings, service.clock)


def test_any_change_to_a_person_outdates_a_staff_plan(
    tmp_path: Path, service: LoanService, tiny_school: TinySchool
) -> None:
    plan = preview("staff", csv(tmp_path, "staff_id,name\nS9,Noor Ali\n"), service.settings)
    service.set_pin(tiny_school.admin.id, "2580")  # by another program, between preview and apply
    with pytest.raises(PlanOutdated):
        apply(plan, service.settings, service.clock)

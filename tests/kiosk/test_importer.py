"""CSV import and the admin screen's single-record saves: same checks, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.db import Event, Item, Outbox, Staff
from kiosk.errors import ImportFileError
from kiosk.importer import import_items, import_staff, save_item, save_staff
from kiosk.records import parse_contents
from tests.conftest import School, tap


def csv(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_blank_badge_cell_keeps_the_enrolled_badge(tmp_path, service, school):
    report = import_staff(
        csv(tmp_path, "staff_id,name,badge_uid\nS1,Amira Khan,\n"), service.settings, service.clock
    )
    assert (report.unchanged, report.updated) == (1, 0)
    assert Staff.get(Staff.staff_id == "S1").badge_uid == School.KHAN


def test_changed_fields_are_updated_and_counted(tmp_path, service, school):
    report = import_staff(
        csv(tmp_path, "staff_id,name,classes\nS1,Amira Khan,5b;6A\n"),
        service.settings,
        service.clock,
    )
    assert report.updated == 1
    assert Staff.get(Staff.staff_id == "S1").classes == "5B 6A"


def test_badge_already_used_by_someone_else_is_refused(tmp_path, service, school):
    with pytest.raises(ImportFileError) as info:
        import_staff(
            csv(tmp_path, f"staff_id,name,badge_uid\nS9,New Person,{School.KHAN}\n"),
            service.settings,
            service.clock,
        )
    assert f"line 2: badge_uid {School.KHAN} is already Amira Khan's badge" in str(info.value)
    assert Staff.get_or_none(Staff.staff_id == "S9") is None


def test_tag_used_by_an_item_cannot_become_a_badge(tmp_path, service, school):
    with pytest.raises(ImportFileError, match="is already the tag on Class camera 5B"):
        import_staff(
            csv(tmp_path, f"staff_id,name,badge_uid\nS9,X Y,{School.CAMERA}\n"),
            service.settings,
            service.clock,
        )


def test_leaver_marked_by_import_while_holding_items_alerts_the_office(
    tmp_path, service, clock, school
):
    tap(service, clock, School.JONES)
    tap(service, clock, School.BALL)
    report = import_staff(
        csv(tmp_path, "staff_id,name,active\nS2,John Jones,no\n"), service.settings, service.clock
    )
    assert report.alerts == 1
    assert "leavers who still have items" in report.summary()
    alert = Outbox.get()
    assert alert.kind == "leaver_with_items" and "PE ball bag" in alert.payload["note"]
    assert Staff.get(Staff.staff_id == "S2").inactive_reason == "marked inactive by import"


def test_unknown_columns_are_ignored_and_said(tmp_path, service, db):
    report = import_staff(
        csv(tmp_path, "staff_id,name,Payroll number\nS1,A B,123\n"), service.settings, service.clock
    )
    assert report.ignored_columns == ["Payroll number"]
    assert "Ignored columns: Payroll number." in report.summary()


def test_semicolon_file_with_quoted_commas(tmp_path, service, db):
    text = (
        'asset_tag;name;kind;contents\nT1;"Trolley, upstairs";trolley_key;30 iPads; 30 headphones\n'
    )
    with pytest.raises(ImportFileError, match="line 2: 5 cells"):
        import_items(csv(tmp_path, text), service.settings, service.clock)
    text = 'asset_tag;name;kind;contents\nT1;"Trolley, upstairs";trolley_key;"30 iPads; 30 headphones"\n'
    import_items(csv(tmp_path, text), service.settings, service.clock)
    item = Item.get()
    assert item.name == "Trolley, upstairs"
    assert item.contents == [{"name": "iPads", "count": 30}, {"name": "headphones", "count": 30}]


def test_import_records_one_event(tmp_path, service, db):
    import_items(csv(tmp_path, "asset_tag,name,kind\nA,B,other\n"), service.settings, service.clock)
    (event,) = Event.select().where(Event.action == "import")
    assert event.detail["added"] == 1


def test_admin_save_staff_uses_the_same_checks(service, school):
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
            {"staff_id": "S9", "name": "X", "badge_uid": School.KHAN},
        )


def test_admin_save_item_checks_kind_and_phone(service, db):
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
def test_contents_forms(text, expected):
    assert [(c["name"], c["count"]) for c in parse_contents(text)] == expected


@pytest.mark.parametrize("text", ["iPads", "iPads:0", "iPads:3;ipads:4"])
def test_bad_contents(text):
    with pytest.raises(ValueError):
        parse_contents(text)


def test_readme_documents_every_csv_column():
    from kiosk.records import ITEM_COLUMNS, STAFF_COLUMNS

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for column, doc in {**STAFF_COLUMNS, **ITEM_COLUMNS}.items():
        assert f"| `{column}` | {doc} |" in readme, column

"""Settings: defaults, the TOML file, KIOSK_* variables, and one clear line per mistake."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from kiosk.errors import ConfigError
from kiosk.settings import KindRule, SettingsError, evolve, load_settings, settings_from


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path):
    s = load_settings(tmp_path / "none.toml", env={})
    assert s.school.day_ends == time(15, 30)
    assert s.kinds["camera"].home_class_only is True
    assert s.kinds["trip_phone"].due == "choose" and s.kinds["trip_phone"].off_site
    assert s.source == "defaults"


def test_file_overrides_defaults_and_keeps_other_kinds(tmp_path):
    path = write(
        tmp_path,
        """
[school]
name = "Cam Woodfield Junior School"
day_ends = "15:15"
terms = [{ start = 2026-09-03, end = 2026-10-23 }]
inset_days = [2026-09-03]

[kinds.camera]
label = "Class camera"
checklist = ["images"]
""",
    )
    s = load_settings(path, env={})
    assert s.school.day_ends == time(15, 15)
    assert s.school.terms[0].end == date(2026, 10, 23)
    assert s.school.inset_days == (date(2026, 9, 3),)
    assert s.kinds["camera"].checklist == ("images",)
    assert s.kinds["camera"].home_class_only is True  # default kept for keys not given
    assert "trip_phone" in s.kinds
    assert s.source == str(path)


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, '[school]\nday_ends = "15:15"\n')
    s = load_settings(path, env={"KIOSK_SCHOOL__DAY_ENDS": "15:45", "KIOSK_DB": "/tmp/k.db"})
    assert s.school.day_ends == time(15, 45)
    assert str(s.kiosk.db) == "/tmp/k.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[school]\nday_ends = 1530",
            'kiosk.toml: [school] day_ends: expected a time like "15:30", got 1530',
        ),
        (
            '[school]\nday_end = "15:30"',
            "kiosk.toml: [school] day_end: unknown key; expected one of",
        ),
        ('[schol]\nname = "x"', "kiosk.toml: schol: unknown key"),
        (
            '[kinds.camera]\ndue = "weekly"',
            "kiosk.toml: [kinds.camera] due: expected one of end_of_day, choose, none",
        ),
        (
            '[kinds.camera]\nchecklist = ["selfie"]',
            "[kinds.camera] checklist: 'selfie' is not one of",
        ),
        (
            '[kiosk]\nsession_seconds = "soon"',
            "kiosk.toml: [kiosk] session_seconds: expected a number",
        ),
        ('[school]\nschool_days = ["monday"]', "[school] school_days: 'monday' is not one of"),
        ('[school]\ntimezone = "Mars/Olympus"', "[school] timezone: unknown time zone"),
        (
            '[school]\nterms = [{ start = 2026-09-03, end = "soon" }]',
            "end: expected a date like 2026-09-03",
        ),
        (
            "[alerts]\noverdue_grace_minutes = 60\nescalate_after_minutes = 30",
            "escalate_after_minutes: must not be less",
        ),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_each_mistake_names_file_key_and_expectation(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env={})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_named_file_that_is_missing_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={}, required=True)


def test_unreadable_settings_path_is_an_error(tmp_path):
    # A folder where the file should be: unreadable as a file even for root (CI runs as root,
    # where a chmod 000 file would still be readable).
    folder = tmp_path / "kiosk.toml"
    folder.mkdir()
    with pytest.raises(ConfigError, match=r"kiosk\.toml: cannot read the settings file"):
        load_settings(folder, env={})


def test_bad_environment_value_names_the_environment(tmp_path):
    with pytest.raises(ConfigError, match="KIOSK_\\* environment: \\[kiosk\\] undo_seconds"):
        load_settings(tmp_path / "none.toml", env={"KIOSK_KIOSK__UNDO_SECONDS": "never"})


def test_every_mistake_in_a_file_is_listed_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[school]
day_ends = 1530
timezone = "Mars/Olympus"

[kinds.camera]
due = "weekly"

[kiosk]
undo_seconds = -1
""",
    )
    with pytest.raises(SettingsError) as info:
        load_settings(path, env={})
    assert info.value.lines == [
        'kiosk.toml: [school] day_ends: expected a time like "15:30", got 1530',
        "kiosk.toml: [school] timezone: unknown time zone 'Mars/Olympus'",
        "kiosk.toml: [kinds.camera] due: expected one of end_of_day, choose, none, got 'weekly'",
        "kiosk.toml: [kiosk] undo_seconds: must be more than 0",
    ]


def test_a_mistake_is_told_against_where_it_was_made(tmp_path: Path) -> None:
    path = write(tmp_path, '[school]\nday_ends = "late"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path, env={"KIOSK_KIOSK__UNDO_SECONDS": "never"})
    assert info.value.lines == [
        "kiosk.toml: [school] day_ends: expected a time like \"15:30\", got 'late'",
        "KIOSK_* environment: [kiosk] undo_seconds: expected a number, got 'never'",
    ]


def test_a_term_without_its_end_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "[school]\nterms = [{ start = 2026-09-03 }]\n")
    with pytest.raises(SettingsError, match=r"\[school.terms\[0\]\] end: missing; expected a date"):
        load_settings(path, env={})


def test_settings_cannot_change_after_loading(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "none.toml", env={})
    with pytest.raises(AttributeError):
        s.kiosk.undo_seconds = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        s.kiosk.not_a_setting = 3  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="cannot be changed after loading"):
        s.kinds["camera"] = KindRule()  # type: ignore[index]
    assert isinstance(s.school.school_days, tuple)


def test_a_changed_copy_is_checked_again(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "none.toml", env={})
    quicker = evolve(s, {"kiosk.undo_seconds": 5.0, "kinds.camera.label": "Camera"})
    assert (quicker.kiosk.undo_seconds, quicker.kinds["camera"].label) == (5.0, "Camera")
    assert s.kiosk.undo_seconds == 10.0  # the original is untouched
    with pytest.raises(SettingsError, match=r"\[kiosk\] undo_seconds: must be more than 0"):
        evolve(s, {"kiosk.undo_seconds": 0.0})


def test_command_line_options_win_and_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, '[kiosk]\ndb = "/var/lib/kiosk/kiosk.db"\n')
    s = load_settings(path, env={"KIOSK_DB": "/tmp/env.db"}, options={"kiosk": {"db": "/tmp/x.db"}})
    assert s.kiosk.db == Path("/tmp/x.db")
    with pytest.raises(SettingsError, match=r"^command line: \[kiosk\] db: expected a file path"):
        load_settings(path, env={}, options={"kiosk": {"db": ""}})


def test_settings_from_tables_as_a_file_holds_them() -> None:
    s = settings_from({"school": {"name": "Oakfield"}, "sync": {"workers": 2}})
    assert (s.school.name, s.sync.workers, s.kinds["trip_phone"].due) == ("Oakfield", 2, "choose")

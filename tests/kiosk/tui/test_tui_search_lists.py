"""A search's list that stops short of everything that matches says so, on every picker.

Each picker lists at most so many (30 people on a desk page, 200 records in admin); a
name missing from a list that was cut must never read as "not in the system". The
limits are cut to one or two here, so the demo school's 30 staff and 20 items overflow.
"""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from kiosk.tui.app import KioskApp
from kiosk.tui.screens import find
from kiosk.tui.screens.admin import enrol, records
from kiosk.tui.widgets.more import MoreMatch
from kiosk.tui.widgets.people import PersonPicker
from tests.kiosk.tui.test_tui_office import office_tasks
from tests.kiosk.tui.test_tui_screens import OFFICE, open_admin
from tests.kiosk.tui.tui_helpers import press, screen_text, settle, tap

pytestmark = pytest.mark.asyncio

MORE_PEOPLE_2 = "More people match: the first 2 are listed. Type more of the name to narrow it."
MORE_ITEMS_2 = (
    "More items match: the first 2 are listed. Type more of the name or the asset tag to narrow it."
)


def rows(app: KioskApp, table: str) -> int:
    return app.screen.query_one(table, DataTable).row_count


async def test_find_says_when_more_people_and_items_match_than_are_listed(
    app: KioskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(find, "LISTED", 2)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, OFFICE)
        await press(pilot, "#office")
        await press(pilot, "#find")
        await pilot.press("a")  # most names and most items
        await settle(pilot)
        text = screen_text(app)
        assert MORE_PEOPLE_2 in text and MORE_ITEMS_2 in text
        assert rows(app, "#found") == 4
        await pilot.press(*"mira khan")
        await settle(pilot)
        text = screen_text(app)
        assert "Amira Khan" in text
        assert "More people match" not in text and "More items match" not in text
        assert rows(app, "#found") == 1


async def test_enrolling_says_when_more_match(
    app: KioskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(enrol, "LISTED", 2)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, "#enrol")
        await settle(pilot)
        text = screen_text(app)
        assert MORE_PEOPLE_2 in text and MORE_ITEMS_2 in text
        assert rows(app, "#owners") == 4
        app.screen.query_one("#who", Input).value = "olivia"
        await settle(pilot)
        assert "More people match" not in screen_text(app)
        assert rows(app, "#owners") == 1


@pytest.mark.parametrize(
    ("records_of", "note", "other", "narrowed"),
    [
        ("#staff", MORE_PEOPLE_2, "More items match", "S001"),
        ("#items", MORE_ITEMS_2, "More people match", "camera 5B"),
    ],
)
async def test_the_admin_records_say_when_more_match(
    app: KioskApp,
    monkeypatch: pytest.MonkeyPatch,
    records_of: str,
    note: str,
    other: str,
    narrowed: str,
) -> None:
    monkeypatch.setattr(records, "LISTED", 2)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_admin(pilot, app)
        await press(pilot, records_of)
        text = screen_text(app)
        assert note in text and other not in text
        assert rows(app, "#records") == 2
        app.screen.query_one("#find", Input).value = narrowed
        await settle(pilot)
        assert "match: the first" not in screen_text(app)
        assert rows(app, "#records") == 1


async def test_a_desk_page_picker_says_when_more_people_match(
    app: KioskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PersonPicker, "SHOWN", 2)
    async with app.run_test(size=(80, 24)) as pilot:
        await office_tasks(pilot, app)
        await press(pilot, "#badge-off")
        assert MORE_PEOPLE_2 in screen_text(app)  # everyone, before a letter is typed
        assert rows(app, "#people") == 2
        line = app.screen.query_one(MoreMatch).region  # on the 80 x 24 screen, in full
        assert app.screen.region.contains_region(line)
        assert line.height * (line.width - 2) >= len(MORE_PEOPLE_2)  # wrapped, not cut
        await pilot.press(*"khan")
        await settle(pilot)
        assert "More people match" not in screen_text(app)
        assert rows(app, "#people") == 1


async def test_a_list_that_is_all_there_says_nothing_more(app: KioskApp) -> None:
    """At the real limits the demo school fits: no line that would be untrue."""
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, OFFICE)
        await press(pilot, "#office")
        await press(pilot, "#find")
        assert "match: the first" not in screen_text(app)
        assert rows(app, "#found") > 30  # all 30 staff and the items, on one list

"""Admin, Web accounts: add, list and remove the accounts of ``kiosk web``, as an admin would.

The accounts land in the real accounts file ``kiosk web`` reads (web.db beside the kiosk
database), checked afterwards by signing in through ``kiosk.accounts`` as the web does.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from kiosk.accounts import Accounts, SignInRefused, open_accounts
from kiosk.clock import ManualClock
from kiosk.loans import LoanService
from kiosk.tui.app import KioskApp
from kiosk.tui.screens.admin.menu import AdminScreen
from kiosk.tui.screens.admin.web_accounts import AddWebAccountScreen, WebAccountsScreen
from tests.kiosk.tui.test_tui_screens import open_admin
from tests.kiosk.tui.tui_helpers import press, screen_text, settle

pytestmark = pytest.mark.asyncio

GOOD = "larch kettle harbour"


def _accounts(service: LoanService) -> Accounts:
    assert isinstance(service.clock, ManualClock)
    return open_accounts(service.settings, service.clock)


async def _type(pilot: Pilot[Any], widget_id: str, text: str) -> None:
    """Click into a field and type, as a person does."""
    await pilot.click(f"#{widget_id}")
    await pilot.press(*text)
    await settle(pilot)


async def _open_page(pilot: Pilot[Any], app: KioskApp) -> None:
    await open_admin(pilot, app)
    await press(pilot, "#web-accounts")
    assert isinstance(app.screen, WebAccountsScreen)


async def test_admin_adds_a_web_account_that_signs_in(
    app: KioskApp, demo_service: LoanService
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_page(pilot, app)
        assert "No web accounts yet" in screen_text(app)
        await press(pilot, "#add")
        assert isinstance(app.screen, AddWebAccountScreen)
        await _type(pilot, "username", "S.Evans")
        await _type(pilot, "name", "Siân Evans")
        # The role, chosen with the keyboard: open the list, down to SLT, Enter.
        app.screen.query_one("#role", Select).focus()
        await pilot.press("enter", "down", "enter")
        await settle(pilot)
        assert app.screen.query_one("#role", Select).value == "slt"
        await _type(pilot, "password", GOOD)
        await _type(pilot, "again", GOOD)
        # The password is never shown on the screen.
        assert app.screen.query_one("#password", Input).password
        await press(pilot, "#save")
        assert isinstance(app.screen, WebAccountsScreen)
        text = screen_text(app)
        assert (
            "Web account s.evans made for Siân Evans (Senior leadership): they can sign in "
            "to the board in a browser now." in text
        )
        assert "s.evans | Siân Evans | Senior leadership" in text
    account = _accounts(demo_service).get("s.evans")
    assert account is not None and account.role == "slt"
    session = _accounts(demo_service).sign_in("s.evans", GOOD)
    assert session.account.name == "Siân Evans"


@pytest.mark.parametrize(
    ("password", "again", "said"),
    [
        ("larch kettle harbour", "larch kettle harbor", "The two passwords differ"),
        ("short one", "short one", "The password needs at least 10 characters (it has 9)."),
        ("password123", "password123", "one of the most common passwords"),
        ("s.evans is me here", "s.evans is me here", "must not contain the account name"),
    ],
)
async def test_a_password_the_rules_refuse_saves_nothing_and_says_why(
    app: KioskApp, demo_service: LoanService, password: str, again: str, said: str
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_page(pilot, app)
        await press(pilot, "#add")
        await _type(pilot, "username", "s.evans")
        await _type(pilot, "name", "Siân Evans")
        await _type(pilot, "password", password)
        await _type(pilot, "again", again)
        await pilot.press("enter")  # Enter in the last field adds, as the button does
        await settle(pilot)
        assert isinstance(app.screen, AddWebAccountScreen)
        assert said in screen_text(app)
        # Both password fields are empty again, the rest is kept to correct.
        assert app.screen.query_one("#password", Input).value == ""
        assert app.screen.query_one("#again", Input).value == ""
        assert app.screen.query_one("#name", Input).value == "Siân Evans"
    assert _accounts(demo_service).users() == []


async def test_account_names_and_people_the_rules_refuse(
    app: KioskApp, demo_service: LoanService
) -> None:
    _accounts(demo_service).add_user("s.evans", "Siân Evans", "office", GOOD)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_page(pilot, app)
        await press(pilot, "#add")
        await _type(pilot, "username", "siân evans")
        await _type(pilot, "password", GOOD)
        await _type(pilot, "again", GOOD)
        await press(pilot, "#save")
        assert "An account name is 1 to 64 letters, digits and . _ @ - (no spaces)" in (
            screen_text(app)
        )
        app.screen.query_one("#username", Input).value = "s.evans"
        await _type(pilot, "name", "Someone Else")
        await _type(pilot, "password", GOOD)
        await _type(pilot, "again", GOOD)
        await press(pilot, "#save")
        assert "There is already an account called 's.evans'" in screen_text(app)
        assert "Nothing was saved." in screen_text(app)
        app.screen.query_one("#username", Input).value = "j.hill"
        app.screen.query_one("#name", Input).value = "   "
        await _type(pilot, "password", GOOD)
        await _type(pilot, "again", GOOD)
        await press(pilot, "#save")
        assert "Give the person's name" in screen_text(app)
    assert [a.username for a in _accounts(demo_service).users()] == ["s.evans"]
    assert _accounts(demo_service).get("s.evans").name == "Siân Evans"  # type: ignore[union-attr]


async def test_admin_removes_a_web_account_after_saying_yes(
    app: KioskApp, demo_service: LoanService
) -> None:
    accounts = _accounts(demo_service)
    accounts.add_user("a.jones", "Alex Jones", "office", GOOD)
    accounts.add_user("s.evans", "Siân Evans", "slt", GOOD)
    session = accounts.sign_in("s.evans", GOOD)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_page(pilot, app)
        text = screen_text(app)
        assert "a.jones | Alex Jones | Office" in text
        assert "s.evans | Siân Evans | Senior leadership" in text
        app.screen.query_one("#web-accounts").focus()
        await pilot.press("down")  # the second line: s.evans
        await settle(pilot)
        await press(pilot, "#remove")
        assert "Remove s.evans (Siân Evans)? They are signed out of every browser" in (
            screen_text(app)
        )
        assert _accounts(demo_service).get("s.evans") is not None  # only asked so far
        await press(pilot, "#confirm-remove")
        text = screen_text(app)
        assert "Web account s.evans removed; it is signed out." in text
        assert "s.evans | Siân Evans" not in text
        assert "a.jones | Alex Jones | Office" in text
        assert "Yes, remove it" not in text
    assert [a.username for a in _accounts(demo_service).users()] == ["a.jones"]
    assert _accounts(demo_service).session(session.token) is None
    with pytest.raises(SignInRefused):
        _accounts(demo_service).sign_in("s.evans", GOOD)


async def test_moving_to_another_account_takes_back_the_question(
    app: KioskApp, demo_service: LoanService
) -> None:
    accounts = _accounts(demo_service)
    accounts.add_user("a.jones", "Alex Jones", "office", GOOD)
    accounts.add_user("s.evans", "Siân Evans", "slt", GOOD)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_page(pilot, app)
        await press(pilot, "#remove")  # the first line, a.jones
        assert "Remove a.jones (Alex Jones)?" in screen_text(app)
        app.screen.query_one("#web-accounts").focus()
        await pilot.press("down")
        await settle(pilot)
        assert "Remove a.jones" not in screen_text(app)
        assert "Yes, remove it" not in screen_text(app)
        await press(pilot, "#back")
        assert isinstance(app.screen, AdminScreen)
    assert len(_accounts(demo_service).users()) == 2

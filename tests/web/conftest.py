"""Fixtures for the web board: settings from a kiosk.toml, a real accounts file, the app.

The app is the one ``kiosk web`` serves, built by the same ``create_app``; in-process tests
hand it a query object on the database the test writes to (the CLI opens it read-only) and
the test's ManualClock, so sessions, lockouts and "overdue" never depend on the hour.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kiosk.accounts import Accounts
from kiosk.clock import ManualClock
from kiosk.db import ChangeWatch
from kiosk.loans import LoanService
from kiosk.settings import Settings, load_settings
from kiosk.web.app import create_app
from tests.conftest import TinySchool
from tests.web.live_server import Served, kiosk

PASSWORD = "correct horse battery"
USERNAME = "s.evans"


def write_config(folder: Path, web: str = "") -> Path:
    """A kiosk.toml as a school writes it: the database and web accounts in ``folder``."""
    path = folder / "kiosk.toml"
    port = "" if "port =" in web else "port = 0\n"  # any free port, unless the test says
    path.write_text(
        f'[school]\nname = "Oakfield Primary"\n\n[kiosk]\ndb = "{folder / "kiosk.db"}"\n\n'
        f'[web]\naccounts = "{folder / "web.db"}"\n{port}{web}',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Overrides the shared fixture: settings loaded from a real kiosk.toml."""
    return load_settings(write_config(tmp_path), env={})


@pytest.fixture
def accounts(settings: Settings, clock: ManualClock) -> Accounts:
    assert settings.web.accounts is not None
    a = Accounts(
        settings.web.accounts,
        clock,
        idle_minutes=settings.web.idle_minutes,
        attempts=settings.web.signin_attempts,
        lock_minutes=settings.web.signin_lock_minutes,
    )
    a.add_user(USERNAME, "Siân Evans", "office", PASSWORD)
    return a


@pytest.fixture
def client(
    settings: Settings, clock: ManualClock, accounts: Accounts, service: LoanService
) -> Iterator[TestClient]:
    app = create_app(settings, clock, accounts, service.queries, ChangeWatch(settings.kiosk.db))
    with TestClient(app, follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def sign_in(client: TestClient, username: str = USERNAME, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token of the signed-in pages."""
    form = client.get("/signin")
    r = client.post(
        "/signin",
        data={"csrf": csrf_of(form.text), "username": username, "password": password, "next": "/"},
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/").text)


@pytest.fixture
def web_config(settings: Settings, tiny_school: TinySchool, tmp_path: Path) -> Path:
    """The tiny school's kiosk.toml, its database made, one web account (made by the CLI)."""
    path = tmp_path / "kiosk.toml"
    r = kiosk(
        "web", "add-user", USERNAME, "--name", "Siân Evans", stdin=PASSWORD + "\n", config=path
    )
    assert r.returncode == 0, r.stderr
    return path


@pytest.fixture
def served(web_config: Path) -> Iterator[Served]:
    """``kiosk web`` serving the tiny school."""
    s = Served(web_config)
    yield s
    s.stop_and_output()

"""Web accounts (kiosk.accounts): password rules, argon2id, sessions and lockouts, on a real file."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from kiosk.accounts import (
    MAX_SESSION_HOURS,
    WHOLE_TRUST,
    AccountError,
    Accounts,
    SignInRefused,
    password_problem,
)
from kiosk.clock import ManualClock
from kiosk.errors import StorageError
from tests.web.conftest import PASSWORD, USERNAME


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Accounts:
    a = Accounts(tmp_path / "web.db", clock, idle_minutes=30, attempts=5, lock_minutes=15)
    a.add_user(USERNAME, "Siân  Evans ", "office", PASSWORD)
    return a


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 10 characters (it has 5)"),
        ("x" * 257, "at most 256 characters"),
        ("aaaaaaaaaaaa", "repeats too few characters"),
        ("1234567890", "one of the most common passwords"),
        ("Password123", "one of the most common passwords"),
        ("sunshine2026!", "a common password with numbers or symbols added"),
        ("s.evans-at-school", "must not contain the account name"),
    ],
)
def test_weak_passwords_are_refused_saying_why(password: str, problem: str) -> None:
    said = password_problem(password, USERNAME)
    assert said is not None and problem in said


@pytest.mark.parametrize("password", [PASSWORD, "Tea at 4 in the staffroom", "purple-otter-lamp-2"])
def test_good_passwords_are_accepted(password: str) -> None:
    assert password_problem(password, USERNAME) is None


def test_the_hash_is_argon2id_at_the_owasp_cost_and_the_file_is_private(store: Accounts) -> None:
    with sqlite3.connect(store.path) as con:
        (stored,) = con.execute("SELECT password_hash FROM account").fetchone()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_an_account_is_made_once_with_a_tidy_name(store: Accounts) -> None:
    (account,) = store.users()
    assert (account.username, account.name, account.role_label) == (
        "s.evans",
        "Siân Evans",
        "Office",
    )
    with pytest.raises(AccountError, match=r"already an account called 's\.evans'"):
        store.add_user("S.Evans", "Someone", "slt", "another long passphrase")


@pytest.mark.parametrize(
    ("username", "name", "role", "message"),
    [
        ("has space", "A Person", "office", "is 1 to 64 letters"),
        ("", "A Person", "office", "is 1 to 64 letters"),
        ("ok.name", "   ", "office", "Give the person's name"),
        ("ok.name", "A Person", "head", "The role must be one of office, slt, admin"),
    ],
)
def test_a_bad_account_is_refused_saying_why(
    store: Accounts, username: str, name: str, role: str, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        store.add_user(username, name, role, "a long good passphrase")
    assert len(store.users()) == 1  # nothing half-made


def test_a_session_token_is_stored_only_as_its_hash(store: Accounts) -> None:
    session = store.sign_in(USERNAME, PASSWORD)
    assert len(session.token) >= 40 and len(session.csrf) >= 40
    files = [store.path, Path(f"{store.path}-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert session.token.encode() not in raw
    again = store.session(session.token)
    assert again is not None and again.account.username == USERNAME
    assert again.csrf == session.csrf and again.token == ""


def test_a_session_times_out_when_idle_and_after_a_working_day(
    store: Accounts, clock: ManualClock
) -> None:
    s = store.sign_in(USERNAME, PASSWORD)
    clock.advance(29 * 60)
    assert store.session(s.token) is not None  # touched: the idle time restarts
    clock.advance(29 * 60)
    assert store.session(s.token, touch=False) is not None
    clock.advance(2 * 60)
    assert store.session(s.token) is None  # 31 minutes since last touched
    busy = store.sign_in(USERNAME, PASSWORD)
    for _ in range(MAX_SESSION_HOURS * 4):
        clock.advance(15 * 60)
        store.session(busy.token)
    assert store.session(busy.token) is None


def test_wrong_passwords_lock_the_name_then_the_lock_ends(
    store: Accounts, clock: ManualClock
) -> None:
    for _ in range(4):
        with pytest.raises(SignInRefused, match="do not match"):
            store.sign_in(USERNAME, "wrong wrong wrong")
    with pytest.raises(SignInRefused, match="locked for 15 minutes"):
        store.sign_in(USERNAME, "wrong wrong wrong")
    with pytest.raises(SignInRefused, match="locked"):
        store.sign_in(USERNAME, PASSWORD)
    clock.advance(14 * 60)
    with pytest.raises(SignInRefused, match="locked for 1 minute;"):
        store.sign_in(USERNAME, PASSWORD)
    clock.advance(61)
    assert store.sign_in(USERNAME, PASSWORD).token


def test_mistakes_spread_over_time_do_not_lock(store: Accounts, clock: ManualClock) -> None:
    for _ in range(10):
        with pytest.raises(SignInRefused, match="do not match"):
            store.sign_in(USERNAME, "wrong wrong wrong")
        clock.advance(4 * 60)  # four mistakes a quarter of an hour: never five in a row
    assert store.sign_in(USERNAME, PASSWORD).token


def test_a_right_password_clears_the_count(store: Accounts) -> None:
    for _ in range(4):
        with pytest.raises(SignInRefused):
            store.sign_in(USERNAME, "wrong wrong wrong")
    store.sign_in(USERNAME, PASSWORD)
    for _ in range(4):
        with pytest.raises(SignInRefused, match="do not match"):
            store.sign_in(USERNAME, "wrong wrong wrong")


def test_one_address_trying_many_names_is_locked_too(store: Accounts) -> None:
    for i in range(20):
        with pytest.raises(SignInRefused):
            store.sign_in(f"guess{i}", "wrong wrong wrong", "192.0.2.7")
    with pytest.raises(SignInRefused, match="locked"):
        store.sign_in(USERNAME, PASSWORD, "192.0.2.7")
    assert store.sign_in(USERNAME, PASSWORD, "192.0.2.8").token  # the office PC is not


def test_an_unknown_name_locks_like_a_known_one(store: Accounts) -> None:
    """The answers never tell which names exist."""
    messages = []
    for name in (USERNAME, "nobody"):
        for _ in range(5):
            with pytest.raises(SignInRefused) as caught:
                store.sign_in(name, "wrong wrong wrong")
            messages.append(str(caught.value))
    assert messages[:5] == messages[5:]


def test_a_new_password_ends_the_other_sessions(store: Accounts) -> None:
    mine = store.sign_in(USERNAME, PASSWORD)
    theirs = store.sign_in(USERNAME, PASSWORD)
    store.change_own_password(mine, mine.token, PASSWORD, "a brand new passphrase")
    assert store.session(mine.token) is not None
    assert store.session(theirs.token) is None
    with pytest.raises(SignInRefused):
        store.sign_in(USERNAME, PASSWORD)
    store.set_password(USERNAME, "set by the IT lead now")  # kiosk web passwd: ends all
    assert store.session(mine.token) is None


def test_a_wrong_current_password_counts_towards_the_lock(store: Accounts) -> None:
    s = store.sign_in(USERNAME, PASSWORD)
    for _ in range(5):
        with pytest.raises(AccountError, match="current password is not right"):
            store.change_own_password(s, s.token, "guess guess guess", "a brand new passphrase")
    with pytest.raises(SignInRefused, match="locked"):
        store.change_own_password(s, s.token, PASSWORD, "a brand new passphrase")


def test_removing_an_account_signs_it_out(store: Accounts) -> None:
    s = store.sign_in(USERNAME, PASSWORD)
    store.remove_user(USERNAME)
    assert store.session(s.token) is None and store.users() == []
    with pytest.raises(AccountError, match=r"no account called 's\.evans'"):
        store.remove_user(USERNAME)


def test_prune_forgets_old_sessions_and_lockouts(store: Accounts, clock: ManualClock) -> None:
    store.sign_in(USERNAME, PASSWORD)
    with pytest.raises(SignInRefused):
        store.sign_in("nobody", "wrong wrong wrong")
    clock.advance(31 * 60)
    assert store.prune() == 2
    with sqlite3.connect(store.path) as con:
        assert con.execute("SELECT COUNT(*) FROM session").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM lockout").fetchone()[0] == 0


def test_an_accounts_file_that_cannot_be_made_says_where(
    tmp_path: Path, clock: ManualClock
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StorageError, match="Cannot create the web accounts file"):
        Accounts(blocker / "web.db", clock)


def test_a_newer_accounts_file_is_refused(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "web.db"
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA user_version = 9")
    with pytest.raises(StorageError, match="written by a newer kiosk"):
        Accounts(path, clock)


def test_an_accounts_file_of_the_first_version_gains_scopes_and_keeps_its_accounts(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "web.db"
    con = sqlite3.connect(path)
    con.executescript(
        """CREATE TABLE account (username TEXT PRIMARY KEY, name TEXT NOT NULL,
           role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at TEXT NOT NULL,
           password_changed_at TEXT NOT NULL);
           INSERT INTO account VALUES ('s.evans', 'Siân Evans', 'office', 'x',
           '2026-11-23T09:00:00+00:00', '2026-11-23T09:00:00+00:00');
           PRAGMA user_version = 1;"""
    )
    con.close()
    store = Accounts(path, clock)
    (old,) = store.users()
    assert (old.username, old.scope, old.scope_label) == ("s.evans", "", "this kiosk's school")
    new = store.add_user("p.shah", "Priya Shah", "slt", PASSWORD, scope="*")
    assert new.scope == WHOLE_TRUST and new.may_see("hillside") and not old.may_see("hillside")
    school = store.add_user("h.office", "Hill Office", "office", PASSWORD, scope="Hillside")
    assert school.scope == "hillside" and school.may_see("hillside") and not school.may_see("oak")
    with pytest.raises(AccountError, match="A school id is lower-case letters"):
        store.add_user("x.y", "X Y", "office", PASSWORD, scope="no such school!")
    assert Accounts(path, clock).get("p.shah") == new  # opened again: nothing changes

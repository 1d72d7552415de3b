"""The trust's board (``kiosk web`` with ``[web] trust_credentials``), over HTTP, against a real
PostgreSQL with real kiosks pushing to it, read through the web's own login (``--web``).

Every route and refusal: not signed in, an account of one kiosk's board, a school's account
on another school (the page and its live stream), a school that does not exist; the server
stopped and then slow (the page keeps its last figures, says so and from when), and back.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from kiosk.accounts import WHOLE_TRUST, Accounts, open_accounts
from kiosk.clock import ManualClock
from kiosk.settings import Settings, load_settings
from kiosk.web.trust import create_trust_app
from sync.trust.view import TrustView
from tests.sync.trust.conftest import (  # the real cluster, as the trust tests use it
    MONDAY_9AM,
    Kiosk,
    TrustDB,
    kiosk_factory,
    pg,
    trust_db,
)
from tests.web.conftest import PASSWORD, csrf_of

__all__ = ["kiosk_factory", "pg", "trust_db"]  # fixtures, used by name


@dataclass
class Trust:
    hill: str
    oak: str
    kiosks: dict[str, Kiosk]
    settings: Settings
    accounts: Accounts
    clock: ManualClock
    conninfo: str


def write_trust_web_config(folder: Path, credentials: Path, timeout: float = 3.0) -> Path:
    path = folder / "trust-web.toml"
    path.write_text(
        f'[school]\nname = "Greenway Academy Trust"\n\n[kiosk]\ndb = "{folder / "unused.db"}"\n\n'
        f'[web]\naccounts = "{folder / "web.db"}"\nport = 0\n'
        f'trust_credentials = "{credentials}"\ntrust_timeout_seconds = {timeout}\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def trust(trust_db: TrustDB, kiosk_factory: Callable[..., Kiosk], tmp_path: Path) -> Trust:
    hill = trust_db.school(trust_db.unique("hill"), "Hillside Primary")
    oak = trust_db.school(trust_db.unique("oak"), "Oakfield Primary")
    kiosks: dict[str, Kiosk] = {}
    for name, school, school_name in (
        ("hill", hill, "Hillside Primary"),
        ("oak", oak, "Oakfield Primary"),
    ):
        k = kiosk_factory(name, school_name)
        k.kiosk_id = trust_db.unique(name)
        k.conninfo = trust_db.kiosk(k.kiosk_id, school).conninfo
        kiosks[name] = k
    h, o = kiosks["hill"], kiosks["oak"]
    h.sign_out("amira", "camera")  # due at the end of the day
    h.sign_out("ben", "phone")
    phone = next(v for v in h.service.board() if v.item.kind == "trip_phone")
    h.service.set_due(phone.id, h.clock.now() + timedelta(hours=2), trip="Science museum")
    assert h.push().error == ""
    o.sign_out("ben", "trolley")
    assert o.push().error == ""
    web = trust_db.web(trust_db.unique("web"))
    credentials = tmp_path / "trust-web.conninfo"
    credentials.write_text(web.conninfo + "\n", encoding="utf-8")
    credentials.chmod(0o600)
    settings = load_settings(write_trust_web_config(tmp_path, credentials), env={})
    clock = ManualClock(wall=MONDAY_9AM + timedelta(hours=3))  # 12:00: the phone is overdue
    accounts = open_accounts(settings, clock)
    accounts.add_user("slt.lead", "Priya Shah", "slt", PASSWORD, scope=WHOLE_TRUST)
    accounts.add_user("hill.office", "Siân Evans", "office", PASSWORD, scope=hill)
    accounts.add_user("kiosk.only", "Ann Lee", "office", PASSWORD)
    return Trust(hill, oak, kiosks, settings, accounts, clock, web.conninfo)


@pytest.fixture
def view(trust: Trust) -> Iterator[TrustView]:
    assert trust.settings.web.trust_credentials is not None
    v = TrustView.from_credentials(
        trust.settings.web.trust_credentials, connect_timeout=2, statement_timeout=1.0
    )
    yield v
    v.close()


@pytest.fixture
def client(trust: Trust, view: TrustView) -> Iterator[TestClient]:
    app = create_trust_app(trust.settings, trust.clock, trust.accounts, view)
    with TestClient(app, follow_redirects=False) as c:
        yield c


def _text(r: Any) -> str:
    """What the page says (HTML entities read as the browser shows them)."""
    return html.unescape(str(r.text))


def sign_in(client: TestClient, username: str) -> None:
    form = client.get("/signin")
    r = client.post(
        "/signin",
        data={"csrf": csrf_of(form.text), "username": username, "password": PASSWORD, "next": "/"},
    )
    assert r.status_code == 303, r.text


def test_every_trust_page_needs_a_session(client: TestClient, trust: Trust) -> None:
    for path in ("/", f"/schools/{trust.hill}"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    assert client.get("/live?page=trust").status_code == 401


def test_the_all_schools_page_shows_overdue_and_trip_phones_across_the_trust(
    client: TestClient, trust: Trust
) -> None:
    sign_in(client, "slt.lead")
    r = client.get("/")
    assert r.status_code == 200
    page = _text(r)
    assert "All schools" in page and "Greenway Academy Trust" in page
    # Overdue across the trust: the trip phone, due at 11:00, with its school and number.
    overdue = page.split('id="h-overdue"')[1].split('id="h-phones"')[0]
    assert "1 overdue" in overdue and "Trip phone 1" in overdue and "Hillside Primary" in overdue
    assert "Class camera 5B" not in overdue
    phones = page.split('id="h-phones"')[1].split('id="h-schools"')[0]
    assert "07700 900123" in phones and "Science museum" in phones and "Ben Ortiz" in phones
    schools = page.split('id="h-schools"')[1]
    assert f'href="/schools/{trust.hill}"' in schools and f'href="/schools/{trust.oak}"' in schools
    assert "The trust's database is not answering" not in page
    assert "/live?page=trust&since=" in page


def test_a_school_page_shows_that_schools_board(client: TestClient, trust: Trust) -> None:
    sign_in(client, "slt.lead")
    r = client.get(f"/schools/{trust.oak}")
    assert r.status_code == 200
    assert "Oakfield Primary" in _text(r) and "iPad trolley key 1" in _text(r)
    assert "Class camera 5B" not in _text(r) and "Trip phone 1" not in _text(r)
    hill = _text(client.get(f"/schools/{trust.hill}"))
    assert "Class camera 5B" in hill and "Amira Khan" in hill and "2 out, " in hill
    r = client.get("/schools/no-such-school")
    assert r.status_code == 404 and "There is no school 'no-such-school'" in _text(r)


def test_a_schools_account_sees_its_school_only(client: TestClient, trust: Trust) -> None:
    sign_in(client, "hill.office")
    r = client.get("/")  # the all-schools page is not theirs: their school's board is
    assert r.status_code == 303 and r.headers["location"] == f"/schools/{trust.hill}"
    assert "Class camera 5B" in _text(client.get(f"/schools/{trust.hill}"))
    r = client.get(f"/schools/{trust.oak}")
    assert r.status_code == 403
    assert "Your account shows your own school's board only" in _text(r)
    assert "iPad trolley key" not in _text(r) and "Oakfield Primary" not in _text(r)
    # Nor through the live stream, whichever page it names.
    r = client.get(f"/live?page=school&school={trust.oak}")
    assert r.status_code == 403
    assert client.get("/live?page=trust").status_code == 403
    assert client.get("/live?page=elsewhere").status_code == 404


def test_an_account_of_one_kiosks_board_is_refused_the_trusts(
    client: TestClient, trust: Trust
) -> None:
    sign_in(client, "kiosk.only")
    for path in ("/", f"/schools/{trust.hill}"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "This account is for one kiosk's board, not the trust's" in _text(r)


def test_the_web_login_itself_reads_no_other_school_for_a_schools_scope(
    trust: Trust, view: TrustView
) -> None:
    """Defence in depth: even asked for the whole trust, a school's scope reads its school."""
    o = view.overview(trust.clock.now(), scope=trust.hill)
    assert {s.school_id for s in o.schools if s.out} == {trust.hill}
    assert {v.school_id for v in o.trip_phones} == {trust.hill}
    assert view.login() == "web"


def _live_event(client: TestClient, url: str) -> str:
    """The first section event of a live stream (the page shows no generation yet)."""
    with client.stream("GET", url) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines: list[str] = []
        for line in r.iter_lines():
            if line.startswith("data: "):
                lines.append(line[6:])
            elif line == "" and lines:
                return "\n".join(lines)
    raise AssertionError("the stream ended")


def test_a_push_from_a_kiosk_reaches_the_open_page(client: TestClient, trust: Trust) -> None:
    sign_in(client, "hill.office")
    first = _live_event(client, f"/live?page=school&school={trust.hill}")
    assert "Class camera 5B" in first and "Laptop trolley key" not in first
    hub = client.app.state.hub  # type: ignore[attr-defined]
    seen = hub.generation  # what the page shows now; the push below moves it
    h = trust.kiosks["hill"]
    h.sign_out("amira", "laptops")
    assert h.push().error == ""
    with client.stream("GET", f"/live?page=school&school={trust.hill}&since={seen}") as r:
        data: list[str] = []
        for line in r.iter_lines():
            if line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and data:
                break
    assert "Laptop trolley key" in "\n".join(data)


def test_server_stopped_the_page_keeps_its_figures_and_says_so(
    client: TestClient, trust: Trust, trust_db: TrustDB
) -> None:
    sign_in(client, "slt.lead")
    assert "Trip phone 1" in _text(client.get("/"))  # read once, at 12:00
    trust.clock.advance(600)
    trust_db.cluster.stop()
    try:
        r = client.get("/")
        assert r.status_code == 200
        text = _text(r)
        assert "The trust's database is not answering just now" in text
        assert "They are from Mon 23 Nov 2026, 12:00." in text
        assert "Trip phone 1" in text and "07700 900123" in text  # the last figures, kept
        # A page never read before says there are no figures yet, plainly.
        r = client.get(f"/schools/{trust.oak}")
        assert r.status_code == 200
        assert "No figures yet: the trust's database has not answered" in _text(r)
    finally:
        trust_db.cluster.start()
    r = client.get("/")
    assert "not answering" not in _text(r) and "Trip phone 1" in _text(r)


def test_server_slow_the_page_answers_in_time_with_the_last_figures(
    client: TestClient, trust: Trust, trust_db: TrustDB
) -> None:
    sign_in(client, "slt.lead")
    assert "Trip phone 1" in _text(client.get("/"))
    with psycopg.connect(trust_db.cluster.conninfo(trust_db.name)) as admin:
        # The server is slow: a long job holds the loans, so the board's query waits.
        admin.execute("LOCK TABLE trust.loan IN ACCESS EXCLUSIVE MODE")
        r = client.get("/")  # gives up after the statement time-out (1 s here)
        admin.rollback()
    assert r.status_code == 200
    assert "The trust's database is not answering just now" in _text(r)
    assert "too slow" in _text(r) or "did not answer in time" in _text(r)
    assert "Trip phone 1" in _text(r)
    assert "not answering" not in _text(client.get("/"))

"""Every route of the web board, in-process over HTTP (Starlette's TestClient), with its refusals.

The app reads a real SQLite file written by the loan service; the accounts are a real
accounts file; the clock is pinned (Monday 23 November 2026, 09:00 in London).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from kiosk.accounts import Accounts
from kiosk.clock import ManualClock
from kiosk.db import ChangeWatch
from kiosk.exporter import export_day, export_loans
from kiosk.loans import LoanService
from kiosk.loans.day import day_report
from kiosk.settings import Settings, load_settings
from kiosk.views import Checklist
from kiosk.web.app import create_app
from tests.conftest import TinySchool, tap
from tests.web.conftest import PASSWORD, USERNAME, csrf_of, sign_in, write_config

#: Every page that shows the kiosk's records (all need a session).
PAGES = [
    "/",
    "/trips",
    "/problems",
    "/today",
    "/search?q=khan",
    "/people/1",
    "/items/1",
    "/export",
    "/export/loans.csv",
    "/export/day.csv",
    "/password",
]


def morning(service: LoanService, clock: ManualClock, tiny_school: TinySchool) -> None:
    """09:00 Ms Khan takes camera 5B (due 15:30); Mr Jones takes trip phone 1 to the
    swimming baths until 12:00. At 13:00 the phone is overdue and the camera is not."""
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.PHONE)
    assert r.loan is not None
    service.set_due(
        r.loan.id, datetime(2026, 11, 23, 12, 0, tzinfo=UTC), trip="Swimming, Leisure Centre"
    )
    clock.advance(4 * 3600)


# --- who may see it -------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_without_a_session_redirects_to_sign_in(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/signin?next=%2F")
    assert "why=expired" not in r.headers["location"]


def test_the_live_stream_without_a_session_is_refused(client: TestClient) -> None:
    assert client.get("/live?page=board").status_code == 401


@pytest.mark.parametrize("path", ["/signout", "/password"])
def test_forms_without_a_session_are_refused(client: TestClient, path: str) -> None:
    r = client.post(path, data={"csrf": "x"})
    assert r.status_code == 403
    assert "not signed in" in r.text


def test_sign_in_sets_a_session_cookie_and_returns_to_the_page_asked_for(
    client: TestClient,
) -> None:
    first = client.get("/trips")
    assert first.headers["location"] == "/signin?next=%2Ftrips"
    form = client.get(first.headers["location"])
    assert form.status_code == 200 and "Sign in" in form.text
    r = client.post(
        "/signin",
        data={
            "csrf": csrf_of(form.text),
            "username": "S.Evans ",  # names are not case-sensitive
            "password": PASSWORD,
            "next": "/trips",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/trips"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("kiosk_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    page = client.get("/trips")
    assert page.status_code == 200 and "Signed in as Siân Evans" in page.text


def test_signing_in_never_sends_the_browser_to_another_site(client: TestClient) -> None:
    form = client.get("/signin")
    r = client.post(
        "/signin",
        data={
            "csrf": csrf_of(form.text),
            "username": USERNAME,
            "password": PASSWORD,
            "next": "//evil.example/",
        },
    )
    assert r.headers["location"] == "/"


def test_cookies_are_secure_when_the_settings_say_https(
    tmp_path: Path, clock: ManualClock, accounts: Accounts, service: LoanService
) -> None:
    settings = load_settings(write_config(tmp_path, "secure_cookies = true\n"), env={})
    app = create_app(
        settings,
        clock,
        accounts,
        LoanService(settings, clock).queries,
        ChangeWatch(settings.kiosk.db),
    )
    with TestClient(app, follow_redirects=False, base_url="https://testserver") as c:
        form = c.get("/signin")
        assert "Secure" in form.headers["set-cookie"]
        r = c.post(
            "/signin",
            data={"csrf": csrf_of(form.text), "username": USERNAME, "password": PASSWORD},
        )
        cookie = next(h for h in r.headers.get_list("set-cookie") if "kiosk_session=" in h)
        assert "Secure" in cookie and "HttpOnly" in cookie


@pytest.mark.parametrize("username", [USERNAME, "nobody"])
def test_a_wrong_password_or_unknown_name_is_refused_alike(
    client: TestClient, username: str
) -> None:
    form = client.get("/signin")
    r = client.post(
        "/signin",
        data={"csrf": csrf_of(form.text), "username": username, "password": "not the one at all"},
    )
    assert r.status_code == 401
    assert "That account name and password do not match" in r.text
    assert "kiosk_session=" not in r.headers.get("set-cookie", "")
    assert client.get("/").status_code == 303


def test_too_many_wrong_passwords_lock_sign_in_until_the_lock_ends(
    client: TestClient, clock: ManualClock, settings: Settings
) -> None:
    def attempt(password: str) -> int:
        form = client.get("/signin")
        data = {"csrf": csrf_of(form.text), "username": USERNAME, "password": password}
        return client.post("/signin", data=data).status_code

    codes = [attempt("wrong password!") for _ in range(settings.web.signin_attempts)]
    assert codes == [401] * (settings.web.signin_attempts - 1) + [429]
    assert attempt(PASSWORD) == 429  # even the right password, while locked
    form = client.get("/signin")
    locked = client.post(
        "/signin",
        data={"csrf": csrf_of(form.text), "username": USERNAME, "password": PASSWORD},
    )
    assert "Sign-in is locked for 15 minutes" in locked.text
    clock.advance(settings.web.signin_lock_minutes * 60 + 1)
    assert attempt(PASSWORD) == 303


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_sign_in_without_its_form_token_is_refused(client: TestClient, token: str | None) -> None:
    client.get("/signin")
    data = {"username": USERNAME, "password": PASSWORD}
    if token is not None:
        data["csrf"] = token
    r = client.post("/signin", data=data)
    assert r.status_code == 403
    assert "The sign-in form had expired" in r.text
    assert client.get("/").status_code == 303


def test_sign_in_form_from_another_browser_is_refused(client: TestClient) -> None:
    """The token must match this browser's own sign-in cookie (double submit)."""
    token = csrf_of(client.get("/signin").text)
    client.cookies.clear()
    client.get("/signin")  # a fresh cookie with another value
    r = client.post("/signin", data={"csrf": token, "username": USERNAME, "password": PASSWORD})
    assert r.status_code == 403


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_sign_out_without_the_session_token_is_refused(
    client: TestClient, token: str | None
) -> None:
    sign_in(client)
    r = client.post("/signout", data={} if token is None else {"csrf": token})
    assert r.status_code == 403
    assert "That form has expired" in r.text
    assert client.get("/").status_code == 200  # still signed in


def test_a_form_that_is_not_a_form_is_refused(client: TestClient) -> None:
    csrf = sign_in(client)
    r = client.post("/signout", json={"csrf": csrf})
    assert r.status_code == 415
    r = client.post("/signout", data={"csrf": csrf, "x": "y" * 20_000})
    assert r.status_code == 413
    assert client.get("/").status_code == 200


def test_sign_out_ends_the_session_on_the_server(client: TestClient) -> None:
    csrf = sign_in(client)
    token = client.cookies["kiosk_session"]
    r = client.post("/signout", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/signin?why=signedout"
    assert client.get("/").status_code == 303
    assert "You are signed out." in client.get("/signin?why=signedout").text
    # The old cookie, kept by someone, no longer signs anybody in.
    client.cookies.set("kiosk_session", token)
    assert client.get("/").status_code == 303


def test_a_session_ends_after_the_idle_time(
    client: TestClient, clock: ManualClock, settings: Settings
) -> None:
    sign_in(client)
    clock.advance(settings.web.idle_minutes * 60 - 90)
    assert client.get("/").status_code == 200  # used in time: the idle time starts again
    clock.advance(settings.web.idle_minutes * 60 + 1)
    r = client.get("/search?q=x")
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?next=%2Fsearch%3Fq%3Dx&why=expired"
    page = client.get(r.headers["location"])
    assert "You were signed out because the board was not used for a while" in page.text
    assert client.get("/live?page=board").status_code == 401


def test_a_session_ends_after_a_working_day_however_busy(
    client: TestClient, clock: ManualClock
) -> None:
    sign_in(client)
    for _ in range(13 * 4):
        clock.advance(15 * 60)
        if client.get("/").status_code != 200:
            break
    assert client.get("/").status_code == 303
    assert clock.now() - datetime(2026, 11, 23, 9, 0, tzinfo=UTC) <= timedelta(hours=12, minutes=15)


def test_the_sign_in_page_sends_a_signed_in_browser_on(client: TestClient) -> None:
    sign_in(client)
    assert client.get("/signin?next=/trips").headers["location"] == "/trips"


# --- what it shows --------------------------------------------------------------------------


def test_out_now_lists_overdue_first_with_borrower_since_and_due(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    morning(service, clock, tiny_school)
    sign_in(client)
    page = client.get("/").text
    assert "2 out, <strong>1 overdue</strong>." in page
    phone, camera = page.index("Trip phone 1"), page.index("Class camera 5B")
    assert phone < camera  # overdue first
    assert "John Jones" in page and "Amira Khan" in page
    assert "09:00 today" in page  # out since
    assert '<strong class="flag">Overdue</strong> 12:00 today' in page
    assert "15:30 today" in page
    assert "Trip: Swimming, Leisure Centre" in page


def test_out_now_narrows_to_a_kind_or_to_overdue(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    morning(service, clock, tiny_school)
    sign_in(client)
    cameras = client.get("/?kind=camera").text
    assert "Class camera 5B" in cameras and "Trip phone 1" not in cameras
    overdue = client.get("/?overdue=1").text
    assert "Trip phone 1" in overdue and "Class camera 5B" not in overdue
    # An unknown kind is ignored, not an error.
    assert "Class camera 5B" in client.get("/?kind=%3Cscript%3E").text
    assert "Nothing out matches." in client.get("/?kind=trolley_key").text


def test_trip_phones_off_site_with_number_and_trip(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    morning(service, clock, tiny_school)
    sign_in(client)
    page = client.get("/trips").text
    assert '<a class="urgent" href="/trips" aria-current="page">Trip phones off site</a>' in page
    assert 'href="tel:07700900101">07700 900101</a>' in page
    assert "Swimming, Leisure Centre" in page and "John Jones" in page
    assert "Class camera 5B" not in page  # not off site


def test_open_problems_are_the_office_boards_list_until_the_office_deals_with_them(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    sign_in(client)
    assert "No open problems." in client.get("/problems").text
    # Mr Jones brings the trolley back with 2 iPads short; Ms Khan her camera, cracked.
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.TROLLEY)
    back = tap(service, clock, TinySchool.TROLLEY)
    assert back.loan is not None
    service.save_checklist(
        back.loan.id, Checklist(counts={"iPads": 28, "headphones": 30}, damage="")
    )
    clock.advance(600)
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    camera = tap(service, clock, TinySchool.CAMERA)
    assert camera.loan is not None
    service.save_checklist(camera.loan.id, Checklist(images_erased=True, damage="cracked screen"))
    page = client.get("/problems").text
    assert '<a href="/problems" aria-current="page">Open problems</a>' in page
    assert "2 open problems, oldest first." in page
    rows = page[page.index("<tbody>") : page.index("</tbody>")].split("<tr>")[1:]
    # The same rows, in the same order, as the kiosk's office board.
    board = service.open_problems()
    assert [p.what for p in board] == ["2 iPads missing", "damaged: cracked screen"]
    for row, p in zip(rows, board, strict=True):
        assert f'<a href="/items/{p.item.id}">{p.item.name}</a>' in row
        assert p.what in row
        assert p.last_with is not None
        assert f'<a href="/people/{p.last_with.id}">{p.last_with.name}</a>' in row
    assert "09:00 today" in rows[0] and "09:10 today" in rows[1]
    # A list longer than the board shows says how many there are in all.
    with pytest.MonkeyPatch.context() as m:
        m.setattr("kiosk.loans.problems.LISTED", 1)
        page = client.get("/problems").text
        assert "2 open problems; the 1 longest open are listed, oldest first." in page
        assert page.count('<td data-label="Problem">') == 1
    # Dealt with at the kiosk: it leaves the list.
    service.resolve_problem(board[0].id, "found", "in the hall cupboard", tiny_school.office.id)
    page = client.get("/problems").text
    assert "1 open problem, oldest first." in page and "iPads missing" not in page
    service.resolve_problem(board[1].id, "repaired", "new screen", tiny_school.office.id)
    assert "No open problems." in client.get("/problems").text


def test_the_offices_acts_show_in_a_history(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    out = service.sign_out_for(
        tiny_school.khan.id, tiny_school.office.id, item_pk=tiny_school.camera.id
    )
    assert out.loan is not None
    sign_in(client)
    page = client.get(f"/people/{tiny_school.khan.id}").text
    assert "signed out by" in page and "(office)" in page


def test_the_emergency_list_is_the_first_link_on_every_page(client: TestClient) -> None:
    sign_in(client)
    for path in ("/", "/problems", "/search", "/export", "/password"):
        page = client.get(path).text
        nav = page[page.index("<nav") :]
        first_link = nav[nav.index("<a") : nav.index("</a>")]
        assert 'href="/trips"' in first_link, path


def test_nothing_out_says_so(client: TestClient, tiny_school: TinySchool) -> None:
    sign_in(client)
    assert "Nothing is out." in client.get("/").text
    assert "No trip phone is off site." in client.get("/trips").text


def test_search_finds_people_items_and_what_is_out(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    morning(service, clock, tiny_school)
    sign_in(client)
    page = client.get("/search?q=khan").text
    assert f'<a href="/people/{tiny_school.khan.id}">Amira Khan</a> (Ms Khan), 5B' in page
    assert "Class camera 5B" in page  # out with her
    items = client.get("/search?q=PHONE-1").text
    assert f'<a href="/items/{tiny_school.phone.id}">Trip phone 1</a>' in items
    assert "No one matches" in items
    swim = client.get("/search?q=swimming").text  # a trip
    assert "Trip phone 1" in swim and "John Jones" in swim
    assert "No one matches “zzz”." in client.get("/search?q=zzz").text


def test_a_search_that_lists_only_the_first_matches_says_more_match(
    client: TestClient, tiny_school: TinySchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client)
    page = client.get("/search?q=a").text
    assert "More people match" not in page and "More items match" not in page
    people = page.count('<li><a href="/people/')
    items = page.count('<li><a href="/items/')
    assert people >= 2 and items >= 2
    monkeypatch.setattr("kiosk.web.app.SEARCH_LISTED", 1)
    page = client.get("/search?q=a").text
    assert page.count('<li><a href="/people/') == 1
    assert page.count('<li><a href="/items/') == 1
    assert "More people match: the first 1 are listed. Type more of the name" in page
    assert "More items match: the first 1 are listed." in page


def test_search_text_is_shown_as_text(client: TestClient, tiny_school: TinySchool) -> None:
    sign_in(client)
    page = client.get("/search", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_person_page_shows_what_they_have_and_their_history(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    morning(service, clock, tiny_school)
    tap(service, clock, TinySchool.CAMERA)  # Ms Khan brings the camera back at 13:00
    sign_in(client)
    page = client.get(f"/people/{tiny_school.jones.id}").text
    assert "<h1>John Jones</h1>" in page and "4A 4B" in page
    assert "Trip phone 1</a>, since 09:00 today" in page
    khan = client.get(f"/people/{tiny_school.khan.id}").text
    has_out = khan[khan.index("Has out now") : khan.index("History")]
    assert "Nothing." in has_out
    assert "Mon 23 Nov 2026, 09:00" in khan and "Mon 23 Nov 2026, 13:00" in khan
    assert "Returned" in khan


def test_an_item_page_shows_who_has_it_and_its_history(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    morning(service, clock, tiny_school)
    sign_in(client)
    page = client.get(f"/items/{tiny_school.phone.id}").text
    assert "07700 900101" in page
    assert f'Out with <a href="/people/{tiny_school.jones.id}">John Jones</a>' in page
    assert "Overdue" in page and "trip: Swimming, Leisure Centre" in page
    ball = client.get(f"/items/{tiny_school.ball.id}").text
    assert "Available" in ball and "No loans recorded." in ball


@pytest.mark.parametrize("path", ["/people/999", "/items/999", "/no-such-page"])
def test_what_does_not_exist_is_a_plain_404(
    client: TestClient, tiny_school: TinySchool, path: str
) -> None:
    sign_in(client)
    r = client.get(path)
    assert r.status_code == 404
    assert "<h1>Not found</h1>" in r.text


def test_an_unknown_person_says_which(client: TestClient, tiny_school: TinySchool) -> None:
    sign_in(client)
    assert "There is no member of staff number 999." in client.get("/people/999").text


def test_the_live_stream_of_a_page_that_does_not_exist_is_404(client: TestClient) -> None:
    sign_in(client)
    assert client.get("/live?page=nope").status_code == 404


# --- downloads ------------------------------------------------------------------------------


def downloaded(client: TestClient, path: str, filename: str) -> tuple[bytes, list[dict[str, str]]]:
    """A CSV download as the browser gets it (a file named ``filename``): its bytes and rows."""
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="{filename}"'
    return r.content, list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_the_csv_download_is_the_same_file_as_the_cli_export(
    client: TestClient,
    service: LoanService,
    clock: ManualClock,
    tiny_school: TinySchool,
    tmp_path: Path,
) -> None:
    morning(service, clock, tiny_school)
    tap(service, clock, TinySchool.CAMERA)
    sign_in(client)
    content, rows = downloaded(client, "/export/loans.csv", "loans-2026-11-23.csv")
    export_loans(tmp_path / "cli.csv", service.calendar)
    assert content == (tmp_path / "cli.csv").read_bytes()
    assert [row["item"] for row in rows] == ["Class camera 5B", "Trip phone 1"]


def test_the_csv_is_spreadsheet_safe(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.PHONE)
    assert r.loan is not None
    service.set_due(r.loan.id, datetime(2026, 11, 23, 14, 0, tzinfo=UTC), trip="=HYPERLINK(1)")
    sign_in(client)
    text = client.get("/export/loans.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text


def test_the_csv_since_a_date(
    client: TestClient, service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    clock.advance(24 * 3600)
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.BALL)
    sign_in(client)
    _, rows = downloaded(
        client, "/export/loans.csv?since=2026-11-24", "loans-since-2026-11-24-2026-11-24.csv"
    )
    assert [row["item"] for row in rows] == ["PE ball bag"]


def test_a_csv_since_that_is_not_a_date_says_so(client: TestClient) -> None:
    sign_in(client)
    r = client.get("/export/loans.csv?since=last+monday")
    assert r.status_code == 400
    assert "&#39;last monday&#39; is not a date. Give one like 2026-09-01" in r.text


# --- own password ---------------------------------------------------------------------------


def change(
    client: TestClient, csrf: str, current: str, new: str, again: str | None = None
) -> httpx.Response:
    return client.post(
        "/password",
        data={
            "csrf": csrf,
            "current": current,
            "new": new,
            "again": new if again is None else again,
        },
    )


def test_changing_ones_own_password_signs_out_other_browsers(
    client: TestClient,
    settings: Settings,
    clock: ManualClock,
    accounts: Accounts,
    service: LoanService,
) -> None:
    csrf = sign_in(client)
    app = create_app(
        settings,
        clock,
        accounts,
        LoanService(settings, clock).queries,
        ChangeWatch(settings.kiosk.db),
    )
    with TestClient(app, follow_redirects=False) as other:
        sign_in(other)
        r = change(client, csrf, PASSWORD, "a new long passphrase")
        assert r.status_code == 200
        assert "Your password is changed." in r.text
        assert other.get("/").status_code == 303  # the other browser is signed out
    assert client.get("/").status_code == 200  # this one is not
    client.post("/signout", data={"csrf": csrf})
    assert sign_in(client, password="a new long passphrase")


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("not my password", "a new long passphrase", None, "The current password is not right."),
        (PASSWORD, "a new long passphrase", "a different one!!", "are not the same"),
        (PASSWORD, "short", None, "at least 10 characters"),
        (PASSWORD, "qwertyuiop", None, "one of the most common passwords"),
        (PASSWORD, "Liverpool2026!", None, "a common password with numbers or symbols added"),
        (PASSWORD, "s.evans is me here", None, "must not contain the account name"),
        (PASSWORD, PASSWORD, None, "the same as the current one"),
    ],
)
def test_a_password_change_that_cannot_be_made_says_why(
    client: TestClient, current: str, new: str, again: str | None, message: str
) -> None:
    csrf = sign_in(client)
    r = change(client, csrf, current, new, again)
    assert r.status_code == 400
    assert message in r.text
    client.post("/signout", data={"csrf": csrf})
    assert sign_in(client)  # the old password still works


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_password_change_without_the_session_token_is_refused(
    client: TestClient, token: str | None
) -> None:
    csrf = sign_in(client)
    data = {"current": PASSWORD, "new": "a new long passphrase", "again": "a new long passphrase"}
    if token is not None:
        data["csrf"] = token
    assert client.post("/password", data=data).status_code == 403
    client.post("/signout", data={"csrf": csrf})
    assert sign_in(client)  # unchanged


# --- every answer ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/signin", "/", "/export/loans.csv"])
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    if path != "/signin":
        sign_in(client)
    r = client.get(path)
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    assert re.fullmatch(r"app;dur=[\d.]+, cpu;dur=[\d.]+", r.headers["server-timing"])


def test_static_files_are_served_and_may_be_cached(client: TestClient) -> None:
    for path in ("/static/board.css", "/static/live.js"):
        r = client.get(path)
        assert r.status_code == 200 and "cache-control" not in r.headers


def test_nothing_can_be_changed_from_the_web(client: TestClient) -> None:
    """Read-only: no route but sign-in, sign-out and one's own password takes a POST."""
    from starlette.routing import Route

    posts = {
        r.path
        for r in client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, Route) and r.methods and "POST" in r.methods
    }
    assert posts == {"/signin", "/signout", "/password"}
    sign_in(client)
    for path in ("/", "/trips", "/problems", "/search", "/items/1", "/export/loans.csv"):
        assert client.post(path, data={}).status_code == 405


def test_the_days_csv_is_the_same_file_as_the_cli_export(
    client: TestClient,
    service: LoanService,
    clock: ManualClock,
    tiny_school: TinySchool,
    tmp_path: Path,
) -> None:
    morning(service, clock, tiny_school)
    tap(service, clock, TinySchool.CAMERA)
    sign_in(client)
    content, rows = downloaded(client, "/export/day.csv", "day-2026-11-23.csv")
    export_day(tmp_path / "cli.csv", day_report(service.queries), service.calendar)
    assert content == (tmp_path / "cli.csv").read_bytes()
    assert {row["item"] for row in rows} >= {"Class camera 5B", "Trip phone 1"}
    assert client.get("/export/day.csv?day=2026-11-23").content == content


def test_a_day_that_is_not_a_date_or_not_yet_is_refused_in_words(client: TestClient) -> None:
    sign_in(client)
    r = client.get("/export/day.csv?day=monday")
    assert r.status_code == 400
    assert "&#39;monday&#39; is not a date. Give one like 2026-11-23" in r.text
    r = client.get("/export/day.csv?day=2026-11-24")
    assert r.status_code == 400
    assert "has not happened yet" in r.text

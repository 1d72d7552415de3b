"""``kiosk web`` and its account commands as real processes, on loopback.

The server is the installed ``kiosk`` command with a kiosk.toml (``Served``); the test
writes loans through the loan service into the same file, as the kiosk does. The server's
clock starts on the tests' Monday 09:00 (KIOSK_CLOCK) and runs on from there.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

from kiosk.clock import ManualClock
from kiosk.loans import LoanService
from kiosk.settings import Settings
from tests.conftest import TinySchool, tap
from tests.web.conftest import PASSWORD, USERNAME, write_config
from tests.web.live_server import (
    DEADLINE,
    EventReader,
    Served,
    kiosk,
    live_url,
    signed_in_client,
)


def fingerprint(db: Path) -> str:
    """What is in the database file and its WAL (the web must never change either)."""
    h = hashlib.sha256()
    for f in (db, Path(f"{db}-wal")):
        if f.exists():
            h.update(f.read_bytes())
    return h.hexdigest()


def test_the_board_is_served_live_and_never_writes_the_kiosk_database(
    served: Served, service: LoanService, clock: ManualClock, settings: Settings
) -> None:
    with signed_in_client(served.url, USERNAME, PASSWORD) as browser:
        page = browser.get("/").text
        assert "Oakfield Primary" in page
        with EventReader(browser, live_url(page)) as stream:
            tap(service, clock, TinySchool.KHAN)
            tap(service, clock, TinySchool.CAMERA)
            assert "Amira Khan" in stream.until("out", "Class camera 5B").data
        before = fingerprint(settings.kiosk.db)
        for path in ("/", "/trips", "/search?q=khan", "/items/1", "/people/1", "/export/loans.csv"):
            assert browser.get(path).status_code == 200, path
        assert fingerprint(settings.kiosk.db) == before


def test_it_stops_at_once_on_sigterm_with_pages_open(served: Served) -> None:
    with signed_in_client(served.url, USERNAME, PASSWORD) as browser:
        page = browser.get("/").text
        with EventReader(browser, live_url(page)):
            served.proc.send_signal(signal.SIGTERM)
            assert served.proc.wait(DEADLINE) == 0


def test_it_tells_systemd_it_is_ready_and_pings_the_watchdog(
    web_config: Path, tmp_path: Path
) -> None:
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(address)
        systemd.settimeout(DEADLINE)
        s = Served(web_config, env={"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"})
        try:
            said = [systemd.recv(256).decode() for _ in range(3)]
        finally:
            s.stop_and_output()
    assert "READY=1" in said
    assert "WATCHDOG=1" in said


def test_it_listens_only_where_the_settings_say(served: Served) -> None:
    port = int(served.url.rsplit(":", 1)[1])
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route's address
        address = probe.getsockname()[0]
    except OSError:
        pytest.skip("this machine has no address but loopback to try")
    finally:
        probe.close()
    if address.startswith("127."):
        pytest.skip("this machine has no address but loopback to try")
    with pytest.raises(ConnectionRefusedError), socket.create_connection((address, port), 5):
        pass  # refused: nothing listens there
    with socket.create_connection(("127.0.0.1", port), 5):
        pass  # and on loopback, where the settings say, something does


def test_the_database_opened_by_the_web_refuses_writes(
    settings: Settings, tiny_school: TinySchool
) -> None:
    code = (
        "import sys; from kiosk.db import open_database_readonly, Staff;"
        f"open_database_readonly({str(settings.kiosk.db)!r});"
        "print(Staff.select().count());"
        "Staff.create(staff_id='X', name='Mallory')"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.stdout.strip() == "4"
    assert r.returncode != 0 and "readonly database" in r.stderr
    with sqlite3.connect(settings.kiosk.db) as con:
        assert con.execute("SELECT COUNT(*) FROM staff").fetchone()[0] == 4


def test_a_missing_database_says_to_start_the_kiosk_first(tmp_path: Path) -> None:
    r = kiosk("web", config=write_config(tmp_path))
    assert r.returncode == 4
    assert "does not exist yet. Start the kiosk first" in r.stderr


def test_a_database_from_an_older_kiosk_is_not_migrated_by_the_web(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parents[1] / "data" / "schema_v1.db", tmp_path / "kiosk.db")
    r = kiosk("web", config=write_config(tmp_path))
    assert r.returncode == 4
    assert "is from an older kiosk (schema 1" in r.stderr
    with sqlite3.connect(tmp_path / "kiosk.db") as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 1


def test_a_port_in_use_is_said_plainly(web_config: Path, served: Served) -> None:
    port = served.url.rsplit(":", 1)[1]
    r = kiosk("web", "--port", port, config=web_config)
    assert r.returncode == 3
    assert f"cannot listen on 127.0.0.1 port {port}" in r.stderr


@pytest.mark.parametrize(
    ("web", "message"),
    [
        (
            'tls_cert = "/nonexistent/cert.pem"\ntls_key = "/nonexistent/key.pem"\n',
            "[web] tls_cert: cannot read /nonexistent/cert.pem",
        ),
        ('tls_cert = "/etc/hostname"\n', "[web] tls_key: set both tls_cert and tls_key"),
        ("idle_minutes = 0\n", "[web] idle_minutes: must be at least 1"),
        ("port = 70000\n", "[web] port: expected 0 to 65535"),
        ('listen = "not an address!"\n', "[web] listen: expected an address"),
    ],
)
def test_bad_web_settings_stop_it_naming_the_key(
    tmp_path: Path, settings: Settings, tiny_school: TinySchool, web: str, message: str
) -> None:
    r = kiosk("web", config=write_config(tmp_path, web))
    assert r.returncode == 3, r.stderr
    assert message in r.stderr


def test_a_file_that_is_not_a_certificate_is_refused(
    tmp_path: Path, settings: Settings, tiny_school: TinySchool
) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    r = kiosk("web", config=write_config(tmp_path, f'tls_cert = "{junk}"\ntls_key = "{junk}"\n'))
    assert r.returncode == 3, r.stderr
    assert "not a certificate and its key" in r.stderr


def test_it_serves_https_with_a_certificate_and_secure_cookies(
    tmp_path: Path, web_config: Path
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: apt-get install openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with web_config.open("a") as fh:
        fh.write(f'tls_cert = "{cert}"\ntls_key = "{key}"\n')
    s = Served(web_config)
    try:
        assert s.url.startswith("https://127.0.0.1:")
        trust = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=s.url, verify=trust, timeout=DEADLINE) as c:
            r = c.get("/signin")
            assert r.status_code == 200 and "Secure" in r.headers["set-cookie"]
        with pytest.raises(httpx.HTTPError):  # plain http on the TLS port is not served
            httpx.get(s.url.replace("https://", "http://") + "/signin", timeout=DEADLINE)
    finally:
        s.stop_and_output()


# --- the account commands -------------------------------------------------------------------


def test_add_user_passwd_users_and_remove_user(web_config: Path) -> None:
    r = kiosk("web", "add-user", "a.head", "--name", "Alex Head", "--role", "slt",
              stdin="head teacher's long phrase\n", config=web_config)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Web account a.head made for Alex Head (Senior leadership).\n"
    listing = kiosk("web", "users", config=web_config).stdout
    assert "a.head" in listing and "Senior leadership" in listing and "s.evans" in listing
    r = kiosk("web", "passwd", "a.head", stdin="another long phrase here\n", config=web_config)
    assert r.returncode == 0 and "Password changed for a.head" in r.stdout
    r = kiosk("web", "remove-user", "a.head", config=web_config)
    assert r.returncode == 0 and r.stdout == "Web account a.head removed.\n"
    assert "a.head" not in kiosk("web", "users", config=web_config).stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("add-user", "s.evans", "--name", "Again"),
            "a long good passphrase\n",
            "already an account called 's.evans'",
        ),
        (("add-user", "new.one", "--name", "New One"), "short\n", "at least 10 characters"),
        (("add-user", "new.one", "--name", "New One"), "password1234\n", "common password"),
        (
            ("add-user", "bad name", "--name", "Bad"),
            "a long good passphrase\n",
            "is 1 to 64 letters",
        ),
        (("passwd", "nobody"), "a long good passphrase\n", "no account called 'nobody'"),
        (("remove-user", "nobody"), "", "no account called 'nobody'"),
    ],
)
def test_account_commands_refuse_saying_why_and_change_nothing(
    web_config: Path, args: tuple[str, ...], stdin: str, message: str
) -> None:
    before = kiosk("web", "users", config=web_config).stdout
    r = kiosk("web", *args, stdin=stdin, config=web_config)
    assert r.returncode == 1
    assert message in r.stderr and "Nothing changed." in r.stderr
    assert kiosk("web", "users", config=web_config).stdout == before


def test_no_accounts_yet_says_how_to_add_one(tmp_path: Path) -> None:
    r = kiosk("web", "users", config=write_config(tmp_path))
    assert r.returncode == 0
    assert "kiosk web add-user USERNAME" in r.stdout


def test_kiosk_status_does_not_load_the_web_framework() -> None:
    code = (
        "import sys; from kiosk.cli import build_parser; build_parser();"
        "print(' '.join(m for m in ('starlette', 'uvicorn', 'jinja2', 'argon2') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout + r.stderr

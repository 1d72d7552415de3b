"""``kiosk trust`` end to end as trust IT and a school's IT lead would run it, and the
credentials file's checks (who may read it, TLS for a server elsewhere)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.errors import ConfigError
from sync.trust.connect import check_conninfo, read_credentials
from tests.sync.trust.conftest import DATA, Kiosk, TrustDB, assert_replica_equals, write_credentials
from tests.sync.trust.pgcluster import PgCluster

GOOD = "host=/run/postgresql dbname=trust user=kiosk_x password=pw"


# --- the credentials file (no server needed) -------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o660, 0o666])
def test_a_credentials_file_others_can_read_or_change_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_credentials(tmp_path / "trust.conninfo", GOOD, mode)
    with pytest.raises(ConfigError, match=f"{path}.*chmod 640"):
        read_credentials(path)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o400])
def test_root_and_the_kiosk_user_only(tmp_path: Path, mode: int) -> None:
    path = write_credentials(tmp_path / "trust.conninfo", GOOD, mode)
    assert read_credentials(path) == GOOD


def test_a_missing_or_garbled_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist.*add-kiosk"):
        read_credentials(tmp_path / "absent")
    path = write_credentials(tmp_path / "two", GOOD + "\n" + GOOD)
    with pytest.raises(ConfigError, match="expected one line"):
        read_credentials(path)
    path = write_credentials(tmp_path / "bad", "host='unterminated")
    with pytest.raises(ConfigError, match="not a valid connection string"):
        read_credentials(path)


@pytest.mark.parametrize(
    "conninfo",
    [
        "host=trust.example.org dbname=trust user=k password=p",
        "host=trust.example.org sslmode=require dbname=trust",
        "host=trust.example.org sslmode=verify-ca sslrootcert=/etc/ssl/ca.pem",
        "host=127.0.0.1,trust.example.org sslmode=prefer",
        "hostaddr=192.0.2.10 dbname=trust",
        "postgresql://k:p@trust.example.org/trust",
    ],
)
def test_a_server_elsewhere_needs_certificate_checking(conninfo: str) -> None:
    with pytest.raises(ConfigError, match="verify-full"):
        check_conninfo(conninfo, "trust.conninfo")


def test_verify_full_needs_a_ca_that_exists(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sslrootcert"):
        check_conninfo("host=trust.example.org sslmode=verify-full", "f")
    with pytest.raises(ConfigError, match="no such file"):
        check_conninfo(f"host=trust.example.org sslmode=verify-full sslrootcert={tmp_path}/x", "f")
    ca = DATA / "trust-ca.crt"
    check_conninfo(f"host=trust.example.org sslmode=verify-full sslrootcert={ca}", "f")


@pytest.mark.parametrize(
    "conninfo", ["host=/run/postgresql", "host=localhost", "host=127.0.0.1", "host=::1", "dbname=x"]
)
def test_this_machine_needs_no_tls(conninfo: str) -> None:
    check_conninfo(conninfo, "f")


def test_kiosk_sync_refuses_to_start_naming_the_file(tmp_path: Path) -> None:
    creds = write_credentials(tmp_path / "trust.conninfo", GOOD, 0o644)
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndb = "{tmp_path / "k.db"}"\n[trust]\ncredentials = "{creds}"\n')
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "sync", "--once", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")},
    )
    assert done.returncode == 3
    assert str(creds) in done.stderr and "other users can read" in done.stderr


# --- end to end with the server -----------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_set_up_a_trust_and_a_kiosk_over_tls(
    pg: PgCluster,
    trust_db: TrustDB,
    kiosk_factory: object,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn = pg.conninfo(trust_db.name)
    assert "up to date" in run(capsys, "trust", "init", "--dsn", dsn)  # the fixture migrated
    school = trust_db.unique("elm")
    run(capsys, "trust", "add-school", school, "--name", "Elm Tree Primary", "--dsn", dsn)
    kiosk_id = trust_db.unique("elm-office")
    creds = tmp_path / "trust.conninfo"
    out = run(
        capsys, "trust", "add-kiosk", kiosk_id, "--school", school, "--dsn", dsn,
        "--host", "127.0.0.1", "--port", str(pg.port), "--ca", str(DATA / "trust-ca.crt"),
        "--write", str(creds),
    )  # fmt: skip
    assert f"written to {creds}" in out and "chmod 640" in out and "[trust]" in out
    assert creds.stat().st_mode & 0o777 == 0o600
    assert "sslmode=verify-full" in creds.read_text()

    assert callable(kiosk_factory)
    k: Kiosk = kiosk_factory("elm")
    k.sign_out("amira", "camera")
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndb = "{k.path}"\n[trust]\ncredentials = "{creds}"\n')
    out = run(capsys, "trust", "check", "--config", str(config))
    assert "over TLS, certificate checked" in out and kiosk_id in out and "Elm Tree Primary" in out
    out = run(capsys, "sync", "--once", "--config", str(config))
    assert "Trust: reconciled in full" in out
    k.conninfo = creds.read_text().strip()
    assert_replica_equals(trust_db, kiosk_id, k.path)
    out = run(capsys, "trust", "status", "--dsn", dsn)
    assert kiosk_id in out and "just now" in out

    # The wrong CA: the certificate check fails, with words saying so.
    wrong = tmp_path / "wrong.conninfo"
    write_credentials(wrong, creds.read_text().strip().replace(
        str(DATA / "trust-ca.crt"), str(DATA / "other-ca.crt")
    ))  # fmt: skip
    config.write_text(f'[kiosk]\ndb = "{k.path}"\n[trust]\ncredentials = "{wrong}"\n')
    assert main(["trust", "check", "--config", str(config)]) == 1
    assert "certificate" in capsys.readouterr().err

    # resync: every row again at the next pass.
    config.write_text(f'[kiosk]\ndb = "{k.path}"\n[trust]\ncredentials = "{creds}"\n')
    run(capsys, "trust", "resync", "--config", str(config))
    assert "reconciled in full" in run(capsys, "sync", "--once", "--config", str(config))


def test_add_reader_prints_a_login_for_one_school(
    pg: PgCluster, trust_db: TrustDB, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = pg.conninfo(trust_db.name)
    school = trust_db.school(trust_db.unique("ash"), "Ash Primary")
    out = run(capsys, "trust", "add-reader", trust_db.unique("ash"), "--school", school,
              "--host", "trust.example.org", "--dsn", dsn)  # fmt: skip
    assert "reads school" in out and "sslmode=verify-full" in out and "password=" in out

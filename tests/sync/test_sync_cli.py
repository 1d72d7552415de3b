"""``kiosk sync`` and the alerts line of ``kiosk status``, through the real CLI entry point."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from kiosk.cli import main
from kiosk.clock import CLOCK_ENV
from kiosk.db import Delivery, Outbox
from tests.sync.conftest import MONDAY_9AM, Hillside, Receiver, write_config


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.delenv("KIOSK_DB", raising=False)
    # The commands run on Monday 09:00 + 5 s, whatever the hour the suite runs at: after
    # 16:00 on a school day the real clock would add the end-of-day summary.
    monkeypatch.setenv(CLOCK_ENV, (MONDAY_9AM + timedelta(seconds=5)).isoformat())


def test_sync_once_then_status(
    tmp_path: Path,
    db_path: Path,
    hillside: Hillside,
    receiver: Receiver,
    hook_server: HTTPServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path / "kiosk.toml", db_path, hook_server.url_for("/hook"))
    hillside.service.report_lost(hillside.items["camera"].id, None, "Not on the shelf")
    assert main(["status", "--config", str(config)]) == 0
    assert "Alerts: last delivered never, 1 waiting, 0 failed." in capsys.readouterr().out

    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    assert main(["sync", "--once", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "1 delivered." in out
    assert "0 waiting, 0 failed." in out
    assert receiver.accepted == [Outbox.get().uid]

    assert main(["status", "--json", "--config", str(config)]) == 0
    alerts = json.loads(capsys.readouterr().out)["alerts"]
    assert alerts["waiting"] == 0 and alerts["failed"] == 0
    assert alerts["last_delivered_at"] == Delivery.get().delivered_at.isoformat()


def test_retry_failed_from_the_command_line(
    tmp_path: Path,
    db_path: Path,
    hillside: Hillside,
    receiver: Receiver,
    hook_server: HTTPServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path / "kiosk.toml", db_path, hook_server.url_for("/hook"))
    hillside.service.report_lost(hillside.items["camera"].id, None)
    hook_server.expect_oneshot_request("/hook").respond_with_data("", status=410)
    assert main(["sync", "--once", "--config", str(config)]) == 6  # a delivery failed
    out = capsys.readouterr().out
    assert "0 waiting, 1 failed." in out
    assert "says this address is gone" in out
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    assert main(["sync", "--once", "--retry-failed", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "1 failed deliveries will be tried again." in out
    assert "0 waiting, 0 failed." in out
    assert len(receiver.accepted) == 1


def test_bad_settings_exit_3_naming_the_key(
    tmp_path: Path,
    db_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path / "kiosk.toml", db_path, "https://slt.example/hook")
    config.write_text(config.read_text().replace('slt = ["slt_hook"]', 'slt = ["slt_hok"]'))
    assert main(["sync", "--once", "--config", str(config)]) == 3
    err = capsys.readouterr().err
    assert "kiosk.toml: [sync.routes] slt: 'slt_hok' is not a channel" in err


def test_new_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--new-secret"]) == 0
    assert capsys.readouterr().out.startswith("whsec_")


def test_a_bad_interval_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--interval", "0"]) == 1
    assert "--interval must be more than 0 seconds." in capsys.readouterr().err


def test_alerts_nobody_can_receive_are_said_and_exit_7(
    tmp_path: Path,
    db_path: Path,
    hillside: Hillside,
    hook_server: HTTPServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path / "kiosk.toml", db_path, hook_server.url_for("/hook"))
    loan = hillside.sign_out("amira", "trolley")
    hillside.service.report_damage(loan, "Cracked screen")  # for IT: no channel is set up
    assert main(["sync", "--once", "--config", str(config)]) == 7
    out = capsys.readouterr().out
    assert "0 delivered. Alerts: last delivered never, 1 waiting (1 for IT with no channel" in out
    assert (
        "1 alert for IT wait: no channel is set up for IT "
        "(add one under [sync.routes] it in the settings)." in out
    )
    assert main(["status", "--config", str(config)]) == 0
    assert "1 waiting (1 for IT with no channel set up)" in capsys.readouterr().out

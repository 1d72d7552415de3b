"""A damaged database found at start reaches IT through a real receiver, once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from kiosk.clock import CLOCK_ENV, ManualClock
from tests.conftest import MONDAY_9AM
from tests.damage import damage_oldest_rows, make_history
from tests.sync.conftest import SECRET, Receiver

KIOSK = str(Path(sys.executable).with_name("kiosk"))


def test_sync_sends_the_damage_alert_to_it(tmp_path: Path, hook_server: HTTPServer) -> None:
    db_path = tmp_path / "kiosk.db"
    make_history(db_path)
    damage_oldest_rows(db_path)
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\ndb = "{db_path}"\n\n[school]\nname = "Hillside Primary"\n\n'
        f'[sync.channels.it_hook]\ntype = "webhook"\nurl = "{hook_server.url_for("/it")}"\n'
        f'secret = "{SECRET}"\n\n[sync.routes]\nit = ["it_hook"]\n',
        encoding="utf-8",
    )
    # The kiosk runs on a pinned Monday 09:00 (KIOSK_CLOCK), and SLT's side agrees on the time.
    receiver = Receiver(clock=ManualClock(wall=MONDAY_9AM))
    hook_server.expect_request("/it").respond_with_handler(receiver.handle)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env[CLOCK_ENV] = MONDAY_9AM.isoformat()

    for _ in range(2):  # the second pass finds the same damage: nothing new to send
        r = subprocess.run(
            [KIOSK, "sync", "--once", "--config", str(config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        # 0, or 7 once the trip phone's overdue alerts wait with no channel for the office
        # or SLT (README: kiosk sync's exit codes); never a failure of the IT channel (6).
        assert r.returncode in (0, 7), r.stderr
        assert r.stderr.startswith("kiosk: warning: The database"), r.stderr
    # The first pass says the alert waits (it is sent in that pass); the next, that it went.
    assert r.stderr.strip().endswith("IT were sent an alert about it today."), r.stderr

    assert len(receiver.accepted) == 1 and receiver.rejected == 0
    body = receiver.bodies[receiver.accepted[0]]
    assert body["type"] == "kiosk.database_damaged"
    assert body["data"]["audience"] == "it"
    assert body["data"]["summary"] == "The kiosk's database is damaged"
    assert "kiosk restore" in body["data"]["note"]

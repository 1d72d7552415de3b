"""[sync] settings: channels and routes are checked at start, naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.errors import ConfigError
from kiosk.settings import Settings, load_settings
from tests.sync.conftest import SECRET

GOOD = f"""
[sync]
interval_seconds = 30
max_attempts = 8

[sync.smtp]
host = "smtp.office365.com"
port = 587
starttls = true
username = "kiosk@hillside.example"
password = "correct horse"
from_address = "kiosk@hillside.example"

[sync.channels.slt_hook]
type = "webhook"
url = "https://slt.hillside.example/kiosk"
secret = "{SECRET}"

[sync.channels.slt_teams]
type = "teams"
url = "https://prod-12.uksouth.logic.azure.com/workflows/abc/triggers/manual/paths/invoke"

[sync.channels.office_mail]
type = "email"
to = ["office@hillside.example"]

[sync.channels.it_mail]
type = "email"
to = ["it@hillside.example", "techsupport@hillside.example"]

[sync.routes]
office = ["office_mail"]
slt = ["slt_hook", "slt_teams"]
it = ["it_mail"]
lost = ["slt_hook", "slt_teams", "office_mail"]
"""


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, env=env or {}, required=True)


def test_a_full_example_loads(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD)
    assert s.sync.interval_seconds == 30
    assert s.sync.channels["it_mail"].to[1] == "techsupport@hillside.example"
    assert s.sync.channels_for("lost", "slt") == ["slt_hook", "slt_teams", "office_mail"]
    assert s.sync.channels_for("overdue_escalated", "slt") == ["slt_hook", "slt_teams"]
    assert s.sync.channels_for("damaged", "it") == ["it_mail"]


def test_environment_overrides_a_sync_key(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD, {"KIOSK_SYNC__TIMEOUT_SECONDS": "4.5"})
    assert s.sync.timeout_seconds == 4.5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('slt = ["slt_hook", "slt_teams"]', 'slt = ["slt_hook", "slt_temas"]'),
            "kiosk.toml: [sync.routes] slt: 'slt_temas' is not a channel",
        ),
        (("lost = [", "stolen = ["), "[sync.routes] stolen: unknown"),
        (
            ('type = "teams"', 'type = "slack"'),
            "[sync.channels.slt_teams] type: expected one of webhook, teams, email",
        ),
        (
            (f'secret = "{SECRET}"', 'secret = "hunter2"'),
            "[sync.channels.slt_hook] secret: expected a signing secret",
        ),
        (('url = "https://slt', 'url = "slt'), "[sync.channels.slt_hook] url"),
        (
            ('host = "smtp.office365.com"', 'host = ""'),
            "[sync.smtp] host: needed by email channel 'office_mail'",
        ),
        (('to = ["office@hillside.example"]', "to = []"), "[sync.channels.office_mail] to"),
        (("max_attempts = 8", "max_attempts = 0"), "[sync] max_attempts: must be at least 1"),
        (("max_attempts = 8", "max_attempts = 8\nretries = 3"), "[sync] retries: unknown key"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, GOOD.replace(old, new, 1))
    assert message in str(exc.value)

"""The unit files in systemd/: valid for systemd, hardened to their scores, in step with the CLI.

``systemd-analyze verify`` checks each unit as systemd would load it, including
that its ExecStart command exists: the units are copied to a temporary folder
with /opt/kiosk/venv pointing at this environment's installed ``kiosk``.
``systemd-analyze security --offline=yes`` scores the hardening (0 = locked
down, 10 = none); the goals are 1.5 for sync and backup, 2.0 for the screens.

Both need systemd-analyze 250 or later (Debian 12 has 252): on a machine
without it, ``apt-get install systemd`` (plus ``cage foot`` for the touch unit's
ExecStart). Missing tools are reported as skips that say so, never passed.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
UNIT_DIR = REPO / "systemd"
SERVICES = sorted(p.name for p in UNIT_DIR.glob("*.service"))
TIMERS = sorted(p.name for p in UNIT_DIR.glob("*.timer"))

#: Highest acceptable `systemd-analyze security` exposure per unit.
EXPOSURE_GOALS = {
    "kiosk.service": 2.0,
    "kiosk-touch.service": 2.0,
    "kiosk-sync.service": 1.5,
    "kiosk-backup.service": 1.5,
    "kiosk-web.service": 2.0,
}

#: Subcommands the units run that other branches add (the TUI's `run`, sync's `sync`).
#: Until they are merged their ExecStart cannot be checked; empty this set once they are.
PENDING_SUBCOMMANDS: set[str] = set()

INSTALLED_VENV = "/opt/kiosk/venv"


def analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed: apt-get install systemd (add to .ci/run)")
    first = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
    m = re.match(r"systemd (\d+)", first)
    assert m, f"cannot read the systemd version from {first!r}"
    if int(m.group(1)) < 250:
        pytest.skip(f"systemd-analyze {m.group(1)} has no --offline security review (needs 250+)")
    return tool


def exec_start(unit: str) -> list[str]:
    for line in (UNIT_DIR / unit).read_text().splitlines():
        if line.startswith("ExecStart="):
            return shlex.split(line.removeprefix("ExecStart="))
    raise AssertionError(f"{unit} has no ExecStart")


def test_every_service_has_a_goal_and_every_timer_a_service() -> None:
    assert set(SERVICES) == set(EXPOSURE_GOALS)
    for timer in TIMERS:
        assert timer.replace(".timer", ".service") in SERVICES


@pytest.mark.parametrize("unit", [*SERVICES, *TIMERS])
def test_unit_verifies_with_exec_start_at_the_installed_command(unit: str, tmp_path: Path) -> None:
    tool = analyze()
    kiosk = Path(sys.prefix) / "bin" / "kiosk"
    assert kiosk.is_file(), f"the kiosk command is not installed at {kiosk}"
    # All units side by side (a timer needs its service), ExecStart at this venv's kiosk.
    for name in [*SERVICES, *TIMERS]:
        text = (UNIT_DIR / name).read_text().replace(INSTALLED_VENV, sys.prefix)
        (tmp_path / name).write_text(text)
    service = unit.replace(".timer", ".service")
    missing = [a for a in exec_start(service) if a.startswith("/usr/bin/") and not Path(a).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: apt-get install cage foot (for .ci/run)")
    result = subprocess.run(
        [tool, "verify", str(tmp_path / unit)], capture_output=True, text=True, timeout=120
    )
    # verify only warns about unknown keys and bad values: any word about our files fails.
    ours = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if str(tmp_path) in line or any(n in line for n in [*SERVICES, *TIMERS])
    ]
    assert result.returncode == 0 and not ours, "\n".join(ours) or result.stderr


@pytest.mark.parametrize("unit", sorted(EXPOSURE_GOALS))
def test_exposure_score(unit: str, capsys: pytest.CaptureFixture[str]) -> None:
    tool = analyze()
    result = subprocess.run(
        [tool, "security", "--offline=yes", str(UNIT_DIR / unit)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert m, result.stdout[-500:] + result.stderr
    score = float(m.group(1))
    with capsys.disabled():
        sys.stdout.write(f"\n  {unit}: exposure {score} (goal <= {EXPOSURE_GOALS[unit]}) ")
    assert score <= EXPOSURE_GOALS[unit], result.stdout


@pytest.mark.parametrize("unit", SERVICES)
def test_exec_start_is_a_real_kiosk_subcommand(unit: str) -> None:
    argv = exec_start(unit)
    at = next(i for i, a in enumerate(argv) if a.endswith("/kiosk"))
    assert argv[at] == f"{INSTALLED_VENV}/bin/kiosk"
    args = argv[at + 1 :]
    parser = build_parser()
    known = {
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }
    if args[0] not in known and args[0] in PENDING_SUBCOMMANDS:
        pytest.skip(f"`kiosk {args[0]}` comes from another branch and is not in this build yet")
    assert args[0] in known, f"{unit} runs `kiosk {args[0]}`, which does not exist"
    try:
        parser.parse_args(args)
    except SystemExit as exc:
        pytest.fail(f"{unit}: `kiosk {' '.join(args)}` is not accepted by the CLI ({exc})")


def test_screen_units_are_the_kind_systemd_restarts() -> None:
    for unit in ("kiosk.service", "kiosk-touch.service"):
        text = (UNIT_DIR / unit).read_text()
        for line in (
            "Type=notify",
            "Restart=always",
            "DevicePolicy=closed",
            "RestrictAddressFamilies=AF_UNIX",
            "PrivateNetwork=yes",
            "StateDirectory=kiosk",
            "TTYPath=/dev/tty1",
        ):
            assert line in text.splitlines(), f"{unit}: {line}"
        assert re.search(r"^WatchdogSec=\d+", text, re.M), unit
        assert re.search(r"^Conflicts=.*\bgetty@tty1\.service", text, re.M), unit
    for unit in ("kiosk-sync.service", "kiosk-backup.service", "kiosk-web.service"):
        settings = [
            line for line in (UNIT_DIR / unit).read_text().splitlines() if not line.startswith("#")
        ]
        touching = [line for line in settings if "kiosk.service" in line or "kiosk-touch" in line]
        assert not touching, f"{unit} must not depend on or act on the screen's unit"


def test_foot_config_is_valid() -> None:
    foot = shutil.which("foot")
    if foot is None:
        pytest.skip("foot is not installed: apt-get install foot (add to .ci/run)")
    result = subprocess.run(
        [foot, "--check-config", f"--config={REPO / 'deploy' / 'foot.ini'}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_the_web_unit_is_a_watched_network_service_that_writes_only_its_state() -> None:
    lines = (UNIT_DIR / "kiosk-web.service").read_text().splitlines()
    for line in (
        "Type=notify",
        "Restart=always",
        "ExecStart=/opt/kiosk/venv/bin/kiosk web",
        "ProtectSystem=strict",
        "StateDirectory=kiosk",
        "User=kiosk",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    ):
        assert line in lines, line
    assert any(line.startswith("WatchdogSec=") for line in lines)
    assert any(line.startswith("MemoryMax=") for line in lines)

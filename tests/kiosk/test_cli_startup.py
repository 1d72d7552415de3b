"""What ``kiosk`` imports to run one subcommand: only that subcommand's module, and for
``kiosk status`` nothing of the screen, HTTP, PostgreSQL, a web framework or the loan
rules' writing side (on a Pi each module imported is felt at every command)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiosk import cli
from tests.kiosk.test_cli import clean_env

#: Never loaded by ``kiosk status``: what it does not use, and what is slow to import.
NOT_FOR_STATUS = [
    "textual",
    "rich",
    "requests",
    "urllib3",
    "psycopg",
    "starlette",
    "fastapi",
    "uvicorn",
    "jinja2",
    "gpiozero",
    "mfrc522",
    "kiosk.tui",
    "kiosk.loans.service",
    "kiosk.loans.taps",
    "kiosk.importer",
    "kiosk.csvfile",
    "kiosk.backup",
    "kiosk.exporter",
    "kiosk.commands.run",
    "kiosk.commands.imports",
    "ctypes.util",
    # The office's cards and the record parsers (and, through them, the tap sessions and
    # the reader's events) are for writing; importlib.abc brings importlib.resources.
    "kiosk.loans.cards",
    "kiosk.loans.state",
    "kiosk.records",
    "hardware.events",
    "importlib.resources",
    # No dataclass is made on the way (each is compiled as its module loads, see
    # kiosk.views): the settings, the views and the context are named tuples or classes.
    "dataclasses",
    # argparse finds the terminal's width with shutil unless it is told (cli._Help).
    "shutil",
]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return {
        name: p
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name, p in action.choices.items()
    }


def modules_loaded(argv: list[str], folder: Path) -> set[str]:
    """The modules in ``sys.modules`` when ``kiosk ARGV`` has finished (it must succeed)."""
    code = (
        "import json, sys, contextlib, io\n"
        "from kiosk.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({argv!r})\n"
        "assert code == 0, code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    return set(json_printed_by(code, folder))


def json_printed_by(code: str, folder: Path) -> Any:
    """The JSON that Python ``code``, run in a process of its own, prints last."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=clean_env(folder),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_table_names_each_subcommand_with_the_module_that_adds_it() -> None:
    everything = subcommands(cli.build_parser())
    assert set(cli.SUBCOMMANDS) == set(everything), (
        "kiosk.cli.SUBCOMMANDS must list every subcommand (a missing one is slower to start)"
    )
    for name, module in cli.SUBCOMMANDS.items():
        alone = subcommands(cli.build_parser(name))
        assert name in alone, f"{module} does not add `kiosk {name}`"
        assert module in cli.COMMANDS


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["status", "--json"], "status"),
        (["-v", "import", "staff", "x.csv"], "import"),
        (["--help"], None),
        (["-v", "--version"], None),
        (["stauts"], "stauts"),  # mistyped: the whole parser says what exists
        ([], None),
    ],
)
def test_the_subcommand_is_the_first_word_that_is_not_an_option(
    argv: list[str], command: str | None
) -> None:
    assert cli._command_in(argv) == command


def test_a_mistyped_subcommand_still_lists_them_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["stauts"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'stauts'" in err
    for name in ("status", "import", "run", "backup"):
        assert name in err


def test_help_of_one_subcommand_is_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["status", "--help"])
    assert exc.value.code == 0
    assert "--json" in capsys.readouterr().out


def test_status_loads_nothing_it_does_not_use(tmp_path: Path) -> None:
    loaded = modules_loaded(["status", "--db", str(tmp_path / "k.db")], tmp_path)
    assert "kiosk.loans.queries" in loaded  # the check sees what status does use
    found = sorted(
        m for m in loaded for bad in NOT_FOR_STATUS if m == bad or m.startswith(bad + ".")
    )
    assert not found, f"kiosk status imported {found}"
    others = {m for m in loaded if m.startswith("kiosk.commands.")}
    assert others == {"kiosk.commands.status"}


def test_status_json_needs_no_more(tmp_path: Path) -> None:
    loaded = modules_loaded(["status", "--json", "--db", str(tmp_path / "k.db")], tmp_path)
    assert "kiosk.loans.service" not in loaded and "textual" not in loaded


def test_the_kiosk_command_loads_its_modules_without_the_collector_and_works_with_it(
    tmp_path: Path,
) -> None:
    # As the installed ``kiosk`` script starts (kiosk.launch), with a spy on the moment the
    # subcommand's module is loaded (building the parser) and on the command's own work.
    code = (
        "import gc, json, sys, contextlib, io\n"
        "import kiosk.cli, kiosk.commands.status as status\n"
        "seen = {}\n"
        "build, work = kiosk.cli.build_parser, status.run\n"
        "def spy_build(*a):\n"
        "    seen['loading'] = gc.isenabled()\n"
        "    return build(*a)\n"
        "def spy_work(args):\n"
        "    seen['working'] = gc.isenabled()\n"
        "    seen['frozen'] = gc.get_freeze_count()\n"
        "    return work(args)\n"
        "kiosk.cli.build_parser, status.run = spy_build, spy_work\n"
        f"sys.argv = ['kiosk', 'status', '--db', {str(tmp_path / 'k.db')!r}]\n"
        "from kiosk.launch import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main() == 0\n"
        "print(json.dumps(seen))\n"
    )
    seen = json_printed_by(code, tmp_path)
    assert seen["loading"] is False, "the collector ran while the modules loaded"
    assert seen["working"] is True, "the command worked without the collector"
    # What start-up made is out of the collector's sight: no collection looks at it.
    assert seen["frozen"] > 1000


def test_the_screen_says_it_is_ready_before_it_loads_the_screens_of_a_tap(
    tmp_path: Path,
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\ndb = "{tmp_path / "k.db"}"\n\n'
        '[hardware]\nreaders = ["keyboard"]\nfeedback = "none"\n'
    )
    loaded = modules_loaded(["run", "--config", str(config), "--exit-when-ready"], tmp_path)
    assert "kiosk.tui.screens.idle" in loaded  # the check sees what the idle screen uses
    # The router and the screens it shows come with the warm-up, after READY=1.
    early = sorted(
        m
        for m in loaded
        if m == "kiosk.tui.router"
        or m in {f"kiosk.tui.screens.{s}" for s in ("session", "done", "checklist", "refusal")}
    )
    assert not early, f"loaded before the kiosk was ready: {early}"


def test_help_is_as_wide_as_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Told the width (not finding it with shutil), help still fits the terminal."""
    monkeypatch.setenv("COLUMNS", "50")
    narrow = cli.build_parser("status").format_help()
    monkeypatch.setenv("COLUMNS", "200")
    wide = cli.build_parser("status").format_help()
    assert max(len(line) for line in narrow.splitlines()) <= 48
    assert max(len(line) for line in wide.splitlines()) > 50
    monkeypatch.setenv("COLUMNS", "0")  # not set, as shutil reads it: the terminal, or 80
    assert max(len(line) for line in cli.build_parser("status").format_help().splitlines()) <= 78

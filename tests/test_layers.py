"""The dependency rule from DESIGN.md, checked by importing each module in a fresh interpreter.

- Nothing outside ``kiosk.tui`` loads ``textual`` when imported (the CLI stays fast, and
  ``hardware`` and ``sync`` never depend on the screen).
- The service layer also never loads ``gpiozero``, ``requests`` or ``mfrc522``.
- ``hardware`` knows nothing of loans: it never loads ``kiosk``.
- The web framework (Starlette, uvicorn, Jinja2) is loaded only by ``kiosk.web``; the web
  accounts (``kiosk.accounts``) load none of it, so the admin screen can use them.
New modules are picked up automatically.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

SERVICE_LAYER = [
    "kiosk.accounts",
    "kiosk.calendar",
    "kiosk.clock",
    "kiosk.db",
    "kiosk.errors",
    "kiosk.exporter",
    "kiosk.importer",
    "kiosk.records",
    "kiosk.retention",
    "kiosk.alerts",
    "kiosk.journal",
    "kiosk.loans",
    "kiosk.loans.followups",
    "kiosk.loans.mapper",
    "kiosk.loans.people",
    "kiosk.loans.pins",
    "kiosk.loans.queries",
    "kiosk.loans.rows",
    "kiosk.loans.service",
    "kiosk.loans.state",
    "kiosk.loans.taps",
    "kiosk.loans.undo",
    "kiosk.settings",
    "kiosk.settings.checks",
    "kiosk.settings.loader",
    "kiosk.settings.schema",
    "kiosk.views",
]


def modules(package: str) -> list[str]:
    path = ROOT / package
    found = [package]
    for info in pkgutil.walk_packages([str(path)], prefix=f"{package}."):
        if not info.name.startswith("kiosk.tui"):
            found.append(info.name)
    return sorted(found)


def loaded_by(module: str, watch: tuple[str, ...]) -> list[str]:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(' '.join(m for m in {watch!r} if m in sys.modules))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


@pytest.mark.parametrize("module", modules("kiosk") + modules("hardware") + modules("sync"))
def test_no_module_outside_the_tui_loads_textual(module):
    assert loaded_by(module, ("textual",)) == []


@pytest.mark.parametrize("module", SERVICE_LAYER)
def test_service_layer_loads_no_hardware_or_http_library(module):
    assert (
        loaded_by(module, ("textual", "gpiozero", "requests", "mfrc522", "RPi", "spidev", "evdev"))
        == []
    )


@pytest.mark.parametrize("module", modules("hardware"))
def test_hardware_knows_nothing_of_loans(module):
    assert loaded_by(module, ("kiosk",)) == []


def test_service_layer_list_is_complete():
    """A new headless module must be added to SERVICE_LAYER (or be a known non-service one)."""
    known = set(SERVICE_LAYER) | {"kiosk", "kiosk.cli"}
    headless = {m for m in modules("kiosk") if not m.startswith("kiosk.commands")}
    assert headless - known <= {
        m
        for m in headless
        if m.startswith(
            ("kiosk.demo", "kiosk.sdnotify", "kiosk.backup", "kiosk.board", "kiosk.web")
        )
    }


WEB_FRAMEWORK = ("starlette", "uvicorn", "jinja2", "fastapi", "httpx", "httpx2")


@pytest.mark.parametrize(
    "module",
    [m for m in modules("kiosk") + modules("sync") if not m.startswith("kiosk.web")],
)
def test_only_the_web_board_loads_a_web_framework(module):
    assert loaded_by(module, WEB_FRAMEWORK) == []

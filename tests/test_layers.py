"""The dependency rule from DESIGN.md, checked by importing each module in a fresh interpreter.

- Nothing outside ``kiosk.tui`` loads ``textual`` when imported (the CLI stays fast, and
  ``hardware`` and ``sync`` never depend on the screen).
- The service layer also never loads ``gpiozero``, ``requests`` or ``mfrc522``.
- ``hardware`` knows nothing of loans: it never loads ``kiosk``.
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
    "kiosk.calendar",
    "kiosk.clock",
    "kiosk.db",
    "kiosk.errors",
    "kiosk.exporter",
    "kiosk.importer",
    "kiosk.integrity",
    "kiosk.records",
    "kiosk.retention",
    "kiosk.service",
    "kiosk.settings",
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
        if m.startswith(("kiosk.demo", "kiosk.sdnotify", "kiosk.backup", "kiosk.board"))
    }

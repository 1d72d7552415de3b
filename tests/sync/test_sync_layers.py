"""``kiosk status`` shows the alerts line without loading HTTP (tests/test_layers.py
checks that sync never loads the TUI)."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_status_summary_does_not_import_requests() -> None:
    modules = loaded_after("import sync.status, kiosk.commands.status")
    assert "requests" not in modules
    assert "textual" not in modules

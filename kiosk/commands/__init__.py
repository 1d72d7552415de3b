"""Subcommands of ``kiosk``, one module each; see ``kiosk.cli``.

Output for people goes through ``out`` (stdout) and ``err`` (stderr): it is the
command's result, not a log. Diagnostics go to logging.
"""

from __future__ import annotations

import sys


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    sys.stderr.write(text + "\n")

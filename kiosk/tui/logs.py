"""Keep log lines off the kiosk's screen.

The screen owns the terminal: a log line written to stderr would be drawn over
it. While the app runs, logging goes to the system journal (``/dev/log``, on
the Pi under systemd) or else to a file beside the database.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

_JOURNAL = Path("/dev/log")


def log_away_from_screen(fallback: Path) -> logging.Handler:
    """Replace the root logger's stream handlers; returns the handler now in use."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
            root.removeHandler(h)
    handler: logging.Handler
    if _JOURNAL.exists():
        handler = logging.handlers.SysLogHandler(address=str(_JOURNAL))
        handler.setFormatter(logging.Formatter("kiosk: %(levelname)s %(name)s: %(message)s"))
    else:
        fallback.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(fallback, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return handler

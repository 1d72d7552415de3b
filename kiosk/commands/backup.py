"""``kiosk backup`` and ``kiosk restore``: the nightly copy, and getting one back.

``kiosk-backup.timer`` runs ``kiosk backup`` every night; the IT lead runs
``kiosk restore FILE`` by hand after a failed card or a bad day. The work is in
``kiosk.backup``; this module turns settings and options into a call and the
result into a few plain lines.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from kiosk import backup as bk
from kiosk import integrity
from kiosk.cli import add_common, load_from_args
from kiosk.clock import clock_from_env
from kiosk.commands import out
from kiosk.db import open_database
from kiosk.errors import StorageError
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "backup",
        help="copy the database safely (also while the kiosk runs), check it, rotate old copies",
    )
    add_common(p)
    p.add_argument(
        "--dest", type=Path, default=None, help="backup folder (default [backup] dir in settings)"
    )
    p.add_argument(
        "--keep-daily", type=_count, default=None, metavar="N", help="days to keep (default 7)"
    )
    p.add_argument(
        "--keep-weekly", type=_count, default=None, metavar="N", help="weeks to keep (default 4)"
    )
    p.add_argument(
        "--copy-to",
        type=Path,
        default=None,
        metavar="DIR",
        help="also copy to this mounted share or drive (default [backup] copy_to)",
    )
    p.set_defaults(func=run_backup)

    r = sub.add_parser("restore", help="put a backup back in place of the database")
    add_common(r)
    r.add_argument("file", type=Path, metavar="FILE", help="the backup to restore")
    r.add_argument(
        "--force",
        action="store_true",
        help="restore even though the database looks in use (stop the kiosk first instead)",
    )
    r.set_defaults(func=run_restore)


def _backup_dir(args: argparse.Namespace, db: Path, configured: Path | None) -> Path:
    return getattr(args, "dest", None) or configured or db.parent / "backups"


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.0f} kB"


def run_backup(args: argparse.Namespace) -> int:
    settings = load_from_args(args)
    db = settings.kiosk.db
    conf = settings.backup
    try:
        result = bk.backup(
            db,
            _backup_dir(args, db, conf.dir),
            keep_daily=conf.keep_daily if args.keep_daily is None else args.keep_daily,
            keep_weekly=conf.keep_weekly if args.keep_weekly is None else args.keep_weekly,
            copy_to=args.copy_to or conf.copy_to,
        )
    except bk.DamagedDatabase as exc:
        told = _tell_it(exc, settings)
        raise bk.DamagedDatabase(f"{exc} {told}", exc.path, exc.problems) from None
    out(f"Backed up {db} to {result.path} ({_size(result.size)}, checked: OK).")
    if result.copied_to:
        out(f"Copied to {result.copied_to}.")
    if result.removed:
        out(f"Removed {len(result.removed)} old backup(s).")
    return 0


def _tell_it(damage: bk.DamagedDatabase, settings: Settings) -> str:
    """The nightly check found damage: queue the alert for IT in the database itself."""
    try:
        db = open_database(damage.path)
    except StorageError as exc:
        log.info("cannot open %s to alert IT: %s", damage.path, exc)
        return "No alert could be recorded for IT: tell the IT lead yourself."
    try:
        return integrity.raise_damage_alert(
            damage.problems, damage.path, clock_from_env(), settings
        )
    finally:
        db.close()


def run_restore(args: argparse.Namespace) -> int:
    settings = load_from_args(args)
    db = settings.kiosk.db
    result = bk.restore(
        db, args.file, keep_dir=_backup_dir(args, db, settings.backup.dir), force=args.force
    )
    rows = result.rows
    out(
        f"Restored {db} from {result.restored_from}: {rows.get('staff', 0)} staff, "
        f"{rows.get('item', 0)} items, {rows.get('loan', 0)} loans."
    )
    if result.previous:
        out(f"The database it replaced is kept at {result.previous}.")
    out("Start the kiosk again: sudo systemctl start kiosk kiosk-sync.timer kiosk-backup.timer")
    return 0

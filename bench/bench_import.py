"""Taps beside a big import (issue 11, section 3): the kiosk must not freeze while the
office imports.

A 10,000-person staff list is imported (the real ``kiosk import`` command, in its own
process) into the 1,000,000-loan school, changing every row, while this process taps
badge-then-item pairs as the kiosk screen does (same database settings), one tap every
``PACE`` seconds so that taps are spread over the whole import. The import runs
``RUNS`` times, alternating two files that differ in every row.

- tap p99 beside the import <= 250 ms; the worst tap is printed beside it;
- zero taps fail ("The database ... is busy" would reach the person at the kiosk);
- for context: the same taps with no import (what the machine gives at that moment:
  a shared machine's load shows here, not the import's), the import's wall time, and
  how long its apply holds the write lock (``kiosk.importer.apply``, in this process).
"""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.fixtures import ITEMS, STAFF, big_database, percentile
from kiosk.clock import ManualClock
from kiosk.db import SCREEN_WAL_AUTOCHECKPOINT, open_database
from kiosk.errors import KioskError
from kiosk.importer import apply, preview
from kiosk.loans import LoanService
from kiosk.settings import load_settings

log = logging.getLogger("bench.import")
KIOSK = str(Path(sys.executable).with_name("kiosk"))
ROWS = 10_000
RUNS = 3
PACE = 0.01


def staff_csv(path: Path, version: int) -> Path:
    """ROWS people; each ``version`` differs from the other in every row (known_as, email)."""
    path.write_text(
        "staff_id,name,known_as,role,classes,email,active\n"
        + "".join(
            f"T{i:05d},Teacher {i},Mx {i} v{version},staff,{i % 6 + 1}A,"
            f"t{i}.v{version}@school.example,yes\n"
            for i in range(ROWS)
        ),
        encoding="utf-8",
    )
    return path


def settings_file(folder: Path, db: Path) -> Path:
    path = folder / "kiosk.toml"
    path.write_text(f'[kiosk]\ndb = "{db}"\n', encoding="utf-8")
    return path


def kiosk_import(config: Path, csv: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [KIOSK, "import", "staff", str(csv), "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def apply_ms(service: LoanService, csv: Path) -> float:
    """How long applying a 10,000-row plan holds the write lock (the preview is outside)."""
    plan = preview("staff", csv, service.settings)
    t0 = time.perf_counter()
    apply(plan, service.settings, service.clock)
    return (time.perf_counter() - t0) * 1000


class Taps:
    """Badge-then-item pairs as the kiosk screen taps them, timed, with their failures."""

    def __init__(self, config: Path) -> None:
        self.settings = load_settings(config, env={})
        self.db = open_database(
            self.settings.kiosk.db, wal_autocheckpoint=SCREEN_WAL_AUTOCHECKPOINT
        )
        self.clock = ManualClock()
        self.service = LoanService(self.settings, self.clock)
        self.rng = random.Random(11)
        self.times: list[float] = []
        self.errors: list[str] = []

    def pair(self) -> None:
        badge = f"BA{self.rng.randint(5, STAFF):06X}"
        item = f"17{self.rng.randint(1, ITEMS):06X}"
        for uid in (badge, item):
            self.clock.advance(3)
            t0 = time.perf_counter()
            try:
                self.service.tap(uid, "bench")
            except KioskError as exc:
                self.errors.append(str(exc))
            self.times.append((time.perf_counter() - t0) * 1000)
            time.sleep(PACE)


def alone(config: Path, pairs: int) -> list[float]:
    """The same taps with no import running: what this machine gives at the moment."""
    taps = Taps(config)
    for _ in range(pairs):
        taps.pair()
    taps.db.close()
    return taps.times


def beside(config: Path, files: list[Path]) -> tuple[Taps, list[float], float]:
    """Tap while each file is imported in turn; returns (the taps, import wall ms, write
    lock ms of one more import applied here)."""
    taps = Taps(config)
    walls: list[float] = []
    for csv in files:
        started = time.perf_counter()
        proc = kiosk_import(config, csv)
        while proc.poll() is None:
            taps.pair()
        walls.append((time.perf_counter() - started) * 1000)
        _, stderr = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"kiosk import failed: {stderr.decode()}")
    locked = apply_ms(taps.service, files[-2] if len(files) > 1 else files[0])
    taps.db.close()
    return taps, walls, locked


def run() -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        folder = Path(tmp)
        big = big_database(folder / "big.db")
        config = settings_file(folder, big)
        first, second = staff_csv(folder / "a.csv", 1), staff_csv(folder / "b.csv", 2)
        setup = kiosk_import(config, first)  # the 10,000 people exist before the timing
        if setup.wait() != 0:
            raise RuntimeError("setting up the 10,000-person list failed")
        runs = [second if n % 2 == 0 else first for n in range(RUNS)]
        baseline = alone(config, 100)
        taps, walls, locked = beside(config, runs)
    for message in sorted(set(taps.errors)):
        log.warning("tap failed beside the import: %s", message)
    return {
        "import.tap_p99_alone_same_machine_now": {
            "value": round(percentile(baseline, 99), 1),
            "unit": "ms",
            "goal": "context",
        },
        "import.tap_worst_alone_same_machine_now": {
            "value": round(max(baseline), 1),
            "unit": "ms",
            "goal": "context",
        },
        "import.tap_p99_beside_10k_import": {
            "value": round(percentile(taps.times, 99), 1),
            "unit": "ms",
            "goal": "<= 250",
        },
        "import.tap_worst_beside_10k_import": {
            "value": round(max(taps.times), 1),
            "unit": "ms",
            "goal": "context",
        },
        "import.tap_errors_beside_10k_import": {
            "value": len(taps.errors),
            "unit": "taps",
            "goal": "== 0",
        },
        "import.taps_measured": {"value": len(taps.times), "unit": "taps", "goal": "context"},
        "import.write_lock_10k_rows_all_changed": {
            "value": round(locked, 1),
            "unit": "ms",
            "goal": "context",
        },
        "import.wall_10k_rows_all_changed": {
            "value": round(max(walls), 1),
            "unit": "ms",
            "goal": "context",
        },
    }

"""What the integrity checks cost (issue 11, storage faults), and what they buy.

- the start-up check on the 1,000,000-loan database (``kiosk.integrity.check_at_start``:
  the start tables only, since the file is far past ``WHOLE_FILE_AT_START_PAGES``),
  goal <= 20 ms so that ``kiosk status`` stays inside its 300 ms (bench_core measures
  the whole command);
- the same check on a database exactly at the threshold, where the whole file is
  checked at start: goal <= 100 ms;
- the whole-file ``quick_check`` of the 1M-loan database, which ``kiosk run`` does in the
  background after the screen is ready (context: why it is not done at start);
- taps while that background check runs: p99 against the p99 of the same taps without
  it, in the same run (goal at most 1.5 times; the absolute goal is bench_core's 3 ms).

Run alone: ``python -m bench storage``.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.bench_core import tap_latencies
from bench.fixtures import big_database, percentile
from kiosk import integrity
from kiosk.db import open_database

log = logging.getLogger("bench.storage")

#: Loans that make a database of about WHOLE_FILE_AT_START_PAGES pages.
LOANS_AT_THRESHOLD = 40_000


def start_check_ms(path: Path, runs: int = 7) -> tuple[float, bool, int]:
    """Median ms of the start-up check (a fresh open each time, as each command does)."""
    times = []
    whole = False
    pages = 0
    for _ in range(runs):
        db = open_database(path)
        pages = int(db.execute_sql("PRAGMA page_count").fetchone()[0])
        t0 = time.perf_counter()
        report = integrity.check_at_start(db)
        times.append((time.perf_counter() - t0) * 1000)
        whole = report.whole_file
        assert report.ok, report.problems
        db.close()
    return statistics.median(times), whole, pages


def whole_file_ms(path: Path, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        report = integrity.check_whole_file(path)
        assert report.ok, report.problems
        times.append(report.seconds * 1000)
    return statistics.median(times)


def taps_beside_background_check(path: Path) -> tuple[list[float], float]:
    """Tap times while the whole-file check runs on its own thread, as in ``kiosk run``."""
    done = threading.Event()
    took: list[float] = []

    def check() -> None:
        while not done.is_set():
            took.append(integrity.check_whole_file(path).seconds)

    worker = threading.Thread(target=check)
    worker.start()
    try:
        taps, _ = tap_latencies(path)
    finally:
        done.set()
        worker.join()
    return taps, sum(took)


def run() -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        folder = Path(tmp)
        big = big_database(folder / "big.db")
        at_threshold = big_database(folder / "threshold.db", loans=LOANS_AT_THRESHOLD)
        big_ms, big_whole, big_pages = start_check_ms(big)
        edge_ms, edge_whole, edge_pages = start_check_ms(at_threshold)
        whole_ms = whole_file_ms(big)
        alone, _ = tap_latencies(big)
        taps, checking = taps_beside_background_check(big)
    log.info(
        "1M loans: %d pages (whole file at start: %s); threshold database: %d pages (%s)",
        big_pages,
        big_whole,
        edge_pages,
        edge_whole,
    )
    return {
        "storage.start_check_1m_loans": {"value": round(big_ms, 2), "unit": "ms", "goal": "<= 20"},
        "storage.start_check_whole_file_at_threshold": {
            "value": round(edge_ms, 1),
            "unit": "ms",
            "goal": "<= 100",
        },
        "storage.threshold_database_pages": {
            "value": edge_pages,
            "unit": "pages",
            "goal": f"<= {integrity.WHOLE_FILE_AT_START_PAGES}",
        },
        "storage.whole_file_quick_check_1m_loans": {
            "value": round(whole_ms),
            "unit": "ms",
            "goal": "context",
        },
        "storage.tap_p99_1m_alone": {
            "value": round(percentile(alone, 99), 3),
            "unit": "ms",
            "goal": "context",
        },
        "storage.tap_p99_beside_background_check_1m": {
            "value": round(percentile(taps, 99), 3),
            "unit": "ms",
            "goal": "context",
        },
        "storage.tap_p99_ratio_beside_check_vs_alone": {
            "value": round(percentile(taps, 99) / percentile(alone, 99), 2),
            "unit": "x",
            "goal": "<= 1.5",
        },
        "storage.background_check_seconds_during_taps": {
            "value": round(checking, 1),
            "unit": "s",
            "goal": "context",
        },
    }


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO)
    for name, figure in run().items():
        sys.stdout.write(f"{name}: {figure['value']} {figure['unit']} (goal {figure['goal']})\n")

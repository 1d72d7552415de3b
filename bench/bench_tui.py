"""Benchmark of the kiosk screen on a school with a long history (1,000,000 loans).

Figures (goals from the kiosk screen issue):
- tap -> screen updated, p99 (ms): from a reader's emit to the result screen being
  on the stack and drawn, for badge, sign-out and return taps, under Pilot, headless;
- process start -> idle screen ready (s, wall): ``kiosk run --exit-when-ready`` as a
  subprocess until its "READY=1" to systemd, median of three;
- peak RSS (MB) of the process that ran the tap benchmark;
- CPU per tap (ms, all the process's threads), as context: a shared machine's other
  work does not count in it.

The tap figure is for a kiosk that has been running; the first tap of each kind after
start (once the kiosk has built the screens of a tap, ``KioskApp.warmed``) is
reported apart. ``run_budget`` measures the same inside a CPU budget (issue 15: 25% of
one core for a Raspberry Pi 4, bench/budget.py) with a Pi's goals.

The database is the shared 1,000,000-loan school of ``bench/fixtures.py`` (built
once, cached in ``bench/data/``), copied fresh for each run with 100 items out.
"""

from __future__ import annotations

import logging
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import fixtures
from bench.budget import CpuBudget
from bench.fixtures import json_from_child

if TYPE_CHECKING:
    from kiosk.tui.app import KioskApp

log = logging.getLogger("bench.tui")

DB = Path(__file__).parent / "data" / "tui-1m-loans.db"
#: Items with an open loan (the newest loan of each of the first OPEN items): the idle board.
OPEN = 100
#: Items the tap benchmark borrows and returns (the fixture has no home classes).
FREE_ITEMS = range(OPEN + 1, fixtures.ITEMS + 1)


def build_database(path: Path = DB) -> Path:
    """A fresh copy of the shared 1M-loan school (bench/fixtures.py), with 100 items out."""
    for suffix in ("", "-wal", "-shm"):  # a stale WAL beside a fresh copy would corrupt it
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    fixtures.big_database(path)
    con = sqlite3.connect(path)
    with con:
        con.execute(
            "UPDATE loan SET closed_at = NULL, closed_by_id = NULL, outcome = NULL, "
            "checklist = NULL WHERE id IN "
            f"(SELECT MAX(id) FROM loan WHERE item_id <= {OPEN} GROUP BY item_id)"
        )
    con.close()
    return path


async def _taps(
    db: Path,
    rounds: int,
    warmup: int = 4,
    timed: Callable[[KioskApp | None], None] | None = None,
    cpu: list[float] | None = None,
) -> tuple[list[float], list[float]]:
    """Badge + item (sign-out), then the item alone (return): each tap timed to the screen.

    Items are trolley keys, cameras, trip phones and other items in turn (a trip phone's
    sign-out shows the return-time screen). The first ``warmup`` rounds (one of
    each kind) build the screens that later
    taps fill in again; they are returned separately: (warm-up times, timed times).
    ``timed`` is called with the app when the timed rounds start and with None when they
    end (bench/profile_tui.py profiles between the two). ``cpu`` gets the process's CPU
    time of each timed tap (all its threads): unlike the wall time it does not count
    waiting for another program on a shared machine, and inside a CPU budget the wall
    time is roughly this divided by the budget.

    The harness waits on events, not by polling: in the app's own process, a loop that
    woke every half millisecond would spend the CPU budget it is meant to measure.
    """
    import asyncio
    import threading
    from datetime import UTC, datetime

    from hardware.base import NullFeedback, Reader
    from hardware.events import Emit, TagSeen
    from kiosk.clock import ManualClock
    from kiosk.db import open_database
    from kiosk.loans import LoanService
    from kiosk.settings import Settings
    from kiosk.tui.app import build_app
    from sync.status import AlertDesk

    class ThreadReader(Reader):
        """Emits from its own thread, as the RC522 and USB badge readers do."""

        name = "rc522"

        def start(self, emit: Emit) -> None:
            self.emit = emit

        def stop(self) -> None:
            """No device to release."""

        def feed(self, uid: str) -> None:
            t = threading.Thread(
                target=self.emit, args=(TagSeen(uid, self.name, time.monotonic()),)
            )
            t.start()

    open_database(db)
    clock = ManualClock(wall=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    settings = Settings()
    reader = ThreadReader()
    app = build_app(
        LoanService(settings, clock),
        [reader],
        NullFeedback(),
        alerts=AlertDesk(clock),
        clock=clock,
        console_colours=False,
        tune_gc=True,
        warm_up=True,
    )
    times: list[float] = []
    first: list[float] = []
    cpus: list[float] = []
    drawn = asyncio.Event()
    screen_drawn = app.screen_drawn

    def drawn_now() -> None:  # the result screen calls it after its first refresh
        screen_drawn()
        drawn.set()

    app.screen_drawn = drawn_now  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        while not (app.ready and app.warmed and app.screens_drawn and not app.busy):
            await pilot.pause(0.01)
        await pilot.pause(0.2)  # the idle screen settled

        async def tap(uid: str) -> None:
            clock.advance(3)  # past the double-tap window; inside the session
            drawn.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            reader.feed(uid)
            await drawn.wait()
            cpus.append(time.process_time() - cpu_started)
            times.append(app.last_drawn_at - started)
            while app.busy:  # let the status refresh the tap started finish, untimed
                await asyncio.sleep(0.005)

        items = list(FREE_ITEMS)
        for r in range(warmup + rounds):
            if r == warmup:
                first, times, cpus = times, [], []
                if timed is not None:
                    timed(app)
            staff, item = (r * 13) % fixtures.STAFF + 1, items[r % len(items)]
            await tap(f"BA{staff:06X}")
            await tap(f"17{item:06X}")
            clock.advance(30)  # end the session; the next tap of the item is a return
            await tap(f"17{item:06X}")
        if timed is not None:
            timed(None)
    if cpu is not None:
        cpu.extend(cpus)
    return first, times


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM).

    Not ``getrusage``'s ru_maxrss: Linux carries that across exec, so a child started
    by a parent that had grown large would report the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def _p99(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def tap_benchmark(rounds: int = 100) -> dict[str, float]:
    """Run in its own process (see ``run``) so that its peak memory is the app's alone."""
    import asyncio

    cpu: list[float] = []
    first, times = asyncio.run(_taps(DB, rounds, cpu=cpu))
    ms = sorted(t * 1000 for t in times)
    cpu_ms = sorted(t * 1000 for t in cpu)
    rss_mb = peak_rss_mb()
    return {
        "p99_ms": _p99(ms),
        "median_ms": statistics.median(ms),
        "cpu_median_ms": statistics.median(cpu_ms),
        "cpu_p99_ms": _p99(cpu_ms),
        "taps": len(ms),
        "first_max_ms": max(first) * 1000,
        "rss_mb": rss_mb,
    }


def start_to_idle(runs: int = 3, preexec: Callable[[], None] | None = None) -> float:
    """``kiosk run`` from process start to the idle screen drawn, median of ``runs``.

    The moment is the kiosk's own "READY=1" to systemd (sent once the idle screen's
    board is drawn), received on a notify socket of the bench's: what systemd waits
    for, and not the process's exit afterwards (``--exit-when-ready``), which is
    teardown, not start-up.
    """
    config = DB.with_suffix(".toml")
    # No reader or LEDs here: the keyboard reader, no feedback; the rest is production.
    config.write_text(
        f'[kiosk]\ndb = "{DB}"\n\n[hardware]\nreaders = ["keyboard"]\nfeedback = "none"\n'
    )
    kiosk = Path(sys.executable).parent / "kiosk"
    walls = []
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-notify-") as tmp:
        address = str(Path(tmp) / "notify")
        for _ in range(runs):
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
                notify.bind(address)
                notify.settimeout(120)
                started = time.perf_counter()
                child = subprocess.Popen(
                    [str(kiosk), "run", "--config", str(config), "--exit-when-ready"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env={"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": address},
                    preexec_fn=preexec,
                )
                try:
                    while b"READY=1" not in notify.recv(4096).split(b"\n"):
                        continue  # another notification (STATUS=...): wait for the next
                    walls.append(time.perf_counter() - started)
                finally:
                    _, err = child.communicate(timeout=120)
                Path(address).unlink()
            if child.returncode != 0:
                raise RuntimeError(f"kiosk run failed ({child.returncode}): {err.decode()}")
    return statistics.median(walls)


def measure(preexec: Callable[[], None] | None = None) -> dict[str, float]:
    """The tap benchmark in a process of its own, then start to idle; ``preexec`` runs in
    each measured process before it starts (it moves it into a CPU budget's cgroup)."""
    build_database()
    taps: dict[str, float] = json_from_child(
        "import json, bench.bench_tui as b; print(json.dumps(b.tap_benchmark()))",
        preexec=preexec,
    )
    taps["start_s"] = start_to_idle(preexec=preexec)
    return taps


def run() -> dict[str, dict[str, Any]]:
    m = measure()
    return {
        "tui_tap_to_screen_p99": {"value": round(m["p99_ms"], 1), "unit": "ms", "goal": "<= 25"},
        "tui_tap_to_screen_median": {
            "value": round(m["median_ms"], 1),
            "unit": "ms",
            "goal": "-",
        },
        "tui_first_taps_after_start_max": {
            "value": round(m["first_max_ms"], 1),
            "unit": "ms",
            "goal": "-",
        },
        "tui_tap_cpu_median": {"value": round(m["cpu_median_ms"], 1), "unit": "ms", "goal": "-"},
        "tui_tap_cpu_p99": {"value": round(m["cpu_p99_ms"], 1), "unit": "ms", "goal": "-"},
        "tui_start_to_idle": {"value": round(m["start_s"], 3), "unit": "s", "goal": "<= 0.8"},
        "tui_peak_rss": {"value": round(m["rss_mb"], 1), "unit": "MB", "goal": "<= 80"},
    }


def run_budget(budget: CpuBudget) -> dict[str, dict[str, Any]]:
    """The same figures inside the CPU budget, with a Pi's goals (issue 15)."""
    m = measure(budget.preexec)
    return {
        "tui.tap_to_screen_median_ms": {
            "value": round(m["median_ms"], 1),
            "unit": "ms",
            "goal": "<= 50",
        },
        "tui.tap_to_screen_p99_ms": {
            "value": round(m["p99_ms"], 1),
            "unit": "ms",
            "goal": "<= 100",
        },
        "tui.first_taps_after_start_max_ms": {
            "value": round(m["first_max_ms"], 1),
            "unit": "ms",
            "goal": "<= 150",
        },
        "tui.start_to_idle_s": {"value": round(m["start_s"], 3), "unit": "s", "goal": "<= 2"},
        "tui.tap_cpu_median_ms": {
            "value": round(m["cpu_median_ms"], 1),
            "unit": "ms",
            "goal": "context",
        },
        "tui.tap_cpu_p99_ms": {"value": round(m["cpu_p99_ms"], 1), "unit": "ms", "goal": "context"},
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    for name, r in run().items():
        sys.stdout.write(f"{name}: {r['value']} {r['unit']} (goal {r['goal']})\n")

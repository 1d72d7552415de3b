"""Where a tap's redraw spends its time: the tap benchmark of bench_tui under pyinstrument.

    python -m bench.profile_tui                   # full speed, 40 rounds (120 taps)
    python -m bench.profile_tui --cpu-budget 25   # inside the Pi budget (bench/budget.py)
    python -m bench.profile_tui --html tap.html   # the interactive view instead of text

Only the timed rounds are profiled (not start-up or the first tap of each kind). The UI
thread is profiled; the service thread's share shows as the time between a tap and its
result reaching the UI thread, printed first: "service" (reader thread, service call,
LEDs, the message back) and "screen" (router, filling the screen in, layout, compositor,
until the screen is drawn).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import bench_tui
from bench.budget import cpu_budget

if TYPE_CHECKING:
    from kiosk.tui.app import KioskApp


def profile(rounds: int, html: Path | None) -> dict[str, Any]:
    """In this process: the taps, profiled; returns the split and the report."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    arrived: list[float] = []
    started: list[float] = []

    def timed(app: KioskApp | None) -> None:
        if app is None:
            profiler.stop()
            return
        present, feed = app.present, app.readers[0].feed  # type: ignore[attr-defined]

        def presenting(result: Any) -> None:
            arrived.append(time.perf_counter())
            present(result)

        def feeding(uid: str) -> None:
            started.append(time.perf_counter())
            feed(uid)

        app.present = presenting  # type: ignore[method-assign]
        app.readers[0].feed = feeding  # type: ignore[attr-defined]
        profiler.start()

    bench_tui.build_database()
    _, times = asyncio.run(bench_tui._taps(bench_tui.DB, rounds, timed=timed))
    service = [(a - s) * 1000 for s, a in zip(started, arrived, strict=True)]
    screen = [t * 1000 - sv for t, sv in zip(times, service, strict=True)]
    if html is not None:
        html.write_text(profiler.output_html(), encoding="utf-8")
    return {
        "taps": len(times),
        "total_median_ms": statistics.median(t * 1000 for t in times),
        "service_median_ms": statistics.median(service),
        "screen_median_ms": statistics.median(screen),
        "service_max_ms": max(service),
        "screen_max_ms": max(screen),
        "report": profiler.output_text(unicode=False, color=False, show_all=True),
    }


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m bench.profile_tui")
    parser.add_argument("--cpu-budget", type=int, metavar="PERCENT")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--html", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.stdout.write(json.dumps(profile(args.rounds, args.html)) + "\n")
        return 0
    command = [sys.executable, "-m", "bench.profile_tui", "--child", "--rounds", str(args.rounds)]
    if args.html is not None:
        command += ["--html", str(args.html.resolve())]
    here = Path(__file__).parent.parent
    if args.cpu_budget is None:
        child = subprocess.run(command, check=True, capture_output=True, text=True, cwd=here)
    else:
        with cpu_budget(args.cpu_budget) as budget:
            child = subprocess.run(
                command,
                check=True,
                capture_output=True,
                text=True,
                cwd=here,
                preexec_fn=budget.preexec,
            )
    found = json.loads(child.stdout.strip().splitlines()[-1])
    sys.stdout.write(found.pop("report") + "\n")
    for key, value in found.items():
        sys.stdout.write(f"{key:<20} {value:.1f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run every benchmark module, print its figures against their goals, write results.json.

``python -m bench`` runs all ``bench_*.py`` modules; ``python -m bench core sync`` runs
only those. Each module's ``run()`` returns ``{"name": {"value", "unit", "goal"}}``.

``--cpu-budget 25`` also measures, inside a CPU quota of 25% of one core (a stand-in for
a Raspberry Pi 4, see bench/budget.py), the figures of every module that has
``run_budget(budget)``; they are written beside the others with the prefix ``pi25.``.
Where no quota can be set up here, the reason is printed and those figures are skipped.
``--budget-only`` skips the full-speed set (for working on the budget figures).

Every run first records how fast this machine is today (``bench/host.py``): the host's
speed moves from day to day, and the figures are read against it.
"""

from __future__ import annotations

import argparse
import compileall
import importlib
import json
import logging
import operator
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any

from bench import host
from bench.budget import BudgetUnavailable, cpu_budget

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"

_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt}


def meets(value: float, goal: str) -> str:
    parts = goal.split()
    if len(parts) != 2 or parts[0] not in _OPS:
        return ""
    return "ok" if _OPS[parts[0]](value, float(parts[1])) else "MISSED"


def _print(title: str, seconds: float, figures: dict[str, Any]) -> None:
    sys.stdout.write(f"\n{title} ({seconds:.0f} s)\n")
    for key, fig in figures.items():
        verdict = meets(float(fig["value"]), str(fig["goal"]))
        sys.stdout.write(
            f"  {key:<44} {fig['value']:>10} {fig['unit']:<8} goal {fig['goal']:<10} {verdict}\n"
        )
    sys.stdout.flush()


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="only these (core, tui, sync, ...)")
    parser.add_argument(
        "--cpu-budget",
        type=int,
        metavar="PERCENT",
        help="also measure inside a CPU quota of PERCENT%% of one core",
    )
    parser.add_argument(
        "--budget-only", action="store_true", help="with --cpu-budget: skip the full-speed set"
    )
    args = parser.parse_args(argv)
    if args.budget_only and args.cpu_budget is None:
        parser.error("--budget-only needs --cpu-budget PERCENT")
    return args


def compile_sources() -> None:
    """Byte-compile the kiosk's own code first, as ``deploy/install.sh`` does on a Pi.

    A checkout's ``__pycache__`` goes stale with every edit, and with
    ``PYTHONDONTWRITEBYTECODE`` set (as on some shells and CI runners) nothing writes it
    back: each measured process would compile every changed module again, a cost no
    installed kiosk pays, in every start and ``kiosk status`` figure.
    """
    for package in ("kiosk", "hardware", "sync"):
        compileall.compile_dir(HERE.parent / package, quiet=1)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    args = _parse(argv)
    compile_sources()
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    if args.modules:
        names = [n for n in names if n.removeprefix("bench_") in args.modules]
    started = time.perf_counter()
    results: dict[str, Any] = host.figures()
    _print(
        "this machine today (context for every figure: bench/host.py)",
        time.perf_counter() - started,
        results,
    )
    if not args.budget_only:
        for name in names:
            started = time.perf_counter()
            figures = importlib.import_module(f"bench.{name}").run()
            results.update(figures)
            _print(name, time.perf_counter() - started, figures)
    if args.cpu_budget is not None:
        budgeted = [
            n for n in names if hasattr(importlib.import_module(f"bench.{n}"), "run_budget")
        ]
        try:
            with cpu_budget(args.cpu_budget) as budget:
                sys.stdout.write(f"\nCPU budget: {budget.describe()}\n")
                started = time.perf_counter()
                floor = {budget.prefix + k: v for k, v in host.figures(budget.preexec).items()}
                results.update(floor)
                title = f"the interpreter at {args.cpu_budget}% of a core"
                _print(title, time.perf_counter() - started, floor)
                for name in budgeted:
                    started = time.perf_counter()
                    figures = {
                        budget.prefix + key: fig
                        for key, fig in importlib.import_module(f"bench.{name}")
                        .run_budget(budget)
                        .items()
                    }
                    results.update(figures)
                    _print(
                        f"{name} at {args.cpu_budget}% of a core",
                        time.perf_counter() - started,
                        figures,
                    )
                _, throttled = budget.throttled()
                if budgeted and not throttled:
                    # The quota never bit: these are not figures at a Pi's speed.
                    sys.stdout.write("the CPU quota was never reached: budget figures dropped\n")
                    results = {k: v for k, v in results.items() if not k.startswith(budget.prefix)}
        except BudgetUnavailable as exc:
            sys.stdout.write(
                f"\nno CPU quota can be set up here, so the {args.cpu_budget}% figures "
                f"({', '.join(budgeted)}) are skipped: {exc}\n"
            )
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"\nwrote {RESULTS}\n")
    missed = [k for k, f in results.items() if meets(float(f["value"]), str(f["goal"])) == "MISSED"]
    if missed:
        sys.stdout.write(f"missed: {', '.join(missed)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

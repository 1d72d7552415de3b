"""Run every benchmark module, print its figures against their goals, write results.json.

``python -m bench`` runs all ``bench_*.py`` modules; ``python -m bench core sync`` runs
only those. Each module's ``run()`` returns ``{"name": {"value", "unit", "goal"}}``.
"""

from __future__ import annotations

import importlib
import json
import logging
import operator
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"

_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt}


def meets(value: float, goal: str) -> str:
    parts = goal.split()
    if len(parts) != 2 or parts[0] not in _OPS:
        return ""
    return "ok" if _OPS[parts[0]](value, float(parts[1])) else "MISSED"


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if n.removeprefix("bench_") in argv]
    results: dict[str, Any] = {}
    for name in names:
        started = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        figures = module.run()
        results.update(figures)
        sys.stdout.write(f"\n{name} ({time.perf_counter() - started:.0f} s)\n")
        for key, fig in figures.items():
            verdict = meets(float(fig["value"]), str(fig["goal"]))
            sys.stdout.write(
                f"  {key:<44} {fig['value']:>10} {fig['unit']:<8} "
                f"goal {fig['goal']:<10} {verdict}\n"
            )
        sys.stdout.flush()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"\nwrote {RESULTS}\n")
    missed = [k for k, f in results.items() if meets(float(f["value"]), str(f["goal"])) == "MISSED"]
    if missed:
        sys.stdout.write(f"missed: {', '.join(missed)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

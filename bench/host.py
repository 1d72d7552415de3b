"""How fast this machine is today: context for every other figure.

The benchmarks run on shared virtual machines whose speed moves from day to day (the
same code's CPU per screen tap has been 7 ms one day and 14 ms another). A figure that
passes one day and misses the next may be the host, not the kiosk. So every run records
two references beside the figures, measured the same way each time:

- ``host.reference_cpu_ms``: the CPU time of a fixed piece of plain Python (dictionaries,
  strings, sorting: what the kiosk's own code does), median of five runs, each in a fresh
  process. CPU time, not wall time, so a CPU quota does not change it: inside the Pi
  budget it is the same figure, and the one to compare between days.
- ``host.python_start_ms`` (and ``pi25.host.python_start_ms`` inside the budget): a
  bare ``python -c pass`` from start to exit, median of nine: the floor under every start
  and ``kiosk status`` figure, which no kiosk code can go below.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.fixtures import json_from_child

#: A fixed workload: about 80 ms of CPU on the 2-core x86 machine the figures come from.
WORKLOAD = """
import json, time
started = time.process_time()
table = {}
for i in range(60_000):
    key = f"BA{i * 7919 % 100_003:06X}"
    table[key] = {"name": f"Staff Member {i}", "classes": (str(i % 6 + 1) + "A",), "n": i}
names = sorted(v["name"] for v in table.values() if v["n"] % 3)
text = "\\n".join(n.upper().ljust(24) for n in names[:20_000])
print(json.dumps({"cpu_ms": (time.process_time() - started) * 1000, "check": len(text)}))
"""


def reference_cpu_ms(preexec: Callable[[], None] | None = None) -> float:
    runs = [float(json_from_child(WORKLOAD, preexec=preexec)["cpu_ms"]) for _ in range(5)]
    return statistics.median(runs)


def python_start_ms(preexec: Callable[[], None] | None = None) -> float:
    runs = []
    for _ in range(9):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, preexec_fn=preexec)
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def figures(preexec: Callable[[], None] | None = None) -> dict[str, dict[str, Any]]:
    """The host's references; inside a budget, only the start (the CPU time is the same)."""
    start = {
        "host.python_start_ms": {
            "value": round(python_start_ms(preexec), 1),
            "unit": "ms",
            "goal": "context",
        }
    }
    if preexec is not None:
        return start
    return {
        "host.reference_cpu_ms": {
            "value": round(reference_cpu_ms(), 1),
            "unit": "ms",
            "goal": "context",
        },
        **start,
    }

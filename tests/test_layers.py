"""The dependency rules of DESIGN.md: import-linter's contracts, and no module in a cycle.

The contracts live in pyproject.toml ([tool.importlinter]); ``make check`` runs them too.
They read every import statement (inside functions and under TYPE_CHECKING as well), so
a lazy import cannot hide a dependency. One more check loads the headless modules in a
fresh interpreter and looks at what really got imported.
"""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).parents[1]
PACKAGES = ("kiosk", "hardware", "sync")


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def test_import_contracts_are_kept() -> None:
    r = subprocess.run(
        [_tool("lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in graph.find_modules_directly_imported_by(m) & modules:
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            group = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                group.append(n)
                if n == m:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert _cycles(graph, set(graph.modules)) == []


def _headless() -> list[str]:
    found = []
    for package in PACKAGES:
        found.append(package)
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            if not info.name.startswith(("kiosk.tui", "kiosk.web", "hardware.emulated")):
                found.append(info.name)
    return found


#: The only modules that import psycopg: replication and the trust's view (sync/trust).
PSYCOPG_MODULES = {"sync.trust.connect", "sync.trust.push", "sync.trust.schema", "sync.trust.view"}


def _loaded_after_importing(modules: list[str], watch: tuple[str, ...]) -> list[str]:
    """Which of ``watch`` a fresh interpreter has loaded after importing ``modules``."""
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(' '.join(m for m in {watch!r} if m in sys.modules))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_headless_modules_load_no_screen_when_imported() -> None:
    """What the static rules say, at run time: ``kiosk status`` never pays for Textual
    (nor, outside replication and the trust view, for psycopg)."""
    modules = [m for m in _headless() if m not in PSYCOPG_MODULES]
    assert _loaded_after_importing(modules, ("textual", "rich", "starlette", "psycopg")) == []


def test_replication_loads_no_screen_when_imported() -> None:
    watch = ("textual", "rich", "starlette")
    assert _loaded_after_importing(sorted(PSYCOPG_MODULES), watch) == []

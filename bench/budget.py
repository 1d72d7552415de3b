"""A CPU quota for the measured process: a stand-in for a Raspberry Pi's slower core.

A Pi 4 core runs Python at very roughly a quarter of this machine's speed. ``python -m
bench --cpu-budget 25`` measures the tap, screen, start and status figures in processes
held to 25% of one core by the kernel's CPU bandwidth control: a child cgroup is created,
each measured process is moved into it before it executes anything (``preexec``), and
the cgroup is removed afterwards. The period is short (10 ms) so the quota slows the
process evenly rather than stopping it for most of a long period.

cgroup v2 (``cpu.max``) is tried first, then v1 (``cpu.cfs_quota_us`` and
``cpu.cfs_period_us``). Where neither can be written (no root, a container without the
cpu controller, a v2 tree whose cpu controller cannot be delegated), ``cpu_budget``
raises ``BudgetUnavailable`` with the reason, and the budget figures are skipped: a
figure measured without the quota would be a full-speed figure with the wrong name.

The quota covers every thread of a process and its children, together: 25% means a
quarter of one core for the whole kiosk process, not per thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("bench.budget")

PERIOD_US = 10_000


class BudgetUnavailable(RuntimeError):
    """No CPU quota can be set up here; the message says why."""


@dataclass(frozen=True)
class CpuBudget:
    """A child cgroup with a CPU quota; ``preexec`` moves the calling process into it."""

    percent: int
    path: Path
    version: int  # 1 or 2

    @property
    def prefix(self) -> str:
        """The prefix of the figures measured inside it: ``pi25.``."""
        return f"pi{self.percent}."

    def preexec(self) -> None:
        """For ``subprocess``'s ``preexec_fn``: runs in the child between fork and exec."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def throttled(self) -> tuple[int, int]:
        """(periods, periods throttled) so far: proof that the quota was really applied."""
        stat = dict(
            line.split(maxsplit=1)
            for line in (self.path / "cpu.stat").read_text().splitlines()
            if line.strip()
        )
        return int(stat.get("nr_periods", 0)), int(stat.get("nr_throttled", 0))

    def describe(self) -> str:
        quota = PERIOD_US * self.percent // 100
        knob = "cpu.max" if self.version == 2 else "cpu.cfs_quota_us/cpu.cfs_period_us"
        share = f"{self.percent}% of one core"
        return f"{quota} us per {PERIOD_US} us ({share}), cgroup v{self.version} {knob}"


def _mounts() -> list[tuple[str, Path, str, str]]:
    """(root within the hierarchy, mount point, file system type, super options)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, rfields = left.split(), right.split()
        if len(fields) >= 5 and len(rfields) >= 3:
            found.append((fields[3], Path(fields[4]), rfields[0], rfields[2]))
    return found


def _own_cgroups() -> dict[str, str]:
    """Controller list (``""`` for v2) -> this process's path in that hierarchy."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        own[controllers] = path
    return own


def _within(mount_root: str, mount_point: Path, path: str) -> Path:
    relative = os.path.relpath(path, mount_root) if path.startswith(mount_root) else path
    return (mount_point / relative.lstrip("/")).resolve() if relative != "." else mount_point


def _v2(percent: int, name: str) -> Path:
    own = _own_cgroups().get("")
    mount = next(((r, p) for r, p, t, _ in _mounts() if t == "cgroup2"), None)
    if own is None or mount is None:
        raise BudgetUnavailable("no cgroup v2 hierarchy")
    base = _within(mount[0], mount[1], own)
    # The child goes under the nearest ancestor that already hands the cpu controller to
    # its children (a v2 cgroup with processes of its own cannot start doing so).
    parent: Path | None = None
    for candidate in (base, *base.parents):
        if not candidate.is_relative_to(mount[1]):
            break
        try:
            enabled = (candidate / "cgroup.subtree_control").read_text().split()
        except OSError:
            continue
        if "cpu" in enabled:
            parent = candidate
            break
    if parent is None:
        controllers = (mount[1] / "cgroup.controllers").read_text().split()
        raise BudgetUnavailable(
            f"no cgroup from {base} up to {mount[1]} hands the cpu controller to its "
            f"children (the hierarchy offers: {' '.join(controllers) or 'nothing'}; on a "
            "v1/v2 hybrid the cpu controller is on the v1 side)"
        )
    child = parent / name
    try:
        child.mkdir()
    except OSError as exc:
        raise BudgetUnavailable(f"cannot create {child}: {exc.strerror}") from exc
    try:
        (child / "cpu.max").write_text(f"{PERIOD_US * percent // 100} {PERIOD_US}")
    except OSError as exc:
        child.rmdir()
        raise BudgetUnavailable(f"cannot write {child / 'cpu.max'}: {exc.strerror}") from exc
    return child


def _v1(percent: int, name: str) -> Path:
    own = next((path for ctl, path in _own_cgroups().items() if "cpu" in ctl.split(",")), None)
    mount = next(
        ((r, p) for r, p, t, opts in _mounts() if t == "cgroup" and "cpu" in opts.split(",")),
        None,
    )
    if own is None or mount is None:
        raise BudgetUnavailable("no cgroup v1 cpu hierarchy is mounted")
    child = _within(mount[0], mount[1], own) / name
    try:
        child.mkdir()
    except OSError as exc:
        raise BudgetUnavailable(f"cannot create {child}: {exc.strerror}") from exc
    try:
        # Period first: a quota longer than the current period would otherwise be refused.
        (child / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (child / "cpu.cfs_quota_us").write_text(str(PERIOD_US * percent // 100))
    except OSError as exc:
        child.rmdir()
        raise BudgetUnavailable(f"cannot set the quota in {child}: {exc.strerror}") from exc
    return child


def _remove(budget: CpuBudget) -> None:
    procs = budget.path / "cgroup.procs"
    left = procs.read_text().split()
    if left:
        # A measured process that outlived its benchmark: back to where the bench runs.
        log.warning("processes %s were still in %s; moved out", " ".join(left), budget.path)
        for pid in left:
            with contextlib.suppress(OSError):
                (budget.path.parent / "cgroup.procs").write_text(pid)
    budget.path.rmdir()


@contextlib.contextmanager
def cpu_budget(percent: int) -> Iterator[CpuBudget]:
    """A child cgroup holding its processes to ``percent``% of one core; removed after.

    Raises ``BudgetUnavailable`` (with the reason for each cgroup version) when no quota
    can be set up on this machine.
    """
    if not 1 <= percent <= 100:
        raise ValueError(f"a CPU budget is a percentage of one core, 1-100, not {percent}")
    name = f"kiosk-bench-{os.getpid()}"
    reasons = []
    budget: CpuBudget | None = None
    for version, make in ((2, _v2), (1, _v1)):
        try:
            budget = CpuBudget(percent, make(percent, name), version)
            break
        except (BudgetUnavailable, OSError) as exc:
            reasons.append(f"v{version}: {exc}")
    if budget is None:
        raise BudgetUnavailable("; ".join(reasons))
    log.info("CPU budget: %s at %s", budget.describe(), budget.path)
    try:
        yield budget
    finally:
        periods, throttled = budget.throttled()
        log.info("CPU budget: throttled in %d of %d periods", throttled, periods)
        _remove(budget)

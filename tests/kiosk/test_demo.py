"""``kiosk demo`` twice on one machine: the second says so and leaves the first's database
alone. The lock is the kernel's (flock): it goes with the first process, however it ends."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.clock import ManualClock
from kiosk.demo import DemoInUse, DemoLock, seed_demo
from kiosk.settings import Settings
from tests.conftest import MONDAY_9AM
from tests.kiosk.test_cli import clean_env

KIOSK = str(Path(sys.executable).with_name("kiosk"))


def start_demo(db: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """``kiosk demo`` on ``db`` until its idle screen is ready (or it is refused)."""
    return subprocess.run(
        [KIOSK, "demo", "--db", str(db), "--exit-when-ready"],
        capture_output=True,
        text=True,
        env=clean_env(folder),
        timeout=60,
    )


def open_loans(db: Path) -> list[str]:
    """What is out, read without taking any lock the demo could notice."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sorted(
            r[0]
            for r in con.execute(
                "SELECT i.tag_uid FROM loan l JOIN item i ON i.id = l.item_id"
                " WHERE l.closed_at IS NULL"
            )
        )
    finally:
        con.close()


def test_a_second_lock_on_the_same_demo_is_refused_and_seeding_waits_for_none(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    seed_demo(db, Settings(), ManualClock(wall=MONDAY_9AM))
    before = db.read_bytes()
    with DemoLock(db):
        said = re.escape(f"Another kiosk demo is running on {db} (process {os.getpid()})")
        with pytest.raises(DemoInUse, match=said):
            DemoLock(db).acquire()
        with pytest.raises(DemoInUse, match=re.escape("kiosk demo --db /tmp/my-demo.db")):
            seed_demo(db, Settings(), ManualClock(wall=MONDAY_9AM))
    assert db.read_bytes() == before
    with DemoLock(tmp_path / "other.db"):  # another demo database is another lock
        seed_demo(db, Settings(), ManualClock(wall=MONDAY_9AM))


def test_a_demo_refused_while_another_process_holds_it_starts_once_that_one_is_killed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    seed_demo(db, Settings(), ManualClock(wall=MONDAY_9AM))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from kiosk.demo import DemoLock;"
            f"DemoLock({str(db)!r}).acquire(); print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        before = db.read_bytes()
        second = start_demo(db, tmp_path)
        assert second.returncode == 1
        assert second.stderr.strip() == (
            f"kiosk: Another kiosk demo is running on {db} (process {holder.pid}); it was left "
            "as it is. Close that one first, or give this one a database of its own: "
            "kiosk demo --db /tmp/my-demo.db"
        )
        assert db.read_bytes() == before
    finally:
        holder.kill()  # no clean exit: the kernel drops the lock with the process
        holder.wait(timeout=30)
    third = start_demo(db, tmp_path)
    assert third.returncode == 0, third.stderr


class Terminal:
    """``kiosk demo`` on a pseudo-terminal of its own, read as it draws."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def wait_for(self, text: bytes, seconds: float = 60.0) -> None:
        """Read what the screen draws until ``text`` appears (or the process ends)."""
        deadline = time.monotonic() + seconds
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0 and self.proc.poll() is None, self.seen[-2000:]
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:  # the screen closed
                    break
        assert text in self.seen

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


@pytest.fixture
def first_demo(tmp_path: Path) -> Iterator[Terminal]:
    db = tmp_path / "demo.db"
    term = Terminal([KIOSK, "demo", "--db", str(db)], clean_env(tmp_path))
    yield term
    term.kill()


def test_two_demos_on_one_machine_the_second_leaves_the_first_alone(
    tmp_path: Path, first_demo: Terminal
) -> None:
    db = tmp_path / "demo.db"
    first_demo.wait_for(b"Tap your badge")
    first_demo.type("B0000014\r")  # Ms Khan...
    first_demo.wait_for(b"Hello, Ms Khan")
    first_demo.type("CA00005B\r")  # ...borrows camera 5B in the first demo
    first_demo.wait_for(b"is yours")
    assert "CA00005B" in open_loans(db)
    second = start_demo(db, tmp_path)
    assert second.returncode == 1
    assert "Another kiosk demo is running on" in second.stderr
    assert f"(process {first_demo.proc.pid})" in second.stderr
    assert "CA00005B" in open_loans(db)  # the first one's loan is still there
    assert first_demo.proc.poll() is None  # and it is still running
    first_demo.kill()  # the first demo dies (a closed laptop lid, a kill -9)
    third = start_demo(db, tmp_path)
    assert third.returncode == 0, third.stderr
    assert "CA00005B" not in open_loans(db)  # a new demo starts from the seeded school

"""sd_notify against a real AF_UNIX datagram socket standing in for systemd's."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.base import Reader
from hardware.events import Emit, TagSeen
from kiosk import sdnotify


class FakeSystemd:
    """The receiving end of $NOTIFY_SOCKET: collects what the kiosk sends."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self.sock = sock
        self.env = {"NOTIFY_SOCKET": name}

    def receive(self, timeout: float) -> list[str]:
        """Every message that arrives within ``timeout`` seconds."""
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                got.append(self.sock.recv(4096).decode())
            except TimeoutError:
                break
        return got

    def wait_for(self, message: str, timeout: float = 5.0) -> list[str]:
        """Messages up to and including the first ``message``; fails after ``timeout``."""
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while message not in got:
            left = deadline - time.monotonic()
            assert left > 0, f"no {message!r} within {timeout}s; got {got}"
            self.sock.settimeout(left)
            try:
                got.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
        return got


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[FakeSystemd]:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        yield FakeSystemd(sock, str(path))


class LoopReader(Reader):
    """A reader whose loop runs on a thread, like the RC522's, and can be made to hang.

    ``alive()`` is true while the loop went round recently: a thread blocked in a
    driver call is still "running" but no longer alive.
    """

    name = "loop"

    def __init__(self) -> None:
        self._beat = 0.0
        self._stop = threading.Event()
        self._unstick = threading.Event()
        self.stuck = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, emit: Emit) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self._beat = time.monotonic()
                if self.stuck.is_set():
                    self._unstick.wait()  # as if an SPI transfer never returned
                time.sleep(0.01)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        emit(TagSeen("04A22B1A", self.name, time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._unstick.set()
        if self._thread:
            self._thread.join(timeout=2)

    def alive(self) -> bool:
        # A second without a turn of a 10 ms loop is stuck, even on a busy machine.
        return self._thread is not None and time.monotonic() - self._beat < 1.0


def test_ready_is_sent_after_the_readers_started(systemd: FakeSystemd) -> None:
    reader = LoopReader()
    seen: list[object] = []
    reader.start(seen.append)
    try:
        assert reader.alive()
        assert sdnotify.ready(systemd.env) is True
        assert systemd.receive(0.5) == ["READY=1"]
        assert seen, "the reader had started before READY"
    finally:
        reader.stop()


def test_watchdog_pings_while_alive_and_stops_when_the_reader_is_stuck(
    systemd: FakeSystemd,
) -> None:
    reader = LoopReader()
    reader.start(lambda _e: None)
    # WATCHDOG_USEC=200 ms: a ping every 100 ms.
    env = {**systemd.env, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": str(os.getpid())}
    dog = sdnotify.Watchdog(reader.alive, env=env)
    assert dog.interval == pytest.approx(0.1)
    try:
        assert dog.start() is True
        for _ in range(3):  # it keeps pinging while the reader is alive
            assert systemd.wait_for("WATCHDOG=1") == ["WATCHDOG=1"]

        reader.stuck.set()
        got = systemd.wait_for(
            "STATUS=A reader stopped responding; restarting the kiosk", timeout=15
        )
        assert set(got) <= {"WATCHDOG=1", got[-1]}
        assert dog.failed
        # Nothing more: systemd's timer runs out and it restarts the kiosk.
        assert systemd.receive(0.6) == []
    finally:
        dog.stop()
        reader.stop()


def test_a_failing_health_check_counts_as_not_alive(systemd: FakeSystemd) -> None:
    def broken() -> bool:
        raise RuntimeError("reader object gone")

    dog = sdnotify.Watchdog(broken, interval=0.05, env=systemd.env)
    dog.start()
    try:
        got = systemd.receive(0.4)
        assert "WATCHDOG=1" not in got
        assert dog.failed
    finally:
        dog.stop()


def test_abstract_namespace_socket() -> None:
    name = f"kiosk-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert sdnotify.status("Ready:\n2 readers", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(4096) == b"STATUS=Ready: 2 readers"


def test_outside_systemd_everything_is_a_quiet_no_op() -> None:
    assert sdnotify.ready({}) is False
    assert sdnotify.watchdog_ping({}) is False
    assert sdnotify.watchdog_interval({}) is None
    dog = sdnotify.Watchdog(lambda: True, env={})
    assert dog.start() is False
    dog.stop()


def test_a_socket_that_went_away_is_reported_not_raised(tmp_path: Path) -> None:
    assert sdnotify.ready({"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


def test_watchdog_meant_for_another_process_is_left_alone() -> None:
    env = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert sdnotify.watchdog_interval(env) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "soon"}) is None


def test_heartbeat_goes_stale_without_beats() -> None:
    now = [100.0]
    ui = sdnotify.Heartbeat(10, clock=lambda: now[0])
    assert ui.alive()
    now[0] += 9
    ui.beat()
    now[0] += 10
    assert ui.alive()
    now[0] += 0.5
    assert not ui.alive()

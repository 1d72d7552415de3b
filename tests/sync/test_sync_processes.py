"""Real ``kiosk sync`` processes: killed mid-delivery, two at once, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from kiosk.clock import CLOCK_ENV
from kiosk.db import Delivery, Item, Outbox
from tests.sync.conftest import MONDAY_9AM, Hillside, Receiver, write_config


def sync_process(config: Path, *args: str, later: float = 5.0) -> subprocess.Popen[str]:
    """``kiosk sync`` in a process of its own, its clock pinned ``later`` seconds after the
    school's (Monday 09:00): what it does cannot depend on the hour the suite runs at."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env[CLOCK_ENV] = (MONDAY_9AM + timedelta(seconds=later)).isoformat()
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "sync", "--config", str(config), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def lost_items(hillside: Hillside, n: int) -> list[str]:
    for i in range(n):
        item = Item.create(asset_tag=f"X{i}", name=f"Spare camera {i}", kind="camera")
        hillside.service.report_lost(item.id, None)
    return [o.uid for o in Outbox.select().order_by(Outbox.id)]


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_killed_after_the_2xx_before_marking_delivered_is_sent_again_with_the_same_id(
    tmp_path: Path,
    db_path: Path,
    hillside: Hillside,
    receiver: Receiver,
    hook_server: HTTPServer,
    processes: list[subprocess.Popen[str]],
) -> None:
    [key] = lost_items(hillside, 1)
    config = write_config(
        tmp_path / "kiosk.toml", db_path, hook_server.url_for("/hook"), lease_seconds=1
    )
    answered = threading.Event()
    held: list[sqlite3.Connection] = []

    def accept_then_hold_the_database(request: Request) -> Response:
        response = receiver.handle(request)
        # Take the database's write lock before answering 200: the sync process gets
        # its 2xx, then waits for the lock to record it, and is killed while waiting.
        conn = sqlite3.connect(db_path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
        held.append(conn)
        answered.set()
        return response

    hook_server.expect_oneshot_request("/hook").respond_with_handler(accept_then_hold_the_database)
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    first = sync_process(config, "--once")
    processes.append(first)
    assert answered.wait(30), first.communicate(timeout=5)
    time.sleep(0.5)
    assert first.poll() is None  # still waiting to write "delivered"
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    held[0].execute("ROLLBACK")
    held[0].close()

    row = Delivery.get()
    assert row.delivered_at is None  # the 200 was never recorded
    assert row.claimed_by is not None  # the dead process's lease is still on it
    assert receiver.received == [key]

    # A minute later on the kiosk's clock, the dead process's one-second lease has run out.
    second = sync_process(config, "--once", later=65.0)
    processes.append(second)
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert "1 delivered" in out
    assert receiver.received == [key, key]  # sent again, with the same webhook-id
    assert receiver.accepted == [key]  # and SLT's side shows it once
    row = Delivery.get()
    assert row.delivered_at is not None and row.claimed_by is None


def test_two_sync_processes_never_send_the_same_row_at_once(
    tmp_path: Path,
    db_path: Path,
    hillside: Hillside,
    receiver: Receiver,
    hook_server: HTTPServer,
    processes: list[subprocess.Popen[str]],
) -> None:
    keys = lost_items(hillside, 60)
    config = write_config(tmp_path / "kiosk.toml", db_path, hook_server.url_for("/hook"))
    lock = threading.Lock()
    in_flight: set[str] = set()
    overlaps: list[str] = []

    def slow_receiver(request: Request) -> Response:
        msg_id = request.headers["webhook-id"]
        with lock:
            if msg_id in in_flight:
                overlaps.append(msg_id)
            in_flight.add(msg_id)
        time.sleep(0.03)
        with lock:
            in_flight.discard(msg_id)
        return receiver.handle(request)

    hook_server.expect_request("/hook").respond_with_handler(slow_receiver)
    pair = [sync_process(config, "--once"), sync_process(config, "--once")]
    processes.extend(pair)
    outputs = [p.communicate(timeout=60) for p in pair]
    for proc, (_, err) in zip(pair, outputs, strict=True):
        assert proc.returncode == 0, err
    delivered = [int(out.split(" delivered")[0].split()[-1]) for out, _ in outputs]
    assert sum(delivered) == 60, outputs
    assert overlaps == []
    assert sorted(receiver.received) == sorted(keys)  # each exactly once
    assert Outbox.select().where(Outbox.delivered_at.is_null()).count() == 0


def test_sigterm_stops_the_running_process_cleanly(
    tmp_path: Path,
    db_path: Path,
    hillside: Hillside,
    receiver: Receiver,
    hook_server: HTTPServer,
    processes: list[subprocess.Popen[str]],
) -> None:
    [key] = lost_items(hillside, 1)
    config = write_config(tmp_path / "kiosk.toml", db_path, hook_server.url_for("/hook"))
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    proc = sync_process(config, "--interval", "0.2")
    processes.append(proc)
    deadline = time.monotonic() + 30
    while not receiver.accepted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.accepted == [key]
    time.sleep(0.3)  # a few idle passes
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Stopped." in out
    assert "1 delivered" in out


def test_sigterm_during_a_once_pass_records_every_2xx_before_exiting(
    tmp_path: Path,
    db_path: Path,
    hillside: Hillside,
    receiver: Receiver,
    hook_server: HTTPServer,
    processes: list[subprocess.Popen[str]],
) -> None:
    lost_items(hillside, 120)
    config = write_config(
        tmp_path / "kiosk.toml", db_path, hook_server.url_for("/hook"), workers=1, batch_size=8
    )

    def slow(request: Request) -> Response:
        time.sleep(0.02)
        return receiver.handle(request)

    hook_server.expect_request("/hook").respond_with_handler(slow)
    proc = sync_process(config, "--once")
    processes.append(proc)
    deadline = time.monotonic() + 30
    while len(receiver.received) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)  # systemd's time-out, or a shutdown
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    delivered = Delivery.select().where(Delivery.delivered_at.is_null(False)).count()
    assert 10 <= delivered < 120  # it stopped early...
    assert delivered == len(receiver.received)  # ...with every answered request recorded
    assert Delivery.select().where(Delivery.claimed_by.is_null(False)).count() == 0

"""Helpers for tests that need the board on a real socket: a server thread and an SSE reader.

``LiveServer`` runs the app from ``create_app`` under uvicorn on 127.0.0.1 in a thread of
the test process (so the test's ManualClock and database are the app's); ``Served`` is the
real ``kiosk web`` command in a process of its own (``kiosk`` runs its other commands);
``EventReader``
reads a live stream on a thread of its own and hands each event over through a queue, so
tests wait on events with a deadline, never on a sleep.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx2 as httpx
import uvicorn
from starlette.applications import Starlette

from kiosk.accounts import Accounts
from kiosk.clock import CLOCK_ENV, Clock
from kiosk.db import ChangeWatch
from kiosk.loans.queries import Queries
from kiosk.settings import Settings
from kiosk.web.app import create_app
from tests.conftest import MONDAY_9AM

#: How long a test waits for something that normally takes well under a second.
DEADLINE = 20.0

KIOSK = str(Path(sys.executable).with_name("kiosk"))


def clean_env() -> dict[str, str]:
    """This environment without the developer's KIOSK_* settings, on the tests' Monday 09:00
    (the server's clock starts there and runs on, whatever the hour the suite runs at)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env[CLOCK_ENV] = MONDAY_9AM.isoformat()
    return env


def kiosk(*args: str, stdin: str = "", config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KIOSK, *args, "--config", str(config)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        check=False,
    )


class Served:
    """A running ``kiosk web``: its address once it says it is serving."""

    def __init__(self, config: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [KIOSK, "web", "--config", str(config), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**clean_env(), **(env or {})},
        )
        self.url = ""
        self.stderr: list[str] = []
        started = threading.Event()

        def read_stdout() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                if line.startswith("Serving the ") and " board on " in line:
                    self.url = line.split(" on ")[1].split()[0].rstrip("/")
                    started.set()
            started.set()

        def read_stderr() -> None:
            assert self.proc.stderr is not None
            self.stderr.extend(self.proc.stderr)

        threading.Thread(target=read_stdout, daemon=True).start()
        self._err = threading.Thread(target=read_stderr, daemon=True)
        self._err.start()
        assert started.wait(DEADLINE * 3), "kiosk web did not start"
        assert self.url, f"kiosk web stopped: {self.stop_and_output()}"

    def stop_and_output(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(DEADLINE)
        self._err.join(DEADLINE)
        return "".join(self.stderr)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class LiveServer:
    def __init__(self, app: Starlette) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_config=None, lifespan="on", timeout_graceful_shutdown=1)
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._sock])), daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        assert self._server.ready.wait(DEADLINE), "the web app did not start"
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(DEADLINE)
        self._sock.close()


@contextmanager
def live_board(
    settings: Settings, clock: Clock, accounts: Accounts, queries: Queries
) -> Iterator[LiveServer]:
    """The school's board on loopback over the test's database, quick to notice a change
    (polled every 0.05 s, keep-alives every 0.2 s, sessions re-checked every 0.1 s)."""
    app = create_app(
        settings,
        clock,
        accounts,
        queries,
        ChangeWatch(settings.kiosk.db),
        keepalive_seconds=0.2,
        session_check_seconds=0.1,
        poll_seconds=0.05,
    )
    with LiveServer(app) as server:
        yield server


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


@contextmanager
def signed_in_client(
    url: str, username: str, password: str, verify: object = True
) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=DEADLINE, verify=verify) as client:  # type: ignore[arg-type]
        form = client.get("/signin")
        r = client.post(
            "/signin",
            data={"csrf": csrf_of(form.text), "username": username, "password": password},
        )
        assert r.status_code == 303, r.text
        yield client


def live_url(page_html: str) -> str:
    m = re.search(r'data-live-url="([^"]+)"', page_html)
    assert m, "no live stream on the page"
    return m.group(1).replace("&amp;", "&")


@dataclass
class Event:
    name: str
    data: str
    id: str


class EventReader:
    """Server-sent events of one stream, parsed as a browser's EventSource does."""

    def __init__(self, client: httpx.Client, path: str) -> None:
        self.events: queue.Queue[Event | None] = queue.Queue()
        self._client = client
        self._path = path
        self._stop = threading.Event()
        self._opened = threading.Event()
        self.status = 0
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        name, ident = "message", ""
        data: list[str] = []
        try:
            with self._client.stream("GET", self._path, timeout=None) as r:
                self.status = r.status_code
                self._opened.set()
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if data:
                            self.events.put(Event(name, "\n".join(data), ident))
                        name, data = "message", []
                    elif line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
                    elif line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("id:"):
                        ident = line[3:].strip()
        except httpx.HTTPError:
            return
        finally:
            self._opened.set()
            self.events.put(None)

    def __enter__(self) -> EventReader:
        self._thread.start()
        assert self._opened.wait(DEADLINE), "the live stream did not open"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    def next(self, timeout: float = DEADLINE) -> Event | None:
        """The next event (None when the stream has ended)."""
        return self.events.get(timeout=timeout)

    def until(self, name: str, contains: str = "", timeout: float = DEADLINE) -> Event:
        """Read events until one named ``name`` whose data contains ``contains``."""
        while True:
            event = self.next(timeout)
            assert event is not None, f"the stream ended before a {name!r} event"
            if event.name == name and contains in event.data:
                return event

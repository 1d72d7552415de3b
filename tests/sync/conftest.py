"""Fixtures for the sync tests: a real SQLite file, Hillside Primary, a fixed clock, receivers.

Receivers are real servers on loopback (pytest-httpserver for webhooks and
Teams, aiosmtpd for email); nothing in the delivery path is mocked.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import peewee as pw
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from kiosk.clock import ManualClock
from kiosk.db import Item, Staff, open_database
from kiosk.loans import LoanService
from kiosk.settings import Channel, Settings, evolve, settings_from
from sync.delivery import Deliverer
from sync.signing import verify

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

    from tests.sync.mailserver import Inbox

SECRET = "whsec_" + base64.b64encode(b"a secret shared with SLT, 32 b!!").decode()

#: Monday 23 November 2026, 09:00 in London (GMT, so the same in UTC).
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kiosk.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[pw.SqliteDatabase]:
    database = open_database(db_path)
    yield database
    database.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(wall=MONDAY_9AM)


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return settings_from(
        {
            "kiosk": {"db": str(db_path)},
            "school": {"name": "Hillside Primary"},
            "sync": {
                "backoff_base_seconds": 30,
                "backoff_cap_seconds": 600,
                "timeout_seconds": 2,
                "max_attempts": 50,
            },
        }
    )


@dataclass
class Hillside:
    """Hillside Primary: a loan service, two members of staff and four items, by nickname."""

    service: LoanService
    staff: dict[str, Staff]
    items: dict[str, Item]

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.service.clock, ManualClock)
        return self.service.clock

    def sign_out(self, who: str, what: str) -> int:
        self.service.end_session()
        self.clock.advance(5)  # past the double-tap window
        self.service.tap(self.staff[who].badge_uid or "")
        result = self.service.tap(self.items[what].tag_uid or "")
        assert result.loan is not None, result
        self.service.end_session()
        return result.loan.id

    def give_back(self, what: str) -> None:
        self.service.end_session()
        self.clock.advance(5)
        self.service.tap(self.items[what].tag_uid or "")


@pytest.fixture
def hillside(db: pw.SqliteDatabase, settings: Settings, clock: ManualClock) -> Hillside:
    staff = {
        "amira": Staff.create(
            staff_id="S1",
            name="Amira Khan",
            known_as="Ms Khan",
            classes="5B",
            email="a.khan@hillside.example",
            badge_uid="04A1B2C3",
        ),
        "ben": Staff.create(staff_id="S2", name="Ben Ortiz", classes="3A", badge_uid="04D4E5F6"),
    }
    items = {
        "trolley": Item.create(
            asset_tag="TK1",
            name="iPad trolley key 1",
            kind="trolley_key",
            tag_uid="0499AA01",
            contents=[{"name": "iPads", "count": 30}],
        ),
        "camera": Item.create(
            asset_tag="CAM5B",
            name="Class camera 5B",
            kind="camera",
            tag_uid="0499AA02",
            home_class="5B",
        ),
        "laptops": Item.create(
            asset_tag="LK1", name="Laptop trolley key", kind="trolley_key", tag_uid="0499AA03"
        ),
        "phone": Item.create(
            asset_tag="TP1",
            name="Trip phone 1",
            kind="trip_phone",
            tag_uid="0499AA04",
            phone_number="07700 900123",
        ),
    }
    return Hillside(LoanService(settings, clock), staff, items)


def add_webhook(
    settings: Settings,
    url: str,
    name: str = "slt_hook",
    audiences: tuple[str, ...] = ("office", "slt", "it"),
) -> Settings:
    """``settings`` with a signed webhook channel for ``audiences`` added."""
    routes = dict(settings.sync.routes)
    for audience in audiences:
        routes[audience] = (*routes.get(audience, ()), name)
    channels = {**settings.sync.channels, name: Channel(type="webhook", url=url, secret=SECRET)}
    return evolve(settings, {"sync.channels": channels, "sync.routes": routes})


@dataclass
class Receiver:
    """What SLT's side would do: verify, de-duplicate on webhook-id, keep the order."""

    secret: str = SECRET
    clock: ManualClock | None = None  # the receiver's clock agrees with the kiosk's
    received: list[str] = field(default_factory=list)  # every verified id, repeats included
    accepted: list[str] = field(default_factory=list)  # first sighting of each id
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Response:
        try:
            now = self.clock.now().timestamp() if self.clock else None
            payload = verify(self.secret, dict(request.headers), request.get_data(), now=now)
        except ValueError:
            with self.lock:
                self.rejected += 1
            return Response("bad signature", status=400)
        msg_id = request.headers["webhook-id"]
        with self.lock:
            self.received.append(msg_id)
            if msg_id not in self.bodies:
                self.accepted.append(msg_id)
                self.bodies[msg_id] = payload
        return Response(json.dumps({"ok": True}), status=200, content_type="application/json")


@pytest.fixture
def receiver(clock: ManualClock) -> Receiver:
    return Receiver(clock=clock)


@pytest.fixture
def deliverer_factory(settings: Settings, clock: ManualClock) -> Iterator[Any]:
    made: list[Deliverer] = []

    def make(changed: Settings | None = None, **kwargs: Any) -> Deliverer:
        """A deliverer for the fixture's settings, or for ``changed`` ones (derived by a test)."""
        import random

        kwargs.setdefault("rng", random.Random(7))
        d = Deliverer(changed or settings, clock, **kwargs)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


@pytest.fixture(scope="session")
def _shared_hook_server() -> Iterator[HTTPServer]:
    # One server for the session: stopping a threaded werkzeug server takes half a second.
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hook_server(_shared_hook_server: HTTPServer) -> Iterator[HTTPServer]:
    _shared_hook_server.clear()
    yield _shared_hook_server
    _shared_hook_server.clear()


def write_config(path: Path, db_path: Path, url: str, **sync: object) -> Path:
    options = {
        "lease_seconds": 30,
        "timeout_seconds": 5,
        "workers": 2,
        "batch_size": 8,
        "interval_seconds": 60,
        **sync,
    }
    lines = ["[kiosk]", f'db = "{db_path}"', "", "[sync]"]
    lines += [f"{k} = {v}" for k, v in options.items()]
    lines += [
        "",
        "[sync.channels.slt_hook]",
        'type = "webhook"',
        f'url = "{url}"',
        f'secret = "{SECRET}"',
        "",
        "[sync.routes]",
        'slt = ["slt_hook"]',
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def inbox() -> Inbox:
    """What the loopback mail server has been sent."""
    from tests.sync.mailserver import Inbox  # it uses free_port, above

    return Inbox()


@pytest.fixture
def smtp_server(inbox: Inbox) -> Iterator[Controller]:
    """A mail server on loopback that takes the kiosk's login without STARTTLS."""
    from tests.sync.mailserver import start_smtp

    controller = start_smtp(inbox, auth_require_tls=False)
    yield controller
    controller.stop()

"""A real PostgreSQL for the trust tests: one throw-away cluster per session, a database per test.

The cluster runs Debian's server binaries as the ``postgres`` user in a temporary
directory (see ``pgcluster``), on a unix socket and on a loopback port with TLS
(the test CA in ``data/``). Each test gets its own database with the migrations
applied, and kiosk and reader logins whose names are unique in the session (roles
belong to the whole cluster). Where the binaries are missing the tests skip and
say how to install them; under CI (KIOSK_CI=1) they fail instead, so they always run.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee as pw
import psycopg
import pytest

from kiosk.clock import ManualClock
from kiosk.db import Item, Staff, database, open_database
from kiosk.loans import LoanService
from kiosk.settings import Settings, Trust, settings_from
from sync.trust import schema
from sync.trust.changes import ChangeJournal
from sync.trust.push import Pusher
from sync.trust.tables import TABLES, Kind
from tests.sync.trust.pgcluster import PgCluster, new_cluster, unavailable_reason

DATA = Path(__file__).parent / "data"
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg() -> Iterator[PgCluster]:
    reason = unavailable_reason()
    if reason:
        if os.environ.get("KIOSK_CI") == "1":
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    cluster = new_cluster(
        port=_free_port(), tcp=True, ssl=(DATA / "trust-server.crt", DATA / "trust-server.key")
    )
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@dataclass
class TrustDB:
    """One test's trust database, and the logins made in it."""

    cluster: PgCluster
    name: str
    logins: dict[str, schema.Login] = field(default_factory=dict)

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.cluster.conninfo(self.name), autocommit=True)

    def unique(self, name: str) -> str:
        return f"{name}-{next(_ids)}"

    def school(self, school_id: str, name: str) -> str:
        with self.admin() as conn:
            schema.add_school(conn, school_id, name)
        return school_id

    def kiosk(self, kiosk_id: str, school_id: str) -> schema.Login:
        return self._login(kiosk_id, schema.add_kiosk, kiosk_id, school_id)

    def reader(self, name: str, school_id: str | None) -> schema.Login:
        return self._login(name, schema.add_reader, name, school_id)

    def web(self, name: str) -> schema.Login:
        """The login of ``kiosk web``'s trust pages (``kiosk trust add-reader NAME --web``)."""
        return self._login(name, schema.add_reader, name, None, web=True)

    def _login(self, name: str, add: Any, *args: Any, **options: Any) -> schema.Login:
        """A login made the way ``kiosk trust add-kiosk`` / ``add-reader`` make one."""
        with self.admin() as conn:
            login: schema.Login = add(
                conn,
                *args,
                host=str(self.cluster.socket_dir),
                port=self.cluster.port,
                ca="",
                **options,
            )
        self.logins[name] = login
        return login

    def connect_as(self, name: str) -> psycopg.Connection[Any]:
        return psycopg.connect(self.logins[name].conninfo, autocommit=True)

    def replica(self, kiosk_id: str) -> dict[str, list[tuple[Any, ...]]]:
        """Every replicated row the server holds for one kiosk, per table, in id order."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.admin() as conn:
            for table in TABLES:
                cols = ", ".join(f'"{c}"' for c in table.column_names)
                out[table.name] = [
                    normalise_pg(table, r)
                    for r in conn.execute(
                        f"SELECT {cols} FROM trust.{table.name} WHERE kiosk_id = %s ORDER BY id",
                        (kiosk_id,),
                    ).fetchall()
                ]
        return out


def normalise_pg(table: Any, row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in row)


def normalise_local(table: Any, row: tuple[Any, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for col, v in zip(table.columns, row, strict=True):
        if v is not None and col.kind is Kind.TS:
            out.append(datetime.strptime(v, "%Y-%m-%d %H:%M:%S.%f+00").replace(tzinfo=UTC))
        elif v is not None and col.kind is Kind.JSON:
            out.append(json.loads(v))
        else:
            out.append(v)
    return tuple(out)


def kiosk_rows(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What the kiosk would replicate, per table, in id order, as the server returns it."""
    journal = ChangeJournal(db_path)
    try:
        return {t.name: [normalise_local(t, r) for r in journal.rows(t)] for t in TABLES}
    finally:
        journal.close()


def assert_replica_equals(trust_db: TrustDB, kiosk_id: str, db_path: Path) -> None:
    local, remote = kiosk_rows(db_path), trust_db.replica(kiosk_id)
    for table in TABLES:
        assert remote[table.name] == local[table.name], f"trust.{table.name} differs"
    assert sum(map(len, local.values())) > 0


@pytest.fixture
def trust_db(pg: PgCluster) -> Iterator[TrustDB]:
    name = f"trust_{next(_ids)}"
    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    tdb = TrustDB(pg, name)
    with tdb.admin() as conn:
        schema.migrate(conn)
    yield tdb
    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


# --- kiosks ------------------------------------------------------------------------------


@dataclass
class Kiosk:
    """A kiosk's own SQLite school, its clock, and a pusher to its trust login."""

    path: Path
    db: pw.SqliteDatabase
    clock: ManualClock
    service: LoanService
    staff: dict[str, Staff]
    items: dict[str, Item]
    kiosk_id: str = ""
    conninfo: str = ""

    def bind(self) -> None:
        """Point the models at this kiosk's database (tests with two kiosks switch)."""
        database.initialize(self.db)

    def sign_out(self, who: str, what: str) -> int:
        self.bind()
        self.service.end_session()
        self.clock.advance(5)
        self.service.tap(str(self.staff[who].badge_uid))
        result = self.service.tap(str(self.items[what].tag_uid))
        assert result.loan is not None, result
        self.service.end_session()
        return result.loan.id

    def give_back(self, what: str) -> None:
        self.bind()
        self.service.end_session()
        self.clock.advance(5)
        self.service.tap(str(self.items[what].tag_uid))

    def pusher(self, **trust: Any) -> Pusher:
        return Pusher(Trust(**trust), self.path, conninfo=self.conninfo)

    def push(self, **trust: Any) -> Any:
        p = self.pusher(**trust)
        try:
            return p.push()
        finally:
            p.close()


def make_kiosk(path: Path, school_name: str = "Hillside Primary") -> Kiosk:
    db = open_database(path)
    clock = ManualClock(wall=MONDAY_9AM)
    settings: Settings = settings_from(
        {"kiosk": {"db": str(path)}, "school": {"name": school_name}}
    )
    staff = {
        "amira": Staff.create(
            staff_id="S1", name="Amira Khan", known_as="Ms Khan", classes="5B",
            email="a.khan@hillside.example", badge_uid="04A1B2C3", pin_hash="pbkdf2$secret",
        ),
        "ben": Staff.create(staff_id="S2", name="Ben Ortiz", classes="3A", badge_uid="04D4E5F6"),
    }  # fmt: skip
    items = {
        "trolley": Item.create(
            asset_tag="TK1", name="iPad trolley key 1", kind="trolley_key", tag_uid="0499AA01",
            contents=[{"name": "iPads", "count": 30}], notes="kept in the office",
        ),
        "camera": Item.create(
            asset_tag="CAM5B", name="Class camera 5B", kind="camera", tag_uid="0499AA02",
            home_class="5B",
        ),
        "laptops": Item.create(
            asset_tag="LK1", name="Laptop trolley key", kind="trolley_key", tag_uid="0499AA03"
        ),
        "phone": Item.create(
            asset_tag="TP1", name="Trip phone 1", kind="trip_phone", tag_uid="0499AA04",
            phone_number="07700 900123",
        ),
    }  # fmt: skip
    return Kiosk(path, db, clock, LoanService(settings, clock), staff, items)


@pytest.fixture
def kiosk_factory(tmp_path: Path) -> Iterator[Callable[..., Kiosk]]:
    made: list[Kiosk] = []

    def make(name: str = "kiosk", school_name: str = "Hillside Primary") -> Kiosk:
        k = make_kiosk(tmp_path / name / "kiosk.db", school_name)
        made.append(k)
        return k

    yield make
    for k in made:
        k.db.close()


@pytest.fixture
def hillside(trust_db: TrustDB, kiosk_factory: Callable[..., Kiosk]) -> Kiosk:
    """One kiosk at Hillside, registered with the trust."""
    school = trust_db.school(trust_db.unique("hillside"), "Hillside Primary")
    k = kiosk_factory("hillside")
    k.kiosk_id = trust_db.unique("hillside-office")
    k.conninfo = trust_db.kiosk(k.kiosk_id, school).conninfo
    return k


def write_credentials(path: Path, conninfo: str, mode: int = 0o600) -> Path:
    path.write_text(conninfo + "\n", encoding="utf-8")
    os.chmod(path, mode)
    return path


def write_trust_config(folder: Path, db_path: Path, conninfo: str, **trust: object) -> Path:
    creds = write_credentials(folder / "trust.conninfo", conninfo)
    lines = ["[kiosk]", f'db = "{db_path}"', "", "[trust]", f'credentials = "{creds}"']
    lines += [f"{k} = {v}" for k, v in trust.items()]
    config = folder / "kiosk.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config

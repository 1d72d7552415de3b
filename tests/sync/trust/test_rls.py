"""Least privilege inside PostgreSQL, tested by connecting as each role with its password.

Kiosks write (and read) only their own rows, at their own school; office readers
read only their school; trust readers read everything and write nothing; the web's
login reads only what the trust's pages show, of the schools each transaction names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from tests.sync.trust.conftest import Kiosk, TrustDB


@pytest.fixture
def two_schools(trust_db: TrustDB, kiosk_factory: Callable[..., Kiosk]) -> dict[str, Any]:
    hill = trust_db.school(trust_db.unique("hill"), "Hillside Primary")
    oak = trust_db.school(trust_db.unique("oak"), "Oakfield Primary")
    kiosks: dict[str, Kiosk] = {}
    for name, school in (("hill", hill), ("hill2", hill), ("oak", oak)):
        k = kiosk_factory(name)
        k.kiosk_id = trust_db.unique(name)
        k.conninfo = trust_db.kiosk(k.kiosk_id, school).conninfo
        k.sign_out("amira", "camera")
        assert k.push().error == ""
        kiosks[name] = k
    trust_db.reader(trust_db.unique("hill-office"), hill)
    trust_db.reader(trust_db.unique("slt"), None)
    return {"hill": hill, "oak": oak, "kiosks": kiosks}


def _as(trust_db: TrustDB, kiosk: Kiosk) -> psycopg.Connection[Any]:
    return psycopg.connect(kiosk.conninfo, autocommit=True)


def _login(trust_db: TrustDB, prefix: str) -> str:
    return next(n for n in trust_db.logins if n.startswith(prefix + "-"))


def test_a_kiosk_cannot_write_another_schools_rows(
    trust_db: TrustDB, two_schools: dict[str, Any]
) -> None:
    hill, oak = two_schools["kiosks"]["hill"], two_schools["kiosks"]["oak"]
    with _as(trust_db, hill) as conn:
        # Insert rows claiming to be Oakfield's kiosk, or Oakfield with its own kiosk id.
        for kiosk_id, school in (
            (oak.kiosk_id, two_schools["oak"]),
            (hill.kiosk_id, two_schools["oak"]),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(
                    "INSERT INTO trust.staff (kiosk_id, school_id, id, name, known_as, role, active)"
                    " VALUES (%s, %s, 99, 'Intruder', '', 'staff', true)",
                    (kiosk_id, school),
                )
        # Another school's rows are invisible: updates and deletes touch nothing.
        assert (
            conn.execute(
                "UPDATE trust.loan SET trip = 'x' WHERE kiosk_id = %s", (oak.kiosk_id,)
            ).rowcount
            == 0
        )
        assert (
            conn.execute("DELETE FROM trust.loan WHERE kiosk_id = %s", (oak.kiosk_id,)).rowcount
            == 0
        )
        assert conn.execute(
            "SELECT count(*) FROM trust.loan WHERE kiosk_id <> %s", (hill.kiosk_id,)
        ).fetchone() == (0,)
        # Nor may it move its own rows to another school, or itself.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE trust.loan SET school_id = %s", (two_schools["oak"],))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE trust.kiosk SET school_id = %s", (two_schools["oak"],))
        # Its own progress row is the only one it sees.
        assert conn.execute("SELECT kiosk_id FROM trust.kiosk").fetchall() == [(hill.kiosk_id,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE trust.mine (x int)")
    with trust_db.admin() as admin:
        assert admin.execute(
            "SELECT count(*) FROM trust.loan WHERE kiosk_id = %s AND trip = ''", (oak.kiosk_id,)
        ).fetchone() == (1,)


def test_a_kiosk_cannot_write_another_kiosks_rows_in_its_own_school(
    trust_db: TrustDB, two_schools: dict[str, Any]
) -> None:
    hill, hill2 = two_schools["kiosks"]["hill"], two_schools["kiosks"]["hill2"]
    with _as(trust_db, hill) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO trust.item (kiosk_id, school_id, id, asset_tag, name, kind, home_class,"
                " contents, phone_number, status) VALUES (%s, %s, 77, 'X', 'X', 'other', '', '[]',"
                " '', 'available')",
                (hill2.kiosk_id, two_schools["hill"]),
            )
        assert (
            conn.execute("DELETE FROM trust.item WHERE kiosk_id = %s", (hill2.kiosk_id,)).rowcount
            == 0
        )


def test_an_office_account_reads_only_its_school(
    trust_db: TrustDB, two_schools: dict[str, Any]
) -> None:
    with trust_db.connect_as(_login(trust_db, "hill-office")) as conn:
        for table in ("staff", "item", "loan", "event", "kiosk"):
            schools = {r[0] for r in conn.execute(f"SELECT DISTINCT school_id FROM trust.{table}")}
            assert schools == {two_schools["hill"]}, table
        assert conn.execute("SELECT school_id FROM trust.school").fetchall() == [
            (two_schools["hill"],)
        ]
        assert conn.execute("SELECT count(*) FROM trust.loan").fetchone() == (
            2,
        )  # both Hillside kiosks
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE trust.loan SET trip = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM trust.staff")


def test_a_trust_account_reads_every_school_and_writes_nothing(
    trust_db: TrustDB, two_schools: dict[str, Any]
) -> None:
    with trust_db.connect_as(_login(trust_db, "slt")) as conn:
        schools = {r[0] for r in conn.execute("SELECT DISTINCT school_id FROM trust.loan")}
        assert schools == {two_schools["hill"], two_schools["oak"]}
        assert conn.execute("SELECT count(*) FROM trust.kiosk").fetchone() == (3,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO trust.school VALUES ('x', 'X')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE trust.kiosk SET pushed_seq = 0")


def test_logins_have_passwords_and_nothing_else_connects(
    trust_db: TrustDB, two_schools: dict[str, Any]
) -> None:
    hill = two_schools["kiosks"]["hill"]
    wrong = hill.conninfo.rsplit("password=", 1)[0] + "password=guess"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong)
    # A login that is not one of the trust's roles may not even connect.
    stranger = trust_db.unique("stranger").replace("-", "_")
    with trust_db.admin() as admin:
        admin.execute(f"CREATE ROLE {stranger} LOGIN PASSWORD 'pw-{stranger}'")
    user = hill.conninfo.split("user=")[1].split()[0]
    stranger_conninfo = (
        hill.conninfo.replace(f"user={user}", f"user={stranger}").rsplit("password=", 1)[0]
        + f"password=pw-{stranger}"
    )
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(stranger_conninfo)


def _scoped(conn: psycopg.Connection[Any], scope: str, sql: str) -> list[tuple[Any, ...]]:
    """``sql`` in a transaction whose web scope is ``scope``, as ``TrustView`` reads."""
    with conn.transaction():
        conn.execute("SELECT set_config('kiosk.web_scope', %s, true)", (scope,))
        return conn.execute(sql).fetchall()


def test_the_web_login_reads_only_what_is_out_now_in_the_scope_it_names(
    trust_db: TrustDB, two_schools: dict[str, Any]
) -> None:
    hill, oak = two_schools["hill"], two_schools["oak"]
    k = two_schools["kiosks"]["hill"]
    k.sign_out("ben", "trolley")
    k.give_back("trolley")  # a past loan, and Ben has nothing out now
    assert k.push().error == ""
    trust_db.web(trust_db.unique("web"))
    loans = "SELECT school_id, kiosk_id FROM trust.loan ORDER BY kiosk_id"
    with trust_db.connect_as(_login(trust_db, "web")) as conn:
        # No scope named: nothing (a statement that forgot whose page it is shows nothing).
        assert conn.execute(loans).fetchall() == []
        assert conn.execute("SELECT count(*) FROM trust.staff").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM trust.kiosk").fetchone() == (0,)
        # One school: its loans out now (both its kiosks), never the one given back.
        assert {r[0] for r in _scoped(conn, hill, loans)} == {hill}
        assert len(_scoped(conn, hill, loans)) == 2
        assert _scoped(
            conn, hill, "SELECT count(*) FROM trust.loan WHERE closed_at IS NOT NULL"
        ) == [(0,)]
        # Staff: only those with something out now, of that school.
        names = _scoped(conn, hill, "SELECT DISTINCT name FROM trust.staff")
        assert names == [("Amira Khan",)]
        assert {r[0] for r in _scoped(conn, hill, "SELECT school_id FROM trust.kiosk")} == {hill}
        # The whole trust: every school's loans out now.
        assert {r[0] for r in _scoped(conn, "*", loans)} == {hill, oak}
        # The scope lasts for its transaction only.
        assert conn.execute(loans).fetchall() == []
        # Never what the pages do not show: history, checklists, the event log, roles.
        for sql in (
            "SELECT checklist FROM trust.loan",
            "SELECT outcome FROM trust.loan",
            "SELECT * FROM trust.event",
            "SELECT role FROM trust.staff",
            "SELECT role_name FROM trust.kiosk",
            "SELECT * FROM trust.reader",
            "INSERT INTO trust.school VALUES ('x', 'X')",
            "UPDATE trust.loan SET trip = 'x'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)

"""Versioned migrations of the trust's database, and its tables against the column lists."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sync.trust import schema
from sync.trust.connect import TrustError
from sync.trust.tables import TABLES
from tests.sync.trust.conftest import TrustDB


def test_migrations_are_recorded_and_applied_once(trust_db: TrustDB) -> None:
    with trust_db.admin() as conn:
        assert schema.migrate(conn) == []  # the fixture applied them
        recorded = schema.applied(conn)
    files = schema.migrations()
    assert sorted(recorded) == [m.version for m in files]
    assert all(recorded[m.version] == (m.name, m.sha256) for m in files)


def test_a_changed_applied_migration_is_refused(trust_db: TrustDB, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, folder)
    first = sorted(folder.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited by hand\n")
    with trust_db.admin() as conn, pytest.raises(TrustError, match="changed after it was applied"):
        schema.migrate(conn, folder)


def test_a_new_migration_is_applied_in_order(trust_db: TrustDB, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, folder)
    n = len(schema.migrations()) + 1
    (folder / f"{n:04d}_note.sql").write_text("ALTER TABLE trust.school ADD COLUMN note text;\n")
    with trust_db.admin() as conn:
        assert schema.migrate(conn, folder) == [f"{n:04d}_note.sql"]
        assert max(schema.applied(conn)) == n
        # This software (without that file) refuses a database newer than itself.
        with pytest.raises(TrustError, match="newer than this software"):
            schema.migrate(conn)


def test_a_gap_in_the_numbering_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(TrustError, match="0002 is missing"):
        schema.migrations(tmp_path)


def test_server_tables_have_exactly_the_replicated_columns(trust_db: TrustDB) -> None:
    with trust_db.admin() as conn:
        for table in TABLES:
            cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'trust' AND table_name = %s ORDER BY ordinal_position",
                    (table.name,),
                )
            ]
            assert cols == ["kiosk_id", "school_id", *table.column_names], table.name


def test_ids_are_checked_before_anything_is_made(trust_db: TrustDB) -> None:
    from kiosk.errors import NotFound, Refused

    with trust_db.admin() as conn:
        with pytest.raises(Refused, match="lower-case letters"):
            schema.add_school(conn, "Hill Side!", "Hillside")
        with pytest.raises(NotFound, match="kiosk trust add-school"):
            schema.add_kiosk(conn, "k1", "nowhere", host="/tmp", port=5432, ca="")
        # Nothing was made for the refused kiosk.
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'kiosk_k1'").fetchone() is None

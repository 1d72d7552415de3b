"""The replicated columns are an explicit list: a new column cannot leave the kiosk by default.

No server needed: these compare ``sync.trust.tables`` with the kiosk's models and
with the schema a migrated kiosk database really has (columns and triggers).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kiosk.db import MODELS, open_database
from sync.trust.tables import NOT_REPLICATED, TABLES


def test_every_model_column_is_replicated_or_withheld_with_a_reason() -> None:
    by_table = {t.name: t for t in TABLES}
    for model in MODELS:
        name = model._meta.table_name
        if name in NOT_REPLICATED:
            assert name not in by_table
            continue
        assert name in by_table, (
            f"{name}: add it to TABLES or NOT_REPLICATED in sync/trust/tables.py"
        )
        table = by_table[name]
        columns = {f.column_name for f in model._meta.sorted_fields}
        replicated, withheld = set(table.column_names), set(table.withheld)
        assert not replicated & withheld, f"{name}: both replicated and withheld"
        unlisted = columns - replicated - withheld
        assert not unlisted, (
            f"{name}.{sorted(unlisted)}: replicate it or withhold it (with a reason)"
        )
        assert not (replicated | withheld) - columns, f"{name}: lists a column the model lacks"
        assert all(reason.strip() for reason in table.withheld.values())
        assert table.column_names[0] == "id"


def test_uids_and_pin_hashes_are_withheld() -> None:
    sent = {(t.name, c) for t in TABLES for c in t.column_names}
    for secret in (
        ("staff", "badge_uid"),
        ("staff", "pin_hash"),
        ("item", "tag_uid"),
        ("staff", "email"),
    ):
        assert secret not in sent
    assert "unknown_tag" in NOT_REPLICATED


def test_a_migrated_database_journals_exactly_the_replicated_tables(tmp_path: Path) -> None:
    open_database(tmp_path / "k.db").close()
    con = sqlite3.connect(tmp_path / "k.db")
    try:
        triggers = {
            (row[0], row[1])
            for row in con.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
            )
        }
        journalled = {t for t, name in triggers if name.startswith("journal_")}
        assert journalled == {t.name for t in TABLES}
        for table in TABLES:
            actual = {r[1] for r in con.execute(f'PRAGMA table_info("{table.name}")')}
            assert set(table.column_names) | set(table.withheld) == actual, table.name
            for op in ("insert", "update", "delete"):
                assert (table.name, f"journal_{table.name}_{op}") in triggers
    finally:
        con.close()

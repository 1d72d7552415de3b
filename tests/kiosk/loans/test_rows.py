"""The hot path's fixed SQL names only columns the models have, and its rows read them right."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import peewee as pw
import pytest

from kiosk import db as store
from kiosk.clock import ManualClock
from kiosk.db import Item, Loan, Staff, database
from kiosk.journal import INSERT_EVENT, INSERT_LOAN, Journal, LoanRow
from kiosk.loans import rows
from kiosk.loans.rows import ItemRow, StaffRow, loan_with
from tests.conftest import TinySchool


def columns(model: type[pw.Model]) -> set[str]:
    return {f.column_name for f in model._meta.sorted_fields}


@pytest.mark.parametrize("name", sorted(rows.SELECTS))
def test_each_select_names_the_columns_of_its_row_type(name: str) -> None:
    table, row = rows.SELECTS[name]
    sql: str = getattr(rows, name)
    selected = sql.removeprefix("SELECT ").split(" FROM ")[0].split(", ")
    assert selected == list(row._fields)
    model = {"staff": Staff, "item": Item, "loan": Loan}[table]
    assert set(row._fields) <= columns(model), set(row._fields) - columns(model)


@pytest.mark.parametrize(("row", "model"), [(StaffRow, Staff), (ItemRow, Item), (LoanRow, Loan)])
def test_row_types_hold_only_real_columns(row: type[NamedTuple], model: type[pw.Model]) -> None:
    assert set(row._fields) <= columns(model)


def test_inserts_name_real_columns() -> None:
    for sql, model in ((INSERT_EVENT, store.Event), (INSERT_LOAN, Loan)):
        named = sql.split("(", 1)[1].split(")", 1)[0].split(", ")
        assert set(named) <= columns(model), set(named) - columns(model)


def test_rows_read_back_what_the_orm_wrote(tiny_school: TinySchool) -> None:
    clock_now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    unset = ManualClock(wall=clock_now, synced=False)
    with store.write():
        loan = Journal(unset).open_loan(
            tiny_school.trolley.id, tiny_school.khan.id, None, off_site=True
        )
    cursor = database.execute_sql(f"{rows.LOANS_WITH_ITEM_AND_BORROWER} WHERE l.id = ?", (loan.id,))
    got_loan, item, staff = loan_with(cursor.fetchone())
    assert got_loan == loan
    assert (got_loan.out_at, got_loan.out_clock_synced, got_loan.off_site) == (
        clock_now,
        False,
        True,
    )
    assert item.contents == [{"name": "iPads", "count": 30}, {"name": "headphones", "count": 30}]
    assert item.name == "iPad trolley 1" and item.tag_uid == TinySchool.TROLLEY
    assert staff is not None and staff.name == "Amira Khan" and staff.active is True
    assert staff.class_list == ["5B"]

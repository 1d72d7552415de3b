"""Real damage to a real database file, as a failing SD card or a torn write leaves it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.db import Item, Loan, Staff, open_database, write


def make_history(path: Path, loans: int = 2000) -> None:
    """A school with a year of returned loans and one trip phone out now."""
    db = open_database(path)
    start = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)
    with write(db):
        staff = Staff.create(staff_id="S1", name="Amira Khan", badge_uid="A0000001")
        camera = Item.create(asset_tag="CAM-5B", name="Class camera 5B", kind="camera")
        phone = Item.create(asset_tag="TP-1", name="Trip phone 1", kind="trip_phone")
        for n in range(loans):
            out = start + timedelta(hours=n)
            Loan.create(
                item=camera,
                borrower=staff,
                out_at=out,
                closed_at=out + timedelta(hours=1),
                closed_by=staff,
                outcome="returned",
            )
        Loan.create(item=phone, borrower=staff, out_at=start, due_at=start + timedelta(days=1))
    db.close()  # the last connection folds the WAL into the file


def damage_oldest_rows(path: Path, table: str = "loan") -> int:
    """Overwrite the cell pointers of the leaf page holding ``table``'s first rows.

    Walks SQLite's b-tree from the table's root page down its leftmost children, so
    the page hit holds rows that nothing reads day to day. Returns the page number.
    """
    raw = sqlite3.connect(path)
    (root,) = raw.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    raw.close()
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if size == 1 else size
    page = int(root)
    while True:
        start = (page - 1) * page_size
        header = start + (100 if page == 1 else 0)
        kind = data[header]
        if kind == 0x0D:  # a leaf of a table b-tree
            break
        assert kind == 0x05, f"page {page} is not a table b-tree page ({kind:#x})"
        first_cell = int.from_bytes(data[header + 12 : header + 14], "big")
        page = int.from_bytes(data[start + first_cell : start + first_cell + 4], "big")
    assert page != root, "the table fits in one page: give it more rows"
    pointers = header + 8
    data[pointers : pointers + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return page

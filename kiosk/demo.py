"""A realistic demo school in its own database, for ``kiosk demo``, screenshots and trying things.

The demo database is never the real one: it lives in ``~/.local/share/kiosk/demo.db``
(or the path given) and is marked with a SQLite application id, so the seeder
refuses to overwrite a file that is not a demo database.

Badge and tag numbers follow a pattern that is easy to type at the keyboard
reader: staff badges are ``B00000nn``, class cameras ``CA0000`` + class
(``CA00005B``), trolley keys ``AD00000A``-``C`` and ``A1A00001``, trip phones
``F000000n``. The admin PIN is ``DEMO_PIN``.

History rows are inserted in bulk through the models (a few weeks in well
under a second); current loans go through the same models with the same rules
the service applies.
"""

from __future__ import annotations

import logging
import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import Event, Item, Loan, Staff, open_database
from kiosk.errors import KioskError
from kiosk.loans.pins import hash_pin
from kiosk.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_DEMO_DB = Path.home() / ".local" / "share" / "kiosk" / "demo.db"

#: The admin's PIN in the demo school (also in the README).
DEMO_PIN = "2468"

#: Marks a database as a demo one ("KDMO"), so the seeder never overwrites a real database.
DEMO_APPLICATION_ID = 0x4B444D4F

# (staff id, name, known as, role, classes)
_STAFF: list[tuple[str, str, str, str, str]] = [
    ("S001", "Daniel Okafor", "Mr Okafor", "admin", ""),  # IT and computing lead
    ("S002", "Janet Price", "Mrs Price", "office", ""),  # office manager
    ("S003", "Helen Marsh", "Mrs Marsh", "office", ""),  # head teacher
    ("S004", "Sophie Turner", "Miss Turner", "staff", "R"),
    ("S005", "Liam Byrne", "Mr Byrne", "staff", "1A"),
    ("S006", "Grace Adeyemi", "Ms Adeyemi", "staff", "1B"),
    ("S007", "Tom Fletcher", "Mr Fletcher", "staff", "2A"),
    ("S008", "Priya Patel", "Mrs Patel", "staff", "2B"),
    ("S009", "Rachel Hughes", "Miss Hughes", "staff", "3A"),
    ("S010", "Owen Davies", "Mr Davies", "staff", "3B"),
    ("S011", "Fatima Hussain", "Mrs Hussain", "staff", "4A"),
    ("S012", "Chris Walker", "Mr Walker", "staff", "4B"),
    ("S013", "Emma Clarke", "Mrs Clarke", "staff", "5A"),
    ("S014", "Amira Khan", "Ms Khan", "staff", "5B"),
    ("S015", "James Robinson", "Mr Robinson", "staff", "6A"),
    ("S016", "Nadia Kowalska", "Miss Kowalska", "staff", "6B"),
    ("S017", "Ruth Evans", "Mrs Evans", "staff", "1A 1B"),  # teaching assistant
    ("S018", "Sam Green", "Mr Green", "staff", "3A 3B"),
    ("S019", "Lucy Bennett", "Miss Bennett", "staff", "5A 5B"),
    ("S020", "Mark Thompson", "Mr Thompson", "staff", ""),  # PE
    ("S021", "Aisha Rahman", "Ms Rahman", "staff", ""),  # SENCo
    ("S022", "Peter Wood", "Mr Wood", "staff", "4A 4B"),
    ("S023", "Kate Morgan", "Mrs Morgan", "staff", "6A 6B"),
    ("S024", "Ben Lewis", "Mr Lewis", "staff", "2A 2B"),
    ("S025", "Olivia Scott", "Miss Scott", "staff", "R"),
]

_CAMERA_CLASSES = ["1A", "2A", "3B", "4A", "4B", "5A", "5B", "6B"]


@dataclass(frozen=True)
class DemoSchool:
    path: Path
    staff: int
    items: int
    loans_out: int
    history: int


def badge_uid(n: int) -> str:
    return f"B{n:07d}"


def _items() -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    ipads = [{"name": "iPads", "count": 30}, {"name": "headphones", "count": 30}]
    for letter in "ABC":
        items.append(
            {
                "asset_tag": f"KEY-IPAD-{letter}",
                "name": f"iPad trolley {letter} key",
                "kind": "trolley_key",
                "tag_uid": f"AD00000{letter}",
                "contents": ipads,
            }
        )
    items.append(
        {
            "asset_tag": "KEY-LAPTOP-1",
            "name": "Laptop trolley key",
            "kind": "trolley_key",
            "tag_uid": "A1A00001",
            "contents": [{"name": "laptops", "count": 32}],
        }
    )
    for cls in _CAMERA_CLASSES:
        items.append(
            {
                "asset_tag": f"CAM-{cls}",
                "name": f"Class camera {cls}",
                "kind": "camera",
                "tag_uid": f"CA0000{cls}",
                "home_class": cls,
            }
        )
    for n, number in enumerate(
        ("07700 900101", "07700 900102", "07700 900103", "07700 900104"), start=1
    ):
        items.append(
            {
                "asset_tag": f"PHONE-{n}",
                "name": f"Trip phone {n}",
                "kind": "trip_phone",
                "tag_uid": f"F000000{n}",
                "phone_number": number,
            }
        )
    return items


def _mark_as_demo(path: Path) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")
        con.commit()
    finally:
        con.close()


def is_demo_database(path: Path) -> bool:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(con.execute("PRAGMA application_id").fetchone()[0]) == DEMO_APPLICATION_ID
    finally:
        con.close()


def seed_demo(path: Path, settings: Settings, clock: Clock, *, seed: int = 7) -> DemoSchool:
    """Create (or re-create) the demo school at ``path``; refuses a file that is not a demo."""
    path = Path(path)
    if path.exists() and path.stat().st_size > 0 and not is_demo_database(path):
        raise KioskError(
            f"{path} is not a demo database; the demo will not overwrite it. "
            "Give another path with --db."
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    _mark_as_demo(path)
    db = open_database(path, new_database=True)  # just made by _mark_as_demo
    rng = random.Random(seed)
    cal = SchoolCalendar(settings.school)
    now = clock.now()
    synced = clock.synchronised()
    with store.write(db):
        for n, (sid, name, known, role, classes) in enumerate(_STAFF, start=1):
            Staff.create(
                staff_id=sid,
                name=name,
                known_as=known,
                role=role,
                classes=classes,
                email=f"{name.split()[0][0].lower()}.{name.split()[-1].lower()}"
                "@oakfield.sch.example",
                badge_uid=badge_uid(n),
                pin_hash=hash_pin(DEMO_PIN) if role == "admin" else "",
            )
        for spec in _items():
            Item.create(**spec)
    staff = list(Staff.select())
    items = list(Item.select())
    by_class: dict[str, list[Staff]] = {}
    for s in staff:
        for c in s.class_list:
            by_class.setdefault(c, []).append(s)

    def borrower_for(item: Item) -> Staff:
        if item.home_class:
            return rng.choice(by_class[item.home_class])
        return rng.choice(staff[3:])

    # A few weeks of closed loans: most school days, most items, out in the morning.
    loans: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    day = cal.local(now).date() - timedelta(days=28)
    while day < cal.local(now).date():
        if cal.is_school_day(day):
            for item in items:
                if rng.random() < 0.45:
                    taken = cal.at(day, time(8, 0)) + timedelta(minutes=rng.randrange(0, 300))
                    back = taken + timedelta(minutes=rng.randrange(30, 360))
                    who = borrower_for(item)
                    checklist: dict[str, object] = {"damage": ""}
                    if item.contents:
                        checklist["counts"] = {c["name"]: c["count"] for c in item.contents}
                    loans.append(
                        {
                            "item": item,
                            "borrower": who,
                            "out_at": taken,
                            "out_clock_synced": True,
                            "due_at": cal.end_of_day(day),
                            "off_site": item.kind == "trip_phone",
                            "trip": "Forest school" if item.kind == "trip_phone" else "",
                            "closed_at": back,
                            "closed_by": who,
                            "outcome": "returned",
                            "checklist": checklist,
                        }
                    )
        day += timedelta(days=1)
    with store.write(db):
        for start in range(0, len(loans), 500):
            Loan.insert_many(loans[start : start + 500]).execute()
        history: list[dict[str, Any]] = list(Loan.select().dicts())  # type: ignore[arg-type]
        for row in history:
            for action, at in (("sign_out", row["out_at"]), ("return", row["closed_at"])):
                events.append(
                    {
                        "at": at,
                        "clock_synced": True,
                        "action": action,
                        "staff": row["borrower"],
                        "item": row["item"],
                        "loan": row["id"],
                        "reader": "demo",
                        "detail": {},
                    }
                )
        for start in range(0, len(events), 500):
            Event.insert_many(events[start : start + 500]).execute()

    # What is out right now: two trolleys, two cameras, a trip phone, and one overdue camera.
    def lend(
        tag: str, who_n: int, since: timedelta, due: datetime | None = None, trip: str = ""
    ) -> None:
        item = Item.get(Item.tag_uid == tag)
        who = Staff.get(Staff.badge_uid == badge_uid(who_n))
        out_at = now - since
        loan = Loan.create(
            item=item,
            borrower=who,
            out_at=out_at,
            out_clock_synced=synced,
            due_at=due or cal.default_due(out_at),
            trip=trip,
            off_site=item.kind == "trip_phone",
        )
        Event.create(
            at=out_at,
            clock_synced=synced,
            action="sign_out",
            staff=who,
            item=item,
            loan=loan,
            reader="demo",
            detail={},
        )

    with store.write(db):
        lend("AD00000A", 13, timedelta(hours=1))  # Mrs Clarke, iPad trolley A
        lend("A1A00001", 15, timedelta(minutes=40))  # Mr Robinson, laptops
        lend("CA00001A", 5, timedelta(hours=2))  # Mr Byrne, camera 1A
        lend("CA00004B", 12, timedelta(minutes=25))  # Mr Walker, camera 4B
        lend(
            "F0000002",
            11,
            timedelta(hours=1),
            due=now + timedelta(hours=3),
            trip="Year 4 to the Science Museum",
        )  # Mrs Hussain
        # Overdue: Mr Davies took camera 3B on the last school day and has not brought it back.
        last_day = cal.local(now).date() - timedelta(days=1)
        while not cal.is_school_day(last_day):
            last_day -= timedelta(days=1)
        taken = cal.at(last_day, time(13, 10))
        lend("CA00003B", 10, now - taken, due=cal.end_of_day(last_day))
    db.close()
    return DemoSchool(path, len(staff), len(items), 6, len(loans))

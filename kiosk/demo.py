"""A realistic demo school in its own database, for ``kiosk demo``, screenshots and trying things.

The demo database is never the real one: it lives in ``~/.local/share/kiosk/demo.db``
(or the path given) and is marked with a SQLite application id, so the seeder
refuses to overwrite a file that is not a demo database.

One demo at a time per database: a ``kiosk demo`` holds a lock on ``demo.db.lock``
(``DemoLock``) from before it seeds until it exits, so a second one started on the
same file says so and leaves the first one's loans alone. It is an ``flock``, which
the kernel releases when the process ends however it ends (closed, killed, power
cut), so there is never a stale lock to clear by hand; the process id written in the
file is only for the message.

Badge and tag numbers follow a pattern that is easy to type at the keyboard
reader: staff badges are ``B00000nn``, class cameras ``CA0000`` + class
(``CA00005B``), trolley keys ``AD00000A``-``C`` and ``A1A00001``, trip phones
``F000000n``, the office's spare cards ``C000000n``. The admin PIN is ``DEMO_PIN``.

History rows are inserted in bulk through the models (a few weeks in well
under a second); current loans go through the same models with the same rules
the service applies.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from kiosk import db as store
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.db import (
    Event,
    Item,
    Loan,
    PersonalCall,
    Problem,
    SpareCard,
    Staff,
    StockTake,
    StockTakeLine,
    open_database,
)
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


class DemoInUse(KioskError):
    """Another demo is running on the same database; the message says what to do."""


class DemoLock:
    """The right to (re)seed and use one demo database, for as long as it is held."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = Path(f"{self.path}.lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> DemoLock:
        """Take the lock now, or raise DemoInUse (never waits)."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (process {holder})" if holder.isdigit() else ""
            raise DemoInUse(
                f"Another kiosk demo is running on {self.path}{who}; it was left as it is. "
                "Close that one first, or give this one a database of its own: "
                "kiosk demo --db /tmp/my-demo.db"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the flock
            self._fd = None

    def __enter__(self) -> DemoLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


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


def _office_desk(now: datetime, synced: bool) -> None:
    """What the office has to deal with: spare cards, and two problems on its list.

    Trolley B came back two iPads short from its last loan, and camera 6B came back
    with a cracked screen (so borrowing it asks first). Raised the way the kiosk raises
    them: a checklist event, and the problem pointing at it.
    """
    for n in (1, 2, 3):
        SpareCard.create(uid=f"C000000{n}", label=f"Spare card {n}")
    for tag, answers, kind, detail in (
        (
            "AD00000B",
            {"counts": {"iPads": 28, "headphones": 30}, "damage": ""},
            "short",
            {"missing": {"iPads": 2}},
        ),
        (
            "CA00006B",
            {"images_erased": True, "damage": "cracked screen"},
            "damaged",
            {"note": "cracked screen"},
        ),
    ):
        item = Item.get(Item.tag_uid == tag)
        last = Loan.select().where(Loan.item == item).order_by(Loan.out_at.desc()).first()
        if last is None:
            continue
        last.checklist = answers
        last.condition_note = str(answers["damage"])
        last.save()
        event = Event.create(
            at=last.closed_at or now,
            clock_synced=synced,
            action="checklist",
            staff=last.borrower,
            item=item,
            loan=last,
            reader="demo",
            detail=answers,
        )
        Problem.create(kind=kind, item=item, loan=last, detail=detail, opened_event=event)
        if kind == "damaged":
            item.status = "damaged"
            item.save()


def seed_demo(
    path: Path, settings: Settings, clock: Clock, *, seed: int = 7, lock: DemoLock | None = None
) -> DemoSchool:
    """Create (or re-create) the demo school at ``path``; refuses a file that is not a demo,
    and one another demo is using (``lock``: the caller's own, held; else one is taken)."""
    path = Path(path)
    if lock is not None and not (lock.held and lock.path == path):
        raise ValueError("seed_demo: the lock given must be held, and for this database")
    with contextlib.ExitStack() as stack:
        if lock is None:
            stack.enter_context(DemoLock(path))
        return _seed(path, settings, clock, seed)


def _seed(path: Path, settings: Settings, clock: Clock, seed: int) -> DemoSchool:
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
        _last_school_day(cal, last_day)
    with store.write(db):
        _office_desk(now, synced)
    db.close()
    return DemoSchool(path, len(staff), len(items), 6, len(loans))


def _last_school_day(cal: SchoolCalendar, day: date) -> None:
    """The office's last day, to look back on in Today: calls on a trip phone that went
    out, and the end-of-day stock-take (camera 3B is still out, with Mr Davies)."""
    start, end = cal.at(day, time(0, 0)), cal.at(day + timedelta(days=1), time(0, 0))
    trip = (
        Loan.select()
        .join(Item)
        .where(Item.kind == "trip_phone", Loan.out_at >= start, Loan.out_at < end)
        .order_by(Loan.out_at)
        .first()
    )
    if trip is not None and trip.closed_at is not None:
        for minutes, number, reason in ((25, "01234 567890", "Childminder running late"),):
            made = trip.out_at + timedelta(minutes=minutes)
            if made < trip.closed_at:
                PersonalCall.create(
                    loan=trip,
                    made_at=made,
                    number=number,
                    reason=reason,
                    recorded_at=trip.closed_at,
                    recorded_by=trip.borrower_id,
                )
    at = cal.at(day, time(15, 45))
    admin = Staff.get(Staff.role == "admin")
    event = Event.create(
        at=at,
        clock_synced=True,
        action="stock_take",
        staff=admin,
        reader="demo",
        detail={"seen": len(list(Item.select())) - 1},
    )
    take = StockTake.create(event=event, seen=event.detail["seen"])
    out = Loan.get(Loan.closed_at.is_null(), Loan.item == Item.get(Item.tag_uid == "CA00003B"))
    StockTakeLine.create(stock_take=take, item=out.item_id, state="out", loan=out)

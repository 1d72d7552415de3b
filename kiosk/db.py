"""Storage: every Peewee model, the SQLite settings that keep records safe, migrations.

The kiosk must never lose a record, and its Pi can lose power at any moment.
So SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is on the SD
card before the screen says "done"), foreign keys on, a busy timeout so the
sync process and the kiosk can share the file, and every write transaction is
``BEGIN IMMEDIATE`` (it takes the write lock at the start, so two writers wait
instead of failing half-way).

The database itself enforces "at most one open loan per item" with a partial
unique index: a bug in the service cannot sign one camera out twice.

The schema version lives in ``PRAGMA user_version``. ``MIGRATIONS[n]`` turns
version ``n`` into ``n + 1``; ``open_database`` applies whatever is missing, each
step in its own transaction, so a database written by any older version opens
and keeps every row.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee as pw

from kiosk.errors import StorageError

log = logging.getLogger(__name__)

database = pw.DatabaseProxy()

#: Milliseconds a writer waits for the lock held by another process (sync, backup).
BUSY_TIMEOUT_MS = 5000

_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class UTCDateTimeField(pw.Field):
    """A UTC instant stored as fixed-width text, so it sorts and compares correctly.

    Python values are timezone-aware; naive values are refused rather than guessed.
    """

    field_type = "TEXT"

    def db_value(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"{self.name}: a naive datetime cannot be stored; use UTC")
        return value.astimezone(UTC).strftime(_TS_FORMAT)

    def python_value(self, value: str | datetime | None) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value  # aggregates (MAX) may already be converted by Peewee
        # fromisoformat reads _TS_FORMAT's text exactly, about 7x faster than strptime: a
        # board of 200 loans parses 600 of these (6 ms of strptime on this machine).
        return datetime.fromisoformat(value).replace(tzinfo=UTC)


class JSONField(pw.TextField):
    """A JSON document in a TEXT column."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class BaseModel(pw.Model):
    id = pw.AutoField()

    class Meta:
        database = database
        legacy_table_names = False


class Staff(BaseModel):
    """A member of staff. No pupil data is ever stored anywhere."""

    staff_id = pw.CharField(unique=True)  # the school's own reference, from the staff CSV
    name = pw.CharField()  # full name, "Amira Khan"
    known_as = pw.CharField(default="")  # what pupils call them, "Ms Khan"
    role = pw.CharField(default="staff")  # staff | office | admin
    classes = pw.CharField(default="")  # space-separated class names, upper case: "5B 5A"
    email = pw.CharField(default="")
    badge_uid = pw.CharField(null=True, unique=True)
    active = pw.BooleanField(default=True)
    inactive_reason = pw.CharField(default="")  # leaver, long absence, ...
    pin_hash = pw.CharField(default="")  # admins only: pbkdf2 of the admin PIN

    @property
    def class_list(self) -> list[str]:
        return self.classes.split()

    @property
    def greeting_name(self) -> str:
        return self.known_as or self.name


class Item(BaseModel):
    """Something staff borrow: a trolley key, a class camera, a trip phone."""

    asset_tag = pw.CharField(unique=True)  # the school's own reference, from the items CSV
    name = pw.CharField()  # "Class camera 5B"
    kind = pw.CharField(default="other")  # a key of [kinds] in the settings
    tag_uid = pw.CharField(null=True, unique=True)
    home_class = pw.CharField(default="")  # class cameras: the only class that may borrow it
    contents = JSONField(default=list)  # [{"name": "iPads", "count": 30}, ...]
    phone_number = pw.CharField(default="")  # trip phones
    status = pw.CharField(default="available")  # available | damaged | lost | retired
    notes = pw.TextField(default="")


class Loan(BaseModel):
    """One borrowing of one item by one person, open until ``closed_at`` is set."""

    item = pw.ForeignKeyField(Item, backref="loans", on_delete="RESTRICT")
    # Null only once the retention period has anonymised a closed loan.
    borrower = pw.ForeignKeyField(Staff, backref="loans", null=True, on_delete="RESTRICT")
    out_at = UTCDateTimeField()
    out_clock_synced = pw.BooleanField(default=True)
    # While the clock is not set: the boot and monotonic time of out_at, so that it can be
    # corrected once the clock is set in the same boot (kiosk.loans.clockfix); the
    # correction applied, in seconds, once it has been.
    out_boot_id = pw.CharField(null=True)
    out_mono = pw.FloatField(null=True)
    out_corrected = pw.FloatField(null=True)
    due_at = UTCDateTimeField(null=True)
    trip = pw.CharField(default="")  # trip phones: where to
    off_site = pw.BooleanField(default=False)
    closed_at = UTCDateTimeField(null=True)
    closed_by = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT", backref="loans_closed")
    outcome = pw.CharField(null=True)  # returned | handed_over | lost | undone
    checklist = JSONField(null=True)  # the return checklist answers
    condition_note = pw.TextField(default="")
    anonymised = pw.BooleanField(default=False)

    # Peewee adds the raw foreign-key columns; declared here for the type checker.
    item_id: int
    borrower_id: int | None
    closed_by_id: int | None


class Event(BaseModel):
    """Append-only audit log: one row for every action, in UTC, with the clock's state."""

    at = UTCDateTimeField()
    clock_synced = pw.BooleanField()
    boot_id = pw.CharField(null=True)  # while the clock is not set: see Loan.out_boot_id
    mono = pw.FloatField(null=True)
    corrected = pw.FloatField(null=True)  # seconds added to ``at`` once the clock was set
    action = pw.CharField()
    staff = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT")
    item = pw.ForeignKeyField(Item, null=True, on_delete="RESTRICT")
    loan = pw.ForeignKeyField(Loan, null=True, on_delete="RESTRICT")
    reader = pw.CharField(default="")
    detail = JSONField(default=dict)

    staff_id: int | None
    item_id: int | None
    loan_id: int | None


class Outbox(BaseModel):
    """An alert waiting to be delivered, written in the same transaction as its event.

    ``uid`` is the alert's id on the wire (webhook-id, Message-ID): random, made
    when it is raised, kept by every retry, never reused by a restore or another
    kiosk. ``key`` is the fact it reports inside this kiosk ("lost:loan:42"): the
    unique index makes raising the same fact twice a no-op. See ``kiosk.alerts``.
    """

    uid = pw.CharField(unique=True, default=lambda: str(uuid.uuid4()))
    key = pw.CharField(unique=True)
    kind = pw.CharField()  # overdue | overdue_escalated | lost | damaged | images_not_erased | ...
    audience = pw.CharField()  # office | slt | it
    event = pw.ForeignKeyField(Event, null=True, on_delete="RESTRICT")
    loan = pw.ForeignKeyField(Loan, null=True, on_delete="RESTRICT")
    payload = JSONField()
    created_at = UTCDateTimeField()
    attempts = pw.IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(null=True)
    delivered_at = UTCDateTimeField(null=True)
    dead_at = UTCDateTimeField(null=True)
    last_error = pw.TextField(default="")

    event_id: int | None
    loan_id: int | None


class Delivery(BaseModel):
    """One alert on one channel: its own attempts, back-off, lease and outcome.

    An alert routed to Teams and email is delivered, retried and failed on each
    separately, so a dead webhook cannot hold back the email. ``claimed_by`` /
    ``claimed_until`` is the lease a sync process takes (in a BEGIN IMMEDIATE
    transaction) before sending, so two processes never send a row at once.
    ``loan_id`` is copied from the alert so that alerts about one loan can be
    sent in order of creation (an index covers it).
    """

    outbox = pw.ForeignKeyField(Outbox, backref="deliveries", on_delete="CASCADE")
    channel = pw.CharField()  # a name from [sync.channels]
    loan_id = pw.IntegerField(null=True)
    created_at = UTCDateTimeField()
    attempts = pw.IntegerField(default=0)
    next_attempt_at = UTCDateTimeField()
    claimed_by = pw.CharField(null=True)
    claimed_until = UTCDateTimeField(null=True)
    delivered_at = UTCDateTimeField(null=True)
    dead_at = UTCDateTimeField(null=True)
    last_error = pw.TextField(default="")
    last_status = pw.IntegerField(null=True)  # HTTP status or SMTP reply code of the last try

    outbox_id: int

    class Meta:
        indexes = ((("outbox", "channel"), True),)


class PersonalCall(BaseModel):
    """A personal call, text or email from a trip phone (the policy's Appendix 5 form).

    ``made_at`` is the instant the call was made, as the member of staff gave it (a day
    of the trip and a time). Calls recorded before the ``_personal_call_instants`` step
    kept only the words typed ("23/11 12:10", no year): those words stay in ``stated``,
    and ``made_at`` is set only once they have been read without guessing
    (``kiosk.loans.calls.read_stated_times``).
    """

    loan = pw.ForeignKeyField(Loan, backref="personal_calls", on_delete="RESTRICT")
    made_at = UTCDateTimeField(null=True)
    stated = pw.TextField(default="")
    number = pw.CharField()  # the number called or texted (with its dialling code), or address
    reason = pw.TextField(default="")
    recorded_at = UTCDateTimeField()
    # Who typed it in: the person at the kiosk at the return, or the office afterwards.
    recorded_by = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT")

    loan_id: int
    recorded_by_id: int | None


class StockTake(BaseModel):
    """An end-of-day stock-take, saved: when (its event) and how many tags were seen."""

    event = pw.ForeignKeyField(Event, on_delete="RESTRICT")
    seen = pw.IntegerField()

    event_id: int


class StockTakeLine(BaseModel):
    """One item a stock-take had something to say about.

    ``state``: missing (not seen, not on loan), out (not seen, on loan: expected) or
    here (seen, but the records showed it out). ``loan``: its last loan (who had it).
    Names are read through the loan, so retention's anonymising reaches them too.
    """

    stock_take = pw.ForeignKeyField(StockTake, backref="lines", on_delete="CASCADE")
    item = pw.ForeignKeyField(Item, on_delete="RESTRICT")
    state = pw.CharField()
    loan = pw.ForeignKeyField(Loan, null=True, on_delete="RESTRICT")

    stock_take_id: int
    item_id: int
    loan_id: int | None


class UnknownTag(BaseModel):
    """A tag the kiosk did not know, recorded at most once per UID per quiet period."""

    uid = pw.CharField(index=True)
    reader = pw.CharField(default="")
    seen_at = UTCDateTimeField(index=True)


class Problem(BaseModel):
    """Something wrong that stays on the office's list until the office records what happened.

    Raised where the fact is recorded (a short count, damage, images left on a camera,
    a loss), in the same transaction. Its times are its events' times (``opened_event``,
    ``resolved_event``), so a time taken while the clock was not set is corrected with
    them (``kiosk.loans.clockfix``); who had the item is its loan's borrower, so the
    retention period removes the person with the loan. See ``kiosk.loans.problems``.
    """

    kind = pw.CharField()  # short | damaged | images | lost
    item = pw.ForeignKeyField(Item, backref="problems", on_delete="RESTRICT")
    loan = pw.ForeignKeyField(Loan, null=True, on_delete="RESTRICT")
    detail = JSONField(default=dict)  # short: {"missing": {"iPads": 2}}; damaged: {"note": ...}
    opened_event = pw.ForeignKeyField(Event, on_delete="RESTRICT", backref="problems_opened")
    resolved_event = pw.ForeignKeyField(
        Event, null=True, on_delete="RESTRICT", backref="problems_resolved"
    )
    resolution = pw.CharField(null=True)  # found | repaired | written_off | erased
    resolution_note = pw.TextField(default="")

    item_id: int
    loan_id: int | None
    opened_event_id: int
    resolved_event_id: int | None


class OfficeAct(BaseModel):
    """The office acted on someone's behalf on a loan: who did it, and why.

    ``act``: ``signed_out_for`` (a forgotten badge), ``returned_for`` (an item found
    in the staffroom) or ``lent_to_class`` (a class camera lent once to another class).
    """

    loan = pw.ForeignKeyField(Loan, backref="office_acts", on_delete="RESTRICT")
    act = pw.CharField()
    # Null only once the retention period has anonymised the loan.
    by = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT", backref="office_acts")
    reason = pw.TextField(default="")
    event = pw.ForeignKeyField(Event, on_delete="RESTRICT")

    loan_id: int
    by_id: int | None
    event_id: int


class SpareCard(BaseModel):
    """A card from the office's pool, given to supply or visiting staff for one day.

    ``holder`` and ``given_event`` are who has it and when it was given; it works
    until the end of that school day (``kiosk.loans.cards``). ``switched_off``: the
    card was reported lost.
    """

    uid = pw.CharField(unique=True)
    label = pw.CharField(unique=True)  # "Spare card 2", written on the card
    holder = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT", backref="spare_cards")
    given_event = pw.ForeignKeyField(Event, null=True, on_delete="RESTRICT")
    switched_off = pw.BooleanField(default=False)

    holder_id: int | None
    given_event_id: int | None


class SwitchedOffTag(BaseModel):
    """A badge switched off at the kiosk (reported lost): a tap on it is refused, in words."""

    uid = pw.CharField(unique=True)
    staff = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT")
    event = pw.ForeignKeyField(Event, on_delete="RESTRICT")

    staff_id: int | None
    event_id: int


MODELS: list[type[BaseModel]] = [
    Staff,
    Item,
    Loan,
    Event,
    Outbox,
    PersonalCall,
    UnknownTag,
    Delivery,
    Problem,
    OfficeAct,
    SpareCard,
    SwitchedOffTag,
    StockTake,
    StockTakeLine,
]


# --- migrations -------------------------------------------------------------------------


SCHEMA_DIR = Path(__file__).parent


def _run_sql_file(db: pw.SqliteDatabase, name: str) -> None:
    """Run a frozen schema script statement by statement, inside the caller's transaction.

    (``executescript`` would commit first, breaking the all-or-nothing migration.)
    """
    text = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    for statement in body.split(";"):
        if statement.strip():
            db.execute_sql(statement)


def _v0_to_v1(db: pw.SqliteDatabase) -> None:
    # Version 1 is frozen as SQL (schema_v1.sql), not built from the models, so that a
    # database made by the first release always migrates the same way whatever the
    # models later become. It includes the partial unique index that allows one open
    # loan per item.
    _run_sql_file(db, "schema_v1.sql")


def _v1_to_v2(db: pw.SqliteDatabase) -> None:
    # Per-channel delivery state for the outbox (sync). Frozen as SQL like v1.
    statements = [
        'CREATE TABLE "delivery" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"outbox_id" INTEGER NOT NULL, "channel" VARCHAR(255) NOT NULL, "loan_id" INTEGER, '
        '"created_at" TEXT NOT NULL, "attempts" INTEGER NOT NULL DEFAULT 0, '
        '"next_attempt_at" TEXT NOT NULL, "claimed_by" VARCHAR(255), "claimed_until" TEXT, '
        '"delivered_at" TEXT, "dead_at" TEXT, "last_error" TEXT NOT NULL DEFAULT \'\', '
        '"last_status" INTEGER, '
        'FOREIGN KEY ("outbox_id") REFERENCES "outbox" ("id") ON DELETE CASCADE)',
        'CREATE UNIQUE INDEX "delivery_outbox_id_channel" ON "delivery" ("outbox_id", "channel")',
        # What is due, in order of creation (the claim query walks this).
        "CREATE INDEX delivery_pending ON delivery (outbox_id) "
        "WHERE delivered_at IS NULL AND dead_at IS NULL",
        # Is an earlier alert about the same loan still waiting on this channel?
        "CREATE INDEX delivery_chain ON delivery (loan_id, channel, outbox_id) "
        "WHERE delivered_at IS NULL AND dead_at IS NULL AND loan_id IS NOT NULL",
        "CREATE INDEX delivery_delivered_at ON delivery (delivered_at) "
        "WHERE delivered_at IS NOT NULL",
        "CREATE INDEX outbox_dead ON outbox (dead_at) WHERE dead_at IS NOT NULL",
    ]
    for statement in statements:
        db.execute_sql(statement)


def _v2_to_v3(db: pw.SqliteDatabase) -> None:
    # "What do I have out?" on every badge tap: without this the lookup walks all of a
    # person's past loans (about 1.4 ms with a million loans; 0.005 ms with it).
    db.execute_sql(
        "CREATE INDEX loan_open_borrower ON loan (borrower_id, out_at) WHERE closed_at IS NULL"
    )


def _v3_to_v4(db: pw.SqliteDatabase) -> None:
    # Alerts get a random wire id of their own (kiosk.alerts). Those already raised keep
    # their key as their id, so an alert waiting to be retried is still sent as itself.
    db.execute_sql("ALTER TABLE outbox ADD COLUMN uid VARCHAR(255) NOT NULL DEFAULT ''")
    db.execute_sql("UPDATE outbox SET uid = key")
    db.execute_sql('CREATE UNIQUE INDEX "outbox_uid" ON "outbox" ("uid")')


def _v4_to_v5(db: pw.SqliteDatabase) -> None:
    # Times taken while the clock was not set carry what is needed to correct them later.
    for statement in (
        'ALTER TABLE "loan" ADD COLUMN "out_boot_id" VARCHAR(255)',
        'ALTER TABLE "loan" ADD COLUMN "out_mono" REAL',
        'ALTER TABLE "loan" ADD COLUMN "out_corrected" REAL',
        'ALTER TABLE "event" ADD COLUMN "boot_id" VARCHAR(255)',
        'ALTER TABLE "event" ADD COLUMN "mono" REAL',
        'ALTER TABLE "event" ADD COLUMN "corrected" REAL',
        # What is left to correct: few rows, found at every sync pass.
        "CREATE INDEX event_to_correct ON event (boot_id) "
        "WHERE clock_synced = 0 AND corrected IS NULL",
        "CREATE INDEX loan_to_correct ON loan (out_boot_id) "
        "WHERE out_clock_synced = 0 AND out_corrected IS NULL",
    ):
        db.execute_sql(statement)


def _v5_to_v6(db: pw.SqliteDatabase) -> None:
    # A change counter per list, kept by SQLite itself, for the importer: a preview notes
    # the counters, and its apply (holding the write lock) compares them instead of
    # reading both lists again (about 50 ms for 10,000 people, during which taps wait).
    # "staff" / "item" count every change to a row; "staff_tags" / "item_tags" only the
    # changes the other list's import depends on (names, references and tags).
    db.execute_sql(
        "CREATE TABLE list_revision (id INTEGER NOT NULL PRIMARY KEY, "
        "name TEXT NOT NULL UNIQUE, revision INTEGER NOT NULL)"
    )
    db.execute_sql(
        "INSERT INTO list_revision (name, revision) VALUES "
        "('staff', 0), ('staff_tags', 0), ('item', 0), ('item_tags', 0)"
    )
    bump = "UPDATE list_revision SET revision = revision + 1 WHERE"
    for table, key, tag in (("staff", "staff_id", "badge_uid"), ("item", "asset_tag", "tag_uid")):
        both = f"name IN ('{table}', '{table}_tags')"
        for when in ("INSERT", "DELETE"):
            db.execute_sql(
                f"CREATE TRIGGER {table}_{when.lower()}_revision AFTER {when} ON {table} "
                f"BEGIN {bump} {both}; END"
            )
        tags_changed = " OR ".join(
            f"OLD.{column} IS NOT NEW.{column}" for column in ("name", key, tag)
        )
        db.execute_sql(
            f"CREATE TRIGGER {table}_update_revision AFTER UPDATE ON {table} BEGIN {bump} "
            f"name = '{table}' OR (name = '{table}_tags' AND ({tags_changed})); END"
        )


#: A fresh random incarnation id: 32 hex digits.
NEW_INCARNATION_SQL = (
    "UPDATE replica_meta SET value = lower(hex(randomblob(16))) WHERE key = 'incarnation'"
)


def _v6_to_v7_change_journal(db: pw.SqliteDatabase) -> None:
    # Replication to the trust's PostgreSQL (sync/trust) sends rows that changed, in the
    # order they changed. Triggers append (table, row id) to change_journal in the same
    # transaction as the change itself, so a change and its journal entry are committed
    # (or lost to a power cut) together; AUTOINCREMENT keeps ``seq`` increasing even
    # after acknowledged entries are deleted. replica_meta holds this database's
    # incarnation: ``kiosk restore`` gives the restored file a new one, which tells the
    # trust to reconcile this kiosk's rows in full. Self-contained: frozen SQL, like v1.
    statements = [
        "CREATE TABLE change_journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "tbl TEXT NOT NULL, row_id INTEGER NOT NULL)",
        "CREATE TABLE replica_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO replica_meta (key, value) VALUES ('incarnation', lower(hex(randomblob(16))))",
    ]
    for table in ("staff", "item", "loan", "event"):
        add = f"INSERT INTO change_journal (tbl, row_id) VALUES ('{table}', "
        statements += [
            f"CREATE TRIGGER journal_{table}_insert AFTER INSERT ON {table} "
            f"BEGIN {add}NEW.id); END",
            f"CREATE TRIGGER journal_{table}_update AFTER UPDATE ON {table} "
            f"BEGIN {add}NEW.id); END",
            # A changed id (never done today) also retires the old one.
            f"CREATE TRIGGER journal_{table}_rekey AFTER UPDATE OF id ON {table} "
            f"WHEN OLD.id <> NEW.id BEGIN {add}OLD.id); END",
            f"CREATE TRIGGER journal_{table}_delete AFTER DELETE ON {table} "
            f"BEGIN {add}OLD.id); END",
        ]
    for statement in statements:
        db.execute_sql(statement)


def _office_tables(db: pw.SqliteDatabase) -> None:
    # The office's tables (issue 12, sections 1 and 2): open problems until someone deals
    # with them, what the office did on someone's behalf, spare cards for visiting staff,
    # and badges switched off because they were lost. New tables only: nothing existing
    # changes, so this step stands on its own whatever other steps come before it.
    for statement in (
        'CREATE TABLE "problem" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"kind" VARCHAR(255) NOT NULL, "item_id" INTEGER NOT NULL, "loan_id" INTEGER, '
        '"detail" TEXT NOT NULL, "opened_event_id" INTEGER NOT NULL, '
        '"resolved_event_id" INTEGER, "resolution" VARCHAR(255), '
        "\"resolution_note\" TEXT NOT NULL DEFAULT '', "
        'FOREIGN KEY ("item_id") REFERENCES "item" ("id") ON DELETE RESTRICT, '
        'FOREIGN KEY ("loan_id") REFERENCES "loan" ("id") ON DELETE RESTRICT, '
        'FOREIGN KEY ("opened_event_id") REFERENCES "event" ("id") ON DELETE RESTRICT, '
        'FOREIGN KEY ("resolved_event_id") REFERENCES "event" ("id") ON DELETE RESTRICT)',
        # The office's list, and "what is already known missing" on a trolley's return.
        "CREATE INDEX problem_open_item ON problem (item_id) WHERE resolved_event_id IS NULL",
        'CREATE INDEX "problem_loan_id" ON "problem" ("loan_id")',
        'CREATE INDEX "problem_resolved_event_id" ON "problem" ("resolved_event_id")',
        'CREATE TABLE "office_act" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"loan_id" INTEGER NOT NULL, "act" VARCHAR(255) NOT NULL, "by_id" INTEGER, '
        '"reason" TEXT NOT NULL DEFAULT \'\', "event_id" INTEGER NOT NULL, '
        'FOREIGN KEY ("loan_id") REFERENCES "loan" ("id") ON DELETE RESTRICT, '
        'FOREIGN KEY ("by_id") REFERENCES "staff" ("id") ON DELETE RESTRICT, '
        'FOREIGN KEY ("event_id") REFERENCES "event" ("id") ON DELETE RESTRICT)',
        'CREATE INDEX "office_act_loan_id" ON "office_act" ("loan_id")',
        'CREATE TABLE "spare_card" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"uid" VARCHAR(255) NOT NULL, "label" VARCHAR(255) NOT NULL, "holder_id" INTEGER, '
        '"given_event_id" INTEGER, "switched_off" INTEGER NOT NULL DEFAULT 0, '
        'FOREIGN KEY ("holder_id") REFERENCES "staff" ("id") ON DELETE RESTRICT, '
        'FOREIGN KEY ("given_event_id") REFERENCES "event" ("id") ON DELETE RESTRICT)',
        'CREATE UNIQUE INDEX "spare_card_uid" ON "spare_card" ("uid")',
        'CREATE UNIQUE INDEX "spare_card_label" ON "spare_card" ("label")',
        'CREATE TABLE "switched_off_tag" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"uid" VARCHAR(255) NOT NULL, "staff_id" INTEGER, "event_id" INTEGER NOT NULL, '
        'FOREIGN KEY ("staff_id") REFERENCES "staff" ("id") ON DELETE RESTRICT, '
        'FOREIGN KEY ("event_id") REFERENCES "event" ("id") ON DELETE RESTRICT)',
        'CREATE UNIQUE INDEX "switched_off_tag_uid" ON "switched_off_tag" ("uid")',
    ):
        db.execute_sql(statement)


def _personal_call_instants(db: pw.SqliteDatabase) -> None:
    # Personal calls get a real instant. Until now ``made_at`` held the words typed at
    # the kiosk ("23/11 12:10": no year, the school's local time). The migration does
    # not guess: it keeps those words in ``stated`` and leaves the instant empty, to be
    # read once the school's time zone is known (kiosk.loans.calls.read_stated_times).
    # Also: who recorded each call. SQLite cannot change a column's type or NOT NULL,
    # so the table is rebuilt (nothing refers to it).
    for statement in (
        'CREATE TABLE "personal_call_new" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"loan_id" INTEGER NOT NULL, "made_at" TEXT, "stated" TEXT NOT NULL DEFAULT \'\', '
        '"number" VARCHAR(255) NOT NULL, "reason" TEXT NOT NULL, "recorded_at" TEXT NOT NULL, '
        '"recorded_by_id" INTEGER, '
        'FOREIGN KEY ("loan_id") REFERENCES "loan" ("id") ON DELETE RESTRICT, '
        'FOREIGN KEY ("recorded_by_id") REFERENCES "staff" ("id") ON DELETE RESTRICT)',
        'INSERT INTO "personal_call_new" (id, loan_id, made_at, stated, number, reason, '
        "recorded_at, recorded_by_id) "
        "SELECT id, loan_id, NULL, made_at, number, reason, recorded_at, NULL "
        'FROM "personal_call"',
        'DROP TABLE "personal_call"',
        'ALTER TABLE "personal_call_new" RENAME TO "personal_call"',
        'CREATE INDEX "personal_call_loan_id" ON "personal_call" ("loan_id")',
        'CREATE INDEX "personal_call_recorded_by_id" ON "personal_call" ("recorded_by_id")',
        # The Appendix 5 export and the day's report read calls by when they were made.
        'CREATE INDEX "personal_call_made_at" ON "personal_call" ("made_at")',
        # What is left to read: only old rows, found by every sync pass.
        'CREATE INDEX "personal_call_stated_only" ON "personal_call" ("id") WHERE made_at IS NULL',
    ):
        db.execute_sql(statement)


def _stock_take_kept(db: pw.SqliteDatabase) -> None:
    # The office's day: the end-of-day stock-take is kept (it was shown once and lost):
    # when (its event), how many tags were seen, and each item missing, out, or here
    # though shown as out; and the day's damage and losses can be found by time.
    for statement in (
        'CREATE TABLE "stock_take" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"event_id" INTEGER NOT NULL, "seen" INTEGER NOT NULL, '
        'FOREIGN KEY ("event_id") REFERENCES "event" ("id") ON DELETE RESTRICT)',
        'CREATE INDEX "stock_take_event_id" ON "stock_take" ("event_id")',
        'CREATE TABLE "stock_take_line" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"stock_take_id" INTEGER NOT NULL, "item_id" INTEGER NOT NULL, '
        '"state" VARCHAR(255) NOT NULL, "loan_id" INTEGER, '
        'FOREIGN KEY ("stock_take_id") REFERENCES "stock_take" ("id") ON DELETE CASCADE, '
        'FOREIGN KEY ("item_id") REFERENCES "item" ("id") ON DELETE RESTRICT, '
        'FOREIGN KEY ("loan_id") REFERENCES "loan" ("id") ON DELETE RESTRICT)',
        'CREATE INDEX "stock_take_line_stock_take_id" ON "stock_take_line" ("stock_take_id")',
        'CREATE INDEX "stock_take_line_item_id" ON "stock_take_line" ("item_id")',
        'CREATE INDEX "stock_take_line_loan_id" ON "stock_take_line" ("loan_id")',
        # The day's report finds damage and losses reported that day without reading the
        # whole journal (kiosk.loans.day).
        "CREATE INDEX event_day_problems ON event (at) WHERE action IN ('damaged', 'lost')",
        # ...and what was overdue at the end of a past day and has come back since: only
        # loans returned late, by when they came back (not every loan closed since then).
        "CREATE INDEX loan_closed_late ON loan (closed_at) WHERE closed_at > due_at",
    ):
        db.execute_sql(statement)


MIGRATIONS: list[Callable[[pw.SqliteDatabase], None]] = [
    _v0_to_v1,
    _v1_to_v2,
    _v2_to_v3,
    _v3_to_v4,
    _v4_to_v5,
    _v5_to_v6,
    _v6_to_v7_change_journal,
    _office_tables,
    _personal_call_instants,
    _stock_take_kept,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: pw.SqliteDatabase) -> int:
    return int(db.execute_sql("PRAGMA user_version").fetchone()[0])


def migrate(db: pw.SqliteDatabase) -> int:
    """Bring the schema up to date; returns the number of steps applied."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise StorageError(
            f"{db.database}: written by a newer kiosk (schema {current}, this one knows "
            f"{SCHEMA_VERSION}). Update the kiosk software or restore an older backup."
        )
    for version in range(current, SCHEMA_VERSION):
        with db.atomic():
            MIGRATIONS[version](db)
            db.execute_sql(f"PRAGMA user_version = {version + 1}")
        log.info("database %s migrated to schema %d", db.database, version + 1)
    return SCHEMA_VERSION - current


#: Free space (bytes) below which a disk I/O error is taken to mean "the card is full":
#: SQLite needs room for WAL frames and a 32 kB shared-memory file before it can work.
LOW_SPACE_BYTES = 1024 * 1024


def sqlite_error_name(exc: BaseException) -> str:
    """SQLite's own error name ("SQLITE_FULL", "SQLITE_IOERR_WRITE") behind ``exc``, or "".

    Peewee wraps sqlite3's exceptions, and a failed rollback used to hide the first
    error in ``__context__``; the whole chain is searched, the most telling name wins
    (a full disk explains the I/O errors that follow it).
    """
    names: list[str] = []
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        name = getattr(e, "sqlite_errorname", None)
        if isinstance(name, str):
            names.append(name)
        todo += [c for c in (e.__cause__, e.__context__) if c is not None]
        todo += [a for a in e.args if isinstance(a, BaseException)]
    for wanted in ("SQLITE_FULL", "SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_READONLY"):
        for name in names:
            if name.startswith(wanted):
                return name
    return names[0] if names else ""


def free_bytes(path: str | Path) -> int | None:
    """Bytes the kiosk's user may still write on the file system holding ``path``."""
    folder = Path(path)
    folder = folder if folder.is_dir() else folder.parent
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _read_only_file_system(path: str | Path) -> bool:
    folder = Path(path)
    folder = folder if folder.is_dir() else folder.parent
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def disk_is_full(exc: BaseException, path: str | Path) -> bool:
    """Whether ``exc`` happened because the card holding ``path`` has no room left.

    SQLITE_FULL says so itself. Opening a WAL database on a full card fails earlier,
    as a plain "disk I/O error" (the shared-memory file cannot be sized), so an I/O
    error counts as a full card when the file system has (almost) no space left.
    """
    name = sqlite_error_name(exc)
    text = str(exc).lower()
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return True
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        free = free_bytes(path)
        return free is not None and free < LOW_SPACE_BYTES
    return False


def explain_sqlite_error(exc: BaseException, path: str | Path) -> str:
    """Say what went wrong with the database file in words the IT lead can act on.

    Every failed write reaches the person through here (the kiosk screen's failed
    tap, every command's one ``kiosk:`` line), so a new kind of failure is worded once.
    """
    name = sqlite_error_name(exc)
    text = str(exc).lower()
    if disk_is_full(exc, path):
        return (
            f"The kiosk's SD card is full, so nothing can be saved in {path}. Ask the IT "
            "lead to free some space (old backups, for example); the kiosk carries on by "
            "itself once there is room."
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        return (
            f"The database {path} is busy (another program holds it). "
            "Try again; if it lasts, restart the kiosk."
        )
    if (
        name.startswith("SQLITE_READONLY")
        or "readonly" in text
        or "read-only" in text
        or "attempt to write" in text
    ):
        if _read_only_file_system(path):
            return (
                f"The database {path} is on a read-only file system (a card with errors is "
                "often switched to read-only): nothing can be saved. Ask the IT lead to "
                "check the SD card, then restart the kiosk."
            )
        return (
            f"The database {path} cannot be written (read-only). Check its owner and "
            "permissions: the kiosk's user must be able to write it and its folder."
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        if _read_only_file_system(path):
            return (
                f"The database {path} is on a read-only file system (a card with errors is "
                "often switched to read-only): nothing can be saved. Ask the IT lead to "
                "check the SD card, then restart the kiosk."
            )
        return f"The database {path} cannot be opened. Check the folder exists and is writable."
    if (
        name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
        or "malformed" in text
        or "not a database" in text
    ):
        return (
            f"The database {path} is damaged. Restore last night's backup with "
            "'kiosk restore FILE'."
        )
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return (
            f"The SD card holding {path} could not be read or written (disk I/O error). "
            "Restart the kiosk; if it happens again the card may be failing: ask the IT "
            "lead to check it and restore last night's backup."
        )
    return f"Database problem with {path}: {exc}"


#: WAL pages after which the kiosk screen's own commits checkpoint (SQLite's default is
#: 1000). A checkpoint inside a tap's commit costs milliseconds on a large database, so
#: the screen checkpoints when it returns to idle (``LoanService.checkpoint``) and this
#: is only the safety net that keeps the WAL bounded (about 40 MB) on a busy morning.
SCREEN_WAL_AUTOCHECKPOINT = 10_000


class KioskDatabase(pw.SqliteDatabase):
    """Peewee's SQLite database, except that a failure is never hidden by its rollback.

    On some errors (SQLITE_FULL, SQLITE_IOERR, ...) SQLite rolls the transaction back
    itself. Peewee then rolls back again, which fails ("cannot rollback - no transaction
    is active") and that second error replaced the real one: a full card read as a
    mysterious "Database problem". Here a rollback with nothing to roll back is skipped,
    so the first error is the one reported, and nothing is left half-written either way.
    """

    def _nothing_to_roll_back(self) -> bool:
        return not self.is_closed() and not self.connection().in_transaction

    def rollback(self) -> None:
        if self._nothing_to_roll_back():
            log.debug("SQLite had already rolled the transaction back")
            return
        super().rollback()

    def savepoint(self) -> pw._savepoint:
        return _Savepoint(self)


class _Savepoint(pw._savepoint):
    def rollback(self, begin: bool = True) -> None:
        if isinstance(self.db, KioskDatabase) and self.db._nothing_to_roll_back():
            return  # the whole transaction, savepoint included, is already gone
        super().rollback(begin)


def _is_empty_file(path: Path) -> bool:
    """A 0-byte database file with no write-ahead log holding its pages either."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size == 0 and (not wal.exists() or wal.stat().st_size == 0)


def _empty_file_refused(path: Path) -> StorageError:
    return StorageError(
        f"The database file {path} is empty: the school's records are not in it (a failed "
        "copy or a full card can do this). Restore last night's backup with "
        "'kiosk restore FILE'; or, to start a new, empty database in this file, run the "
        "command again with --new-database."
    )


def _check_is_kiosk_database(
    db: pw.SqliteDatabase, path: Path, *, existed: bool, new: bool
) -> None:
    """Refuse a file that is not a kiosk database before any table is added to it."""
    if schema_version(db) > 0:
        return
    tables = [
        row[0]
        for row in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
    ]
    if tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise StorageError(
            f"{path} is an SQLite database but not the kiosk's (its tables: {shown}). "
            "Check [kiosk] db in the settings (or --db)."
        )
    if existed and not new:
        raise _empty_file_refused(path)


def open_database(
    path: Path | str,
    *,
    migrate_schema: bool = True,
    wal_autocheckpoint: int | None = None,
    new_database: bool = False,
) -> pw.SqliteDatabase:
    """Open the kiosk database at ``path`` and bind the models to it.

    A missing file is created (a kiosk's first start). An existing file must be a
    kiosk database: an empty one (0 bytes, or SQLite's header and nothing else) is
    refused unless ``new_database`` (the command line's ``--new-database``), because
    taking it for a new school would hide that the records are gone. Another
    program's SQLite file is always refused.

    ``wal_autocheckpoint``: see ``SCREEN_WAL_AUTOCHECKPOINT``; None keeps SQLite's default.
    """
    path = Path(path)
    existed = False
    if str(path) != ":memory:":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the folder for the database {path}: {exc.strerror}. "
                "Check the path in the settings (or --db)."
            ) from exc
        existed = path.exists()
        if existed and path.is_file() and _is_empty_file(path) and not new_database:
            raise _empty_file_refused(path)  # before SQLite writes its header into it
    db = KioskDatabase(
        str(path),
        pragmas={
            "journal_mode": "wal",
            "synchronous": "full",
            "foreign_keys": 1,
            "busy_timeout": BUSY_TIMEOUT_MS,
            # The WAL is checkpointed often enough on its own; this keeps it small on the SD card.
            "journal_size_limit": 16 * 1024 * 1024,
            **({"wal_autocheckpoint": wal_autocheckpoint} if wal_autocheckpoint else {}),
        },
        lock_type="IMMEDIATE",
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        _check_is_kiosk_database(db, path, existed=existed, new=new_database)
        if migrate_schema:
            migrate(db)
    except (pw.DatabaseError, sqlite3.Error) as exc:
        db.close()
        raise StorageError(explain_sqlite_error(exc, path)) from exc
    except BaseException:
        db.close()
        raise
    return db


# --- readers in other processes ---------------------------------------------------------


def _readonly_uri(path: Path) -> str:
    from urllib.parse import quote

    return f"file:{quote(str(path.resolve()))}?mode=ro"


def _check_readable(path: Path, con: sqlite3.Connection) -> None:
    """A reader cannot create or migrate the schema: say what to start first instead."""
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    if version < SCHEMA_VERSION:
        raise StorageError(
            f"The kiosk database {path} is from an older kiosk (schema {version}, this one "
            f"reads {SCHEMA_VERSION}). Start the kiosk once (or run 'kiosk status'), which "
            "updates it, then start this again."
        )
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"{path}: written by a newer kiosk (schema {version}, this one knows "
            f"{SCHEMA_VERSION}). Update the kiosk software."
        )
    mode = str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    if mode != "wal":
        raise StorageError(
            f"The kiosk database {path} is not in WAL mode ({mode}), so reading it could "
            "hold up a tap. Start the kiosk once (it sets WAL), then start this again."
        )


def open_database_readonly(path: Path | str) -> pw.SqliteDatabase:
    """Open the kiosk database for reading only and bind the models to it.

    For ``kiosk web``: a ``mode=ro`` connection cannot write a row whatever the code
    above it does (``query_only`` says the same twice), and in WAL mode a reader never
    blocks the kiosk's writes, so serving pages cannot slow a tap. The schema is not
    created or migrated here: the kiosk does that.
    """
    path = Path(path)
    if not path.is_file():
        raise StorageError(
            f"The kiosk database {path} does not exist yet. Start the kiosk first (or run "
            "'kiosk status' once), or check [kiosk] db in the settings."
        )
    db = pw.SqliteDatabase(
        _readonly_uri(path),
        uri=True,
        pragmas={"query_only": 1, "busy_timeout": BUSY_TIMEOUT_MS},
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    try:
        db.connect(reuse_if_open=True)
        _check_readable(path, db.connection())
    except (pw.OperationalError, pw.DatabaseError, sqlite3.Error) as exc:
        db.close()
        raise StorageError(explain_sqlite_error(exc, path)) from exc
    except StorageError:
        db.close()
        raise
    database.initialize(db)
    return db


class ChangeWatch:
    """Tells cheaply whether anyone has committed to the database since the last look.

    ``PRAGMA data_version`` on one long-lived read-only connection changes whenever
    another connection commits; asking costs microseconds and takes no lock, so one
    watcher looking a few times a second costs the kiosk nothing.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self._con = sqlite3.connect(
                _readonly_uri(self.path), uri=True, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StorageError(explain_sqlite_error(exc, self.path)) from exc

    def version(self) -> int:
        try:
            return int(self._con.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise StorageError(explain_sqlite_error(exc, self.path)) from exc

    def close(self) -> None:
        self._con.close()


class _NothingToKeep(Exception):
    """Rolls the writability probe back."""


def check_writable(db: pw.SqliteDatabase) -> None:
    """Raise StorageError unless the kiosk can write to the database (checked at start).

    SQLite opens a file it may not write read-only without a word, and only the first
    write fails: a kiosk screen would come up, report ready, and refuse every tap. This
    takes the write lock and changes the header in a transaction it rolls back, so
    SQLite itself says whether a write would work; nothing is written.
    """
    try:
        with db.atomic():
            db.execute_sql(f"PRAGMA user_version = {schema_version(db)}")
            raise _NothingToKeep
    except _NothingToKeep:
        return
    except (pw.DatabaseError, sqlite3.DatabaseError) as exc:
        raise StorageError(explain_sqlite_error(exc, db.database)) from exc


@contextmanager
def write(db: pw.SqliteDatabase | None = None) -> Iterator[None]:
    """A write transaction (BEGIN IMMEDIATE); storage failures become StorageError.

    Constraint violations stay IntegrityError: they are the caller's to handle.
    """
    target = db or database.obj
    try:
        with target.atomic():
            yield
    except (pw.IntegrityError, sqlite3.IntegrityError):
        raise
    except (pw.DatabaseError, sqlite3.DatabaseError) as exc:
        raise StorageError(explain_sqlite_error(exc, target.database)) from exc

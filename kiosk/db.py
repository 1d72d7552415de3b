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
        return datetime.strptime(value, _TS_FORMAT).replace(tzinfo=UTC)


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
    """A personal call, text or email from a trip phone (the policy's Appendix 5 form)."""

    loan = pw.ForeignKeyField(Loan, backref="personal_calls", on_delete="RESTRICT")
    made_at = pw.CharField()  # local date and time as the member of staff gave it
    number = pw.CharField()
    reason = pw.TextField(default="")
    recorded_at = UTCDateTimeField()

    loan_id: int


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


def _v6_to_v7_office(db: pw.SqliteDatabase) -> None:
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


MIGRATIONS: list[Callable[[pw.SqliteDatabase], None]] = [
    _v0_to_v1,
    _v1_to_v2,
    _v2_to_v3,
    _v3_to_v4,
    _v4_to_v5,
    _v5_to_v6,
    _v6_to_v7_office,
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


def explain_sqlite_error(exc: BaseException, path: str | Path) -> str:
    """Say what went wrong with the database file in words the IT lead can act on."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return (
            f"The database {path} is busy (another program holds it). "
            "Try again; if it lasts, restart the kiosk."
        )
    if "disk is full" in text or "database or disk is full" in text:
        return f"The disk holding {path} is full. Free some space (old backups?) and try again."
    if "readonly" in text or "read-only" in text or "attempt to write" in text:
        return (
            f"The database {path} cannot be written (read-only). Check its owner and permissions."
        )
    if "unable to open" in text:
        return f"The database {path} cannot be opened. Check the folder exists and is writable."
    if "malformed" in text or "not a database" in text:
        return (
            f"The database {path} is damaged. Restore last night's backup with "
            "'kiosk restore FILE'."
        )
    return f"Database problem with {path}: {exc}"


#: WAL pages after which the kiosk screen's own commits checkpoint (SQLite's default is
#: 1000). A checkpoint inside a tap's commit costs milliseconds on a large database, so
#: the screen checkpoints when it returns to idle (``LoanService.checkpoint``) and this
#: is only the safety net that keeps the WAL bounded (about 40 MB) on a busy morning.
SCREEN_WAL_AUTOCHECKPOINT = 10_000


def open_database(
    path: Path | str, *, migrate_schema: bool = True, wal_autocheckpoint: int | None = None
) -> pw.SqliteDatabase:
    """Open (creating if needed) the kiosk database at ``path`` and bind the models to it.

    ``wal_autocheckpoint``: see ``SCREEN_WAL_AUTOCHECKPOINT``; None keeps SQLite's default.
    """
    path = Path(path)
    if str(path) != ":memory:":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the folder for the database {path}: {exc.strerror}. "
                "Check the path in the settings (or --db)."
            ) from exc
    db = pw.SqliteDatabase(
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
        if migrate_schema:
            migrate(db)
    except (pw.OperationalError, pw.DatabaseError, sqlite3.Error) as exc:
        db.close()
        raise StorageError(explain_sqlite_error(exc, path)) from exc
    return db


@contextmanager
def write(db: pw.SqliteDatabase | None = None) -> Iterator[None]:
    """A write transaction (BEGIN IMMEDIATE); storage failures become StorageError."""
    target = db or database.obj
    try:
        with target.atomic():
            yield
    except (pw.OperationalError, sqlite3.OperationalError) as exc:
        raise StorageError(explain_sqlite_error(exc, target.database)) from exc

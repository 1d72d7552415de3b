"""Import the staff list and the item list from CSV: see what will change, then apply exactly that.

``preview(what, path, ...)`` reads the file (``kiosk.csvfile``), checks every row
(``kiosk.records``) and works out, read-only, what the import would do: who or what is
added, which fields of whom change (old and new), how many rows are unchanged. It
writes nothing and never takes the write lock, so taps go on while it works.
``apply(plan, ...)`` then writes that plan in one brief ``BEGIN IMMEDIATE`` transaction
(all or nothing), after checking that the lists have not changed since the preview
(``PlanOutdated`` otherwise: preview again).

Rows are matched on ``staff_id`` / ``asset_tag``: re-importing the same file changes
nothing, and a blank tag cell never wipes a tag enrolled at the kiosk. No import or
edit may leave the school without an active admin who has a PIN (``kiosk.admins``).

``preview_record`` / ``save_staff`` / ``save_item`` do the same for one record typed
into the admin screen.

The importer needs only the settings (item kinds, the school's name in alerts) and a
clock (for its events, through ``kiosk.journal``); no loan service.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import peewee as pw

from kiosk import db as store
from kiosk.admins import NO_ADMIN_LEFT, NoAdminLeft, admin_losses, keep_an_admin
from kiosk.clock import Clock
from kiosk.csvfile import Table, by_line, read_table
from kiosk.db import Item, Loan, Staff
from kiosk.errors import ImportFileError
from kiosk.journal import Journal
from kiosk.loans.people import leaver_alerts
from kiosk.records import (
    ITEM_COLUMNS,
    MULTILINE_COLUMNS,
    STAFF_COLUMNS,
    format_contents,
    parse_item,
    parse_staff,
)
from kiosk.settings import Settings

log = logging.getLogger(__name__)

_MAX_BYTES = 20 * 1024 * 1024

#: A person's fields that, changed on the signed-in admin's own record, need a "sure?".
OWN_RECORD_FIELDS = ("name", "role", "badge_uid", "active")


# --- plans and reports ------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str  # as the office would write it in the CSV ("(blank)" for nothing)
    new: str

    def __str__(self) -> str:
        return f"{self.field} {self.old} -> {self.new}"


@dataclass(frozen=True)
class RowPlan:
    """One row the import adds or changes."""

    line: int
    key: str  # staff_id / asset_tag
    name: str  # the name the records have now (the new name for an added row)
    pk: int | None  # None: added
    changes: tuple[FieldChange, ...]  # empty for an added row
    values: Mapping[str, Any]  # what is written: every given field (added) or the changed ones
    note: str = ""  # "still has 2 items out: the office will be told"

    def describe(self) -> str:
        if self.pk is None:
            return f"add     line {self.line}: {self.key} {self.name}"
        text = f"change  line {self.line}: {self.key} {self.name}: " + "; ".join(
            str(c) for c in self.changes
        )
        return f"{text} ({self.note})" if self.note else text


#: One SQL statement and the parameters of each row it is run for.
Statement = tuple[str, tuple[tuple[Any, ...], ...]]


@dataclass(frozen=True)
class Plan:
    """What an import will do, worked out read-only; ``apply`` writes exactly this."""

    what: str  # "staff" | "items"
    source: str  # the file's name, or "admin screen"
    encoding: str  # how the file was read, in words: "UTF-8, comma-separated"
    added: tuple[RowPlan, ...]
    changed: tuple[RowPlan, ...]
    unchanged: int
    ignored_columns: tuple[str, ...]
    revisions: tuple[int, ...]  # the lists' change counters when the plan was made
    statements: tuple[Statement, ...] = field(default=(), repr=False, compare=False)
    """The writes, ready to run: ``apply`` holds the write lock only to check and run them."""

    @property
    def from_form(self) -> bool:
        return self.source == ADMIN_SCREEN

    def changes_to(self, staff_pk: int) -> RowPlan | None:
        """The planned change to one person (e.g. the signed-in admin), if any."""
        if self.what != "staff":
            return None
        return next((r for r in self.changed if r.pk == staff_pk), None)

    def asks_first(self, staff_pk: int | None) -> str | None:
        """The question to ask before saving when this changes the signed-in admin's own
        name, role, badge or active flag; None when it does not."""
        row = self.changes_to(staff_pk) if staff_pk is not None else None
        own = [c for c in row.changes if c.field in OWN_RECORD_FIELDS] if row else []
        if row is None or not own:
            return None
        return (
            f"This changes your own record ({row.key} {row.name}): "
            + "; ".join(str(c) for c in own)
            + ". Save it anyway?"
        )

    def lines(self) -> list[str]:
        """One line per added or changed row, in file order."""
        rows = sorted((*self.added, *self.changed), key=lambda r: r.line)
        return [r.describe() for r in rows]

    def summary(self) -> str:
        return _said(
            f"{self.source} ({self.encoding}): would add {len(self.added)}, change "
            f"{len(self.changed)}, leave {self.unchanged} unchanged.",
            self.ignored_columns,
        )


def _said(summary: str, ignored_columns: Iterable[str], alerts: int = 0) -> str:
    """A summary line with the columns left out and the alerts raised, if any."""
    if ignored_columns:
        summary += f" Ignored columns: {', '.join(ignored_columns)}."
    if alerts:
        summary += f" {alerts} alert(s) raised for leavers who still have items."
    return summary


ADMIN_SCREEN = "admin screen"


@dataclass
class ImportReport:
    """What an applied plan did."""

    what: str  # "staff" | "items"
    file: str
    encoding: str
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    alerts: int = 0

    def summary(self) -> str:
        return _said(
            f"{self.file} ({self.encoding}): {self.added} added, {self.changed} changed, "
            f"{self.unchanged} unchanged.",
            self.ignored_columns,
            self.alerts,
        )


class PlanOutdated(ImportFileError):
    """The lists changed between the preview and its apply: nothing was written."""


# --- the two lists ----------------------------------------------------------------------


@dataclass(frozen=True)
class _List:
    """What differs between the staff list and the item list."""

    what: str
    model: type[Staff] | type[Item]
    key: str  # the school's own reference, which rows are matched on
    uid: str  # the tag column
    columns: Mapping[str, str]
    #: What a plan depends on: this list whole, and the other list's names and tags.
    depends_on: tuple[str, str]

    @property
    def required(self) -> list[str]:
        return [c for c, doc in self.columns.items() if doc.startswith("required")]

    def parse(self, row: Mapping[str, str], settings: Settings) -> Any:
        if self.model is Staff:
            return parse_staff(row)
        return parse_item(row, {key: rule.label for key, rule in settings.kinds.items()})


_LISTS = {
    "staff": _List(
        "staff",
        Staff,
        "staff_id",
        "badge_uid",
        STAFF_COLUMNS,
        ("staff", "item_tags"),
    ),
    "items": _List(
        "items",
        Item,
        "asset_tag",
        "tag_uid",
        ITEM_COLUMNS,
        ("item", "staff_tags"),
    ),
}


def _revisions(spec: _List) -> tuple[int, ...]:
    """The change counters a plan depends on (``kiosk.db``'s list_revision, kept by
    triggers): reading them is all ``apply`` needs to know the lists did not change."""
    marks = ", ".join("?" * len(spec.depends_on))
    rows = store.database.execute_sql(
        f"SELECT revision FROM list_revision WHERE name IN ({marks}) ORDER BY name",
        spec.depends_on,
    ).fetchall()
    return tuple(int(r[0]) for r in rows)


# --- preview ----------------------------------------------------------------------------


def _read(path: Path, spec: _List) -> Table:
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise ImportFileError(f"{path}: the file is too large for a staff or item list.")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportFileError(f"{path}: no such file.") from exc
    except IsADirectoryError as exc:
        raise ImportFileError(f"{path}: is a folder, not a CSV file.") from exc
    except PermissionError as exc:
        raise ImportFileError(f"{path}: cannot be read (permission denied).") from exc
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read: {exc.strerror}.") from exc
    try:
        return read_table(data, spec.columns, spec.required, MULTILINE_COLUMNS)
    except ImportFileError as exc:
        raise ImportFileError(f"{path}: {exc.args[0]}", exc.problems) from None


def preview(what: str, path: Path, settings: Settings) -> Plan:
    """What importing ``path`` as the ``what`` ("staff" or "items") list would do.

    Writes nothing. Raises ImportFileError listing every bad line (or, by line, who
    would stop being able to open admin) when the import could not be applied.
    """
    spec = _LISTS[what]
    table = _read(path, spec)
    return _plan(
        spec,
        [(row.line, row.cells) for row in table.rows],
        settings,
        path,
        f"{table.encoding}, {table.delimiter_name}-separated",
        table.ignored,
    )


def preview_record(what: str, row: Mapping[str, str], settings: Settings) -> Plan:
    """The same for one record typed into the admin screen's form (the same checks)."""
    return _plan(_LISTS[what], [(1, dict(row))], settings, None, "form", ())


def _refusal(path: Path | None, why: str, problems: list[str]) -> ImportFileError:
    """A file's refusal: one line, then ``line N:`` lines; a form's: one sentence."""
    if path is not None:
        return ImportFileError(f"{path}: nothing was imported. {why}", by_line(problems))
    text = " ".join(p.removeprefix("line 1: ") for p in problems)
    return ImportFileError(text[:1].upper() + text[1:] + ".")


def _plan(
    spec: _List,
    rows: list[tuple[int, Mapping[str, str]]],
    settings: Settings,
    path: Path | None,
    encoding: str,
    ignored: Iterable[str],
) -> Plan:
    records: list[tuple[int, Any]] = []
    problems: list[str] = []
    for line, row in rows:
        try:
            records.append((line, spec.parse(row, settings)))
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    # One read transaction: the rows compared, the tag owners and the revisions are one
    # snapshot of the database. It takes no write lock (WAL readers never block a tap).
    with store.database.atomic(lock_type="DEFERRED"):
        existing: dict[str, Any] = {getattr(r, spec.key): r for r in spec.model.select()}
        problems += _check(records, spec, existing, _tag_owners())
        if problems:
            raise _refusal(path, "Fix these lines:", problems)
        added, changed, unchanged = _diff(records, spec, existing)
        if spec.model is Staff:
            _refuse_losing_admin(changed, path)
        revisions = _revisions(spec)
    return Plan(
        spec.what,
        path.name if path is not None else ADMIN_SCREEN,
        encoding,
        tuple(added),
        tuple(changed),
        unchanged,
        tuple(ignored),
        revisions,
        _statements(spec.model, added, changed),
    )


def _refuse_losing_admin(changed: list[RowPlan], path: Path | None) -> None:
    losses = admin_losses({r.pk: r.values for r in changed if r.pk is not None})
    if not losses:
        return
    if path is None:
        raise NoAdminLeft(losses)
    line_of = {r.pk: r.line for r in changed}
    raise _refusal(
        path,
        f"{NO_ADMIN_LEFT}, so nobody could open admin at the kiosk. Keep at least one "
        "admin who has a PIN ('kiosk set-pin') as they are:",
        [f"line {line_of[loss.pk]}: {loss}" for loss in losses],
    )


def _tag_owners() -> dict[str, str]:
    owners = {
        str(s.badge_uid): f"{s.name}'s badge (staff_id {s.staff_id})"
        for s in Staff.select(Staff.badge_uid, Staff.name, Staff.staff_id).where(
            Staff.badge_uid.is_null(False)
        )
    }
    owners.update(
        {
            str(i.tag_uid): f"the tag on {i.name} (asset_tag {i.asset_tag})"
            for i in Item.select(Item.tag_uid, Item.name, Item.asset_tag).where(
                Item.tag_uid.is_null(False)
            )
        }
    )
    return owners


def _check(
    records: list[tuple[int, Any]],
    spec: _List,
    existing: Mapping[str, Any],
    owners: Mapping[str, str],
) -> list[str]:
    """Duplicate IDs and tag numbers within the file, and tags already used elsewhere."""
    key, uid = spec.key, spec.uid
    problems: list[str] = []
    seen: dict[str, int] = {}
    seen_uid: dict[str, int] = {}
    for line, rec in records:
        ref, tag = getattr(rec, key), getattr(rec, uid)
        if ref in seen:
            problems.append(f"line {line}: {key} {ref} is also on line {seen[ref]}")
            continue
        seen[ref] = line
        if not tag:
            continue
        if tag in seen_uid:
            problems.append(f"line {line}: {uid} {tag} is also on line {seen_uid[tag]}")
        seen_uid[tag] = line
        current = existing.get(ref)
        owner = owners.get(tag)
        if owner and not (current is not None and getattr(current, uid) == tag):
            problems.append(f"line {line}: {uid} {tag} is already {owner}")
    return problems


def _show(name: str, value: Any) -> str:
    """A value as the office would write it in the CSV file."""
    if value is None or value == "" or value == []:
        return "(blank)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "contents":
        return format_contents(value)
    text = str(value)
    return f'"{text}"' if name in ("name", "known_as", "notes") else text


def _diff(
    records: list[tuple[int, Any]], spec: _List, existing: Mapping[str, Any]
) -> tuple[list[RowPlan], list[RowPlan], int]:
    added: list[RowPlan] = []
    changed: list[RowPlan] = []
    unchanged = 0
    for line, rec in records:
        ref = getattr(rec, spec.key)
        current = existing.get(ref)
        given = {f.name: getattr(rec, f.name) for f in fields(rec)}
        if current is None:
            values = {k: v for k, v in given.items() if v is not None}
            added.append(RowPlan(line, ref, rec.name, None, (), values))
            continue
        diff = {k: v for k, v in given.items() if v is not None and getattr(current, k) != v}
        if not diff:
            unchanged += 1
            continue
        shown = tuple(
            FieldChange(k, _show(k, getattr(current, k)), _show(k, v)) for k, v in diff.items()
        )
        values = dict(diff)
        note = ""
        if spec.model is Staff and "active" in diff:
            if diff["active"]:
                values["inactive_reason"] = ""
            else:
                # Marked as a leaver by the import: the office hears about items still out.
                values["inactive_reason"] = current.inactive_reason or "marked inactive by import"
                out = Loan.select().where(Loan.borrower == current.id, Loan.closed_at.is_null())
                if count := out.count():
                    note = f"still has {count} item(s) out: the office will be told"
        changed.append(RowPlan(line, ref, current.name, current.id, shown, values, note))
    return added, changed, unchanged


# --- apply ------------------------------------------------------------------------------


def apply(plan: Plan, settings: Settings, clock: Clock) -> ImportReport:
    """Write ``plan`` in one brief transaction, all or nothing.

    Refused with ``PlanOutdated`` (nothing written) if the lists changed since the plan
    was made, and with ``NoAdminLeft`` if it would leave no active admin with a PIN.
    """
    journal = Journal(clock)
    spec = _LISTS[plan.what]
    report = ImportReport(
        plan.what,
        plan.source,
        plan.encoding,
        added=len(plan.added),
        changed=len(plan.changed),
        unchanged=plan.unchanged,
        ignored_columns=list(plan.ignored_columns),
    )
    with store.write():
        if _revisions(spec) != plan.revisions:
            raise PlanOutdated(
                f"{plan.source}: nothing was {'saved' if plan.from_form else 'imported'}: the "
                f"{'staff' if spec.model is Staff else 'item'} list changed since this preview "
                "was made (a save or a tag enrolled meanwhile?). Look at the preview again."
            )
        if spec.model is Staff:
            keep_an_admin({r.pk: r.values for r in plan.changed if r.pk is not None})
        cursor = store.database.cursor()
        for sql, params in plan.statements:
            cursor.executemany(sql, params)
        if spec.model is Staff:
            report.alerts = _leavers(plan, settings, clock)
        if plan.from_form:
            journal.event(f"{plan.what}_saved", detail={"record": _saved_name(plan)})
        else:
            journal.event(
                "import",
                detail={
                    "what": plan.what,
                    "file": plan.source,
                    "added": report.added,
                    "changed": report.changed,
                    "unchanged": report.unchanged,
                },
            )
    log.info("imported %s: %s", plan.what, report.summary())
    return report


def _column_value(f: pw.Field, values: Mapping[str, Any]) -> Any:
    if f.name in values:
        return f.db_value(values[f.name])
    default = f.default() if callable(f.default) else f.default
    return f.db_value(default)


def _statements(
    model: type[Staff] | type[Item], added: list[RowPlan], changed: list[RowPlan]
) -> tuple[Statement, ...]:
    """The plan's writes as a few executemany statements, built before the write lock is
    taken. (Peewee's per-row queries cost about 0.3 ms each: for 10,000 rows they would
    hold the write lock for seconds, freezing taps.)"""
    meta = model._meta
    table, by_name = meta.table_name, meta.fields
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in changed:
        names = tuple(sorted(row.values))
        params = tuple(by_name[n].db_value(row.values[n]) for n in names)
        groups.setdefault(names, []).append((*params, row.pk))
    statements: list[Statement] = []
    for names, params_list in groups.items():
        sets = ", ".join(f'"{by_name[n].column_name}" = ?' for n in names)
        statements.append((f'UPDATE "{table}" SET {sets} WHERE "id" = ?', tuple(params_list)))
    if added:
        columns = [f for f in meta.sorted_fields if f.name != "id"]
        names_sql = ", ".join(f'"{f.column_name}"' for f in columns)
        marks = ", ".join("?" * len(columns))
        statements.append(
            (
                f'INSERT INTO "{table}" ({names_sql}) VALUES ({marks})',
                tuple(tuple(_column_value(f, row.values) for f in columns) for row in added),
            )
        )
    return tuple(statements)


def _leavers(plan: Plan, settings: Settings, clock: Clock) -> int:
    """Events (and the office's alerts) for people the plan switches off."""
    alerts = 0
    for row in plan.changed:
        if row.values.get("active") is False:
            person = Staff.get_by_id(row.pk)
            reason = "import" if not plan.from_form else "admin screen"
            ev = Journal(clock).event(
                "staff_inactive", staff_id=person.id, detail={"reason": reason}
            )
            alerts += len(leaver_alerts(settings, clock, person, ev))
    return alerts


# --- one call for each, as before ---------------------------------------------------------


def import_staff(path: Path, settings: Settings, clock: Clock) -> ImportReport:
    """Import the staff list from a CSV file, all or nothing (preview, then apply)."""
    return apply(preview("staff", path, settings), settings, clock)


def import_items(path: Path, settings: Settings, clock: Clock) -> ImportReport:
    """Import the item list from a CSV file, all or nothing (preview, then apply)."""
    return apply(preview("items", path, settings), settings, clock)


def _saved_name(plan: Plan) -> str:
    rows = (*plan.added, *plan.changed)
    return str(rows[0].values.get("name", rows[0].name)) if rows else ""


def _save_one(what: str, settings: Settings, clock: Clock, row: Mapping[str, str]) -> str:
    plan = preview_record(what, row, settings)
    report = apply(plan, settings, clock)
    name = _saved_name(plan) or str(row.get("name", "")).strip()
    return f"{name} {'added' if report.added else 'saved'}."


def save_staff(settings: Settings, clock: Clock, row: Mapping[str, str]) -> str:
    """Add or update one person from the admin screen's form (same checks as a CSV line)."""
    return _save_one("staff", settings, clock, row)


def save_item(settings: Settings, clock: Clock, row: Mapping[str, str]) -> str:
    """Add or update one item from the admin screen's form (same checks as a CSV line)."""
    return _save_one("items", settings, clock, row)

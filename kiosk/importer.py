"""Import the staff list and the item list from CSV, all or nothing.

The office exports these from the school's MIS or keeps them in Excel, so the
file may be UTF-8 with or without a byte-order mark, or Excel's Windows-1252
("Siân", "Zoë"), separated by commas or semicolons. Every bad line and every
duplicate is reported by line number and then nothing is written. Rows are
matched on ``staff_id`` / ``asset_tag``: re-importing the same file changes
nothing, and a blank tag cell never wipes a tag enrolled at the kiosk.

``save_staff`` / ``save_item`` apply the same checks to one record typed into
the admin screen.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kiosk import db as store
from kiosk.clock import Clock
from kiosk.db import Item, Staff
from kiosk.errors import ImportFileError
from kiosk.journal import Journal
from kiosk.loans.people import leaver_alerts
from kiosk.records import (
    ITEM_COLUMNS,
    STAFF_COLUMNS,
    parse_item,
    parse_staff,
)
from kiosk.settings import Settings

log = logging.getLogger(__name__)

_MAX_BYTES = 20 * 1024 * 1024


@dataclass
class ImportReport:
    what: str  # "staff" | "items"
    file: str
    encoding: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    alerts: int = 0

    def summary(self) -> str:
        text = (
            f"{self.file} ({self.encoding}): {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged."
        )
        if self.ignored_columns:
            text += f" Ignored columns: {', '.join(self.ignored_columns)}."
        if self.alerts:
            text += f" {self.alerts} alert(s) raised for leavers who still have items."
        return text


def decode(data: bytes) -> tuple[str, str]:
    """Bytes of a CSV file -> (text, the encoding in words)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 with BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16 (Excel Unicode text)"
    with contextlib.suppress(UnicodeDecodeError):  # not UTF-8: try Excel's encoding next
        return data.decode("utf-8"), "UTF-8"
    try:
        return data.decode("cp1252"), "Windows-1252 (Excel)"
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "The file's text encoding is not UTF-8 or Excel's Windows-1252. "
            "In Excel use Save As > 'CSV UTF-8 (Comma delimited)'."
        ) from exc


def _header_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def read_rows(
    path: Path, columns: Mapping[str, str]
) -> tuple[list[tuple[int, dict[str, str]]], str, list[str]]:
    """Read a CSV into (line number, row) pairs keyed by normalised column names."""
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
    text, encoding = decode(data)
    if not text.strip():
        raise ImportFileError(f"{path}: the file is empty.")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ImportFileError(f"{path}: line 1 cannot be read as CSV: {exc}") from exc
    keys = [_header_key(h) for h in header]
    required = [c for c, doc in columns.items() if doc.startswith("required")]
    missing = [c for c in required if c not in keys]
    if missing:
        raise ImportFileError(
            f"{path}: the first line must name the columns; missing: {', '.join(missing)}. "
            f"Columns: {', '.join(columns)} (see 'kiosk import --help')."
        )
    dupes = sorted({k for k in keys if keys.count(k) > 1 and k})
    if dupes:
        raise ImportFileError(f"{path}: column {', '.join(dupes)} appears twice in line 1.")
    ignored = [h for h, k in zip(header, keys, strict=True) if k not in columns and h.strip()]
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys) :]):
                problems.append(
                    f"line {line}: {len(cells)} cells but line 1 names {len(keys)} columns "
                    "(a comma inside a name needs quotes)"
                )
                continue
            row = {
                k: (cells[i] if i < len(cells) else "") for i, k in enumerate(keys) if k in columns
            }
            rows.append((line, row))
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: cannot be read as CSV: {exc}")
    if problems:
        raise ImportFileError(f"{path}: nothing was imported. Fix these lines:", problems)
    if not rows:
        raise ImportFileError(f"{path}: has column names but no rows.")
    return rows, encoding, ignored


def _changes(model: Any, record: Any, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Fields of ``record`` that differ from ``model`` (None in the record means keep)."""
    out: dict[str, Any] = {}
    for f in fields(record):
        if f.name in skip:
            continue
        value = getattr(record, f.name)
        if value is not None and getattr(model, f.name) != value:
            out[f.name] = value
    return out


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
    records: list[tuple[int, Any]], key: str, uid: str, existing: Mapping[str, Any]
) -> list[str]:
    """Duplicate IDs and tag numbers within the file, and tags already used elsewhere."""
    owners = _tag_owners()
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


def _write(
    records: list[tuple[int, Any]],
    key: str,
    model: type[Staff] | type[Item],
    existing: Mapping[str, Any],
    report: ImportReport,
) -> list[tuple[Any, dict[str, Any]]]:
    """Insert new rows and update changed ones; returns (updated instance, its old values)."""
    new_rows = []
    updated = []
    for _line, rec in records:
        current = existing.get(getattr(rec, key))
        if current is None:
            new_rows.append(
                {
                    f.name: getattr(rec, f.name)
                    for f in fields(rec)
                    if getattr(rec, f.name) is not None
                }
            )
            continue
        changes = _changes(current, rec)
        if not changes:
            report.unchanged += 1
            continue
        before = {name: getattr(current, name) for name in changes}
        for name, value in changes.items():
            setattr(current, name, value)
        current.save()
        updated.append((current, before))
    for start in range(0, len(new_rows), 200):
        model.insert_many(new_rows[start : start + 200]).execute()
    report.added += len(new_rows)
    report.updated += len(updated)
    return updated


@dataclass(frozen=True)
class _List:
    """What differs between the staff list and the item list."""

    model: type[Staff] | type[Item]
    key: str  # the school's own reference, which rows are matched on
    uid: str  # the tag column
    columns: Mapping[str, str]

    def parse(self, row: Mapping[str, str], settings: Settings) -> Any:
        if self.model is Staff:
            return parse_staff(row)
        return parse_item(row, list(settings.kinds))


_LISTS = {
    "staff": _List(Staff, "staff_id", "badge_uid", STAFF_COLUMNS),
    "items": _List(Item, "asset_tag", "tag_uid", ITEM_COLUMNS),
}


def _apply(
    what: str,
    records: list[tuple[int, Any]],
    settings: Settings,
    clock: Clock,
    report: ImportReport,
) -> None:
    """Check and write records inside the caller's transaction; raise _Rollback on problems."""
    spec = _LISTS[what]
    existing: dict[str, Any] = {getattr(r, spec.key): r for r in spec.model.select()}
    problems = _check(records, spec.key, spec.uid, existing)
    if problems:
        raise _Rollback(problems)
    for row, before in _write(records, spec.key, spec.model, existing, report):
        if spec.model is Staff and before.get("active") is True and not row.active:
            # Marked as a leaver by the import: the office must hear about items still out.
            row.inactive_reason = row.inactive_reason or "marked inactive by import"
            row.save()
            ev = Journal(clock).event(
                "staff_inactive", staff_id=row.id, detail={"reason": "import"}
            )
            report.alerts += len(leaver_alerts(settings, clock, row, ev))


def _import(what: str, path: Path, settings: Settings, clock: Clock) -> ImportReport:
    spec = _LISTS[what]
    rows, encoding, ignored = read_rows(path, spec.columns)
    records: list[tuple[int, Any]] = []
    problems: list[str] = []
    for line, row in rows:
        try:
            records.append((line, spec.parse(row, settings)))
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    report = ImportReport(what, path.name, encoding, ignored_columns=ignored)
    try:
        with store.write():
            if problems:
                # Still look for duplicates, so the office sees every problem at once.
                problems += _check(records, spec.key, spec.uid, {})
                raise _Rollback(problems)
            _apply(what, records, settings, clock, report)
            Journal(clock).event(
                "import",
                detail={
                    "what": what,
                    "file": path.name,
                    "added": report.added,
                    "updated": report.updated,
                },
            )
    except _Rollback as rollback:
        ordered = sorted(rollback.problems, key=lambda p: int(p.split(":")[0].split()[1]))
        raise ImportFileError(f"{path}: nothing was imported. Fix these lines:", ordered) from None
    log.info("imported %s: %s", what, report.summary())
    return report


def import_staff(path: Path, settings: Settings, clock: Clock) -> ImportReport:
    """Import the staff list from a CSV file, all or nothing."""
    return _import("staff", path, settings, clock)


def import_items(path: Path, settings: Settings, clock: Clock) -> ImportReport:
    """Import the item list from a CSV file, all or nothing."""
    return _import("items", path, settings, clock)


class _Rollback(ImportFileError):
    """Raised inside the import transaction so that nothing is written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Nothing was saved:", problems)


def _save_one(what: str, settings: Settings, clock: Clock, row: Mapping[str, str]) -> str:
    try:
        record = _LISTS[what].parse(row, settings)
    except ValueError as exc:
        raise ImportFileError(str(exc)[0].upper() + str(exc)[1:] + ".") from exc
    report = ImportReport(what, "admin screen", "")
    try:
        with store.write():
            _apply(what, [(1, record)], settings, clock, report)
            Journal(clock).event(f"{what}_saved", detail={"record": record.name})
    except _Rollback as rollback:
        raise ImportFileError(
            " ".join(p.removeprefix("line 1: ") for p in rollback.problems) + "."
        ) from None
    return f"{record.name} {'added' if report.added else 'saved'}."


def save_staff(settings: Settings, clock: Clock, row: Mapping[str, str]) -> str:
    """Add or update one person from the admin screen's form (same checks as a CSV line)."""
    return _save_one("staff", settings, clock, row)


def save_item(settings: Settings, clock: Clock, row: Mapping[str, str]) -> str:
    """Add or update one item from the admin screen's form (same checks as a CSV line)."""
    return _save_one("items", settings, clock, row)

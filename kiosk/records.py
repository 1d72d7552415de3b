"""What a valid staff or item record is, checked the same way for CSV import and the admin screen.

Each parser takes a row of text cells (as a CSV gives them) and returns a
typed record, or raises ``ValueError`` with a message an office member can act
on ("role 'teacher' is not one of staff, office, admin"). Cells that are
absent from the row are ``None`` in the record, meaning "leave as it is".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hardware.events import InvalidUID, normalise_uid

ROLES = ("staff", "office", "admin")
ITEM_STATUSES = ("available", "damaged", "lost", "retired")

STAFF_COLUMNS = {
    "staff_id": "required. The school's own reference for the person (e.g. the MIS ID). Unique.",
    "name": "required. Full name, as the office knows them: Amira Khan.",
    "known_as": "optional. What the kiosk greets them as: Ms Khan.",
    "role": "optional. staff (default), office or admin.",
    "classes": "optional. Classes they teach, separated by ; or spaces: 5B;5A.",
    "email": "optional. Work email, for alerts about their loans.",
    "badge_uid": "optional. Badge number in hex; blank leaves an enrolled badge as it is.",
    "active": "optional. yes (default) or no for leavers and long absence.",
}

ITEM_COLUMNS = {
    "asset_tag": "required. The school's own reference for the item. Unique.",
    "name": "required. What staff call it: Class camera 5B, iPad trolley 1.",
    "kind": "required. trolley_key, camera, trip_phone or other (or a kind from the settings).",
    "tag_uid": "optional. Tag number in hex; blank leaves an enrolled tag as it is.",
    "home_class": "optional. Class cameras: the only class that may borrow it.",
    "contents": "optional. What a trolley holds: iPads:30;headphones:30.",
    "phone_number": "optional. Trip phones: the phone's number.",
    "status": "optional. available (default), damaged, lost or retired.",
    "notes": "optional. Anything the office wants to remember.",
}

#: Columns whose text may run over several lines (a quoted line break in a CSV cell).
#: Every other column is one line: it ends up in a greeting, a list or an email header.
MULTILINE_COLUMNS = frozenset({"notes"})

# Characters no typed value may hold: control characters (NUL, tab, line breaks, escape...),
# Unicode line and paragraph separators, a byte-order mark (a second file pasted in), and
# the hidden direction overrides that make text display as something other than it is.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069]")
_UNSAFE_MULTILINE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069]"
)
_CHARACTER_NAMES = {
    "\n": "a line break",
    "\r": "a line break",
    "\t": "a tab",
    "\x00": "a NUL character (a sign of a damaged file or the wrong encoding)",
    "\ufeff": "a byte-order mark (was another file pasted in?)",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}

_TRUE = {"yes", "y", "true", "1", "active"}
_FALSE = {"no", "n", "false", "0", "inactive", "left", "leaver"}
_SPLIT = re.compile(r"[;,/\s]+")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")


@dataclass(frozen=True)
class StaffRecord:
    staff_id: str
    name: str
    known_as: str | None = None
    role: str | None = None
    classes: str | None = None
    email: str | None = None
    badge_uid: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class ItemRecord:
    asset_tag: str
    name: str
    kind: str
    tag_uid: str | None = None
    home_class: str | None = None
    contents: list[dict[str, object]] | None = None
    phone_number: str | None = None
    status: str | None = None
    notes: str | None = None


def unsafe_character(text: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The first character a value may not hold: (its index, what it is in words), or None.

    One-line values refuse every control character; multi-line ones (``MULTILINE_COLUMNS``)
    allow line breaks (CR, LF or both) and tabs.
    """
    match = (_UNSAFE_MULTILINE if multiline else _UNSAFE).search(text)
    if match is None:
        return None
    char = match.group()
    name = _CHARACTER_NAMES.get(char)
    if name is None:
        kind = "a hidden text-direction character" if char >= "\u202a" else "a control character"
        name = f"{kind} (U+{ord(char):04X})"
    return match.start(), name


def _cell(row: Mapping[str, str | None], key: str) -> str | None:
    if key not in row:
        return None
    value = (row[key] or "").strip()
    bad = unsafe_character(value, multiline=key in MULTILINE_COLUMNS)
    if bad is not None:
        raise ValueError(f"{key} holds {bad[1]} at character {bad[0] + 1}; it must be plain text")
    return value


def _required(row: Mapping[str, str | None], key: str) -> str:
    value = _cell(row, key)
    if not value:
        raise ValueError(f"{key} is empty")
    return value


def _uid(value: str | None, what: str) -> str | None:
    if not value:
        return None
    try:
        return normalise_uid(value)
    except InvalidUID as exc:
        raise ValueError(f"{what} {value!r} is not a tag number (hex digits only)") from exc


def parse_classes(text: str) -> str:
    return " ".join(c.upper() for c in _SPLIT.split(text) if c)


def parse_bool(text: str, what: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{what} {text!r} should be yes or no")


def parse_contents(text: str) -> list[dict[str, object]]:
    """Parse "iPads:30; headphones:30" (or "30 iPads; ...") into [{"name", "count"}, ...]."""
    lines: list[dict[str, object]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        m = re.match(r"^(.+?)\s*[:=]\s*(\d+)$", part) or re.match(r"^(\d+)\s+(.+)$", part)
        if not m:
            raise ValueError(f"contents {part!r} should look like iPads:30")
        name, count = (
            (m.group(1), m.group(2)) if not m.group(1).isdigit() else (m.group(2), m.group(1))
        )
        if int(count) <= 0:
            raise ValueError(f"contents {part!r}: the count must be more than 0")
        lines.append({"name": name.strip(), "count": int(count)})
    names = [str(line["name"]).lower() for line in lines]
    if len(set(names)) != len(names):
        raise ValueError(f"contents {text!r} names the same thing twice")
    return lines


def format_contents(lines: Iterable[Mapping[str, object]]) -> str:
    return "; ".join(f"{line['name']}:{line['count']}" for line in lines)


def parse_staff(row: Mapping[str, str | None]) -> StaffRecord:
    role = _cell(row, "role")
    if role:
        role = role.lower()
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    active = _cell(row, "active")
    email = _cell(row, "email")
    if email and "@" not in email:
        raise ValueError(f"email {email!r} is not an email address")
    classes = _cell(row, "classes")
    return StaffRecord(
        staff_id=_required(row, "staff_id"),
        name=_required(row, "name"),
        known_as=_cell(row, "known_as"),
        role=role or ("staff" if "role" in row else None),
        classes=parse_classes(classes) if classes is not None else None,
        email=email,
        badge_uid=_uid(_cell(row, "badge_uid"), "badge_uid"),
        active=parse_bool(active, "active") if active else (True if "active" in row else None),
    )


def parse_item(
    row: Mapping[str, str | None], kinds: Iterable[str] | Mapping[str, str]
) -> ItemRecord:
    """``kinds``: the kinds' names, or names to what staff call them ("Trolley key"),
    either of which a cell may give."""
    names = dict(kinds) if isinstance(kinds, Mapping) else {k: k for k in kinds}
    by_label = {label.lower().replace(" ", "_"): key for key, label in names.items()}
    kind = _required(row, "kind").lower().replace(" ", "_")
    kind = kind if kind in names else by_label.get(kind, kind)
    if kind not in names:
        said = ", ".join(
            f"{label} ({key})" if label != key else key for key, label in names.items()
        )
        raise ValueError(f"kind {kind!r} is not one of {said}")
    status = _cell(row, "status")
    if status:
        status = status.lower()
        if status not in ITEM_STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(ITEM_STATUSES)}")
    phone = _cell(row, "phone_number")
    if phone and not _PHONE.match(phone):
        raise ValueError(f"phone_number {phone!r} is not a phone number")
    contents = _cell(row, "contents")
    home = _cell(row, "home_class")
    return ItemRecord(
        asset_tag=_required(row, "asset_tag"),
        name=_required(row, "name"),
        kind=kind,
        tag_uid=_uid(_cell(row, "tag_uid"), "tag_uid"),
        home_class=home.upper() if home is not None else None,
        contents=parse_contents(contents) if contents is not None else None,
        phone_number=phone,
        status=status or ("available" if "status" in row else None),
        notes=_cell(row, "notes"),
    )

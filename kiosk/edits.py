"""Adding and editing staff and items from the admin screen, with the checks a form needs.

The screen must never touch the ORM, and the loan service has no create/edit
calls for people and items, so they live here: a small form object in, one
validated write (with its audit event) out, and a ``Refused`` naming the field
for anything wrong. The CSV importer (``kiosk import``) applies its own checks
to whole files; these are the same rules for one record typed at the kiosk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import peewee as pw

from kiosk import db as store
from kiosk.db import Event, Item, Staff
from kiosk.errors import NotFound, Refused
from kiosk.service import LoanService
from kiosk.views import ItemView, StaffView

ROLES = ("staff", "office", "admin")
STATUSES = ("available", "damaged", "lost", "retired")

_CLASS = re.compile(r"^[A-Z0-9]{1,6}$")
_PHONE = re.compile(r"^\+?[0-9 ]{6,20}$")
_CONTENT = re.compile(r"^(?P<name>[^=]+?)\s*=\s*(?P<count>\d+)$")


@dataclass(frozen=True)
class StaffForm:
    staff_id: str
    name: str
    known_as: str = ""
    role: str = "staff"
    classes: str = ""
    email: str = ""


@dataclass(frozen=True)
class ItemForm:
    asset_tag: str
    name: str
    kind: str = "other"
    home_class: str = ""
    phone_number: str = ""
    contents: str = ""  # "iPads=30, headphones=30"
    status: str = "available"


def check_staff(form: StaffForm) -> StaffForm:
    """The form tidied, or Refused naming what to fix."""
    staff_id, name = form.staff_id.strip(), " ".join(form.name.split())
    if not staff_id:
        raise Refused("Staff ID: enter the school's reference for this person.")
    if not name:
        raise Refused("Name: enter the person's full name.")
    role = form.role.strip().lower() or "staff"
    if role not in ROLES:
        raise Refused(f"Role: must be one of {', '.join(ROLES)}.")
    classes = " ".join(c.upper() for c in form.classes.replace(",", " ").split())
    for c in classes.split():
        if not _CLASS.match(c):
            raise Refused(f"Classes: {c!r} is not a class name like 5B or R.")
    email = form.email.strip()
    if email and ("@" not in email or " " in email):
        raise Refused(f"Email: {email!r} is not an email address.")
    return StaffForm(staff_id, name, " ".join(form.known_as.split()), role, classes, email)


def parse_contents(text: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        m = _CONTENT.match(part)
        if not m:
            raise Refused(f"Contents: write each line as name=count, like iPads=30 (not {part!r}).")
        out.append({"name": m["name"].strip(), "count": int(m["count"])})
    return out


def format_contents(view: ItemView) -> str:
    return ", ".join(f"{c.name}={c.count}" for c in view.contents)


def check_item(form: ItemForm, kinds: list[str]) -> ItemForm:
    asset, name = form.asset_tag.strip(), " ".join(form.name.split())
    if not asset:
        raise Refused("Asset tag: enter the school's reference for this item.")
    if not name:
        raise Refused("Name: enter what staff call it, like Class camera 5B.")
    kind = form.kind.strip() or "other"
    if kind not in kinds:
        raise Refused(f"Kind: must be one of {', '.join(kinds)}.")
    home = form.home_class.strip().upper()
    if home and not _CLASS.match(home):
        raise Refused(f"Home class: {home!r} is not a class name like 5B.")
    phone = form.phone_number.strip()
    if phone and not _PHONE.match(phone):
        raise Refused(f"Phone number: {phone!r} is not a phone number.")
    status = form.status.strip().lower() or "available"
    if status not in STATUSES:
        raise Refused(f"Status: must be one of {', '.join(STATUSES)}.")
    parse_contents(form.contents)
    return ItemForm(asset, name, kind, home, phone, form.contents.strip(), status)


def save_staff(service: LoanService, form: StaffForm, staff_pk: int | None = None) -> StaffView:
    """Add a member of staff (``staff_pk`` None) or change one."""
    f = check_staff(form)
    clash = Staff.get_or_none(Staff.staff_id == f.staff_id)
    if clash is not None and clash.get_id() != staff_pk:
        raise Refused(f"Staff ID {f.staff_id} already belongs to {clash.name}.")
    with service._lock, store.write():
        if staff_pk is None:
            staff = Staff(staff_id=f.staff_id)
        else:
            try:
                staff = Staff.get_by_id(staff_pk)
            except pw.DoesNotExist as exc:
                raise NotFound(f"There is no member of staff number {staff_pk}.") from exc
        staff.staff_id, staff.name, staff.known_as = f.staff_id, f.name, f.known_as
        staff.role, staff.classes, staff.email = f.role, f.classes, f.email
        staff.save()
        Event.create(
            at=service.clock.now(),
            clock_synced=service.clock.synchronised(),
            action="staff_added" if staff_pk is None else "staff_edited",
            staff=staff,
            detail={"role": f.role, "classes": f.classes},
        )
    return service.staff_view(staff)


def save_item(service: LoanService, form: ItemForm, item_pk: int | None = None) -> ItemView:
    """Add an item (``item_pk`` None) or change one."""
    f = check_item(form, list(service.settings.kinds))
    clash = Item.get_or_none(Item.asset_tag == f.asset_tag)
    if clash is not None and clash.get_id() != item_pk:
        raise Refused(f"Asset tag {f.asset_tag} already belongs to {clash.name}.")
    with service._lock, store.write():
        if item_pk is None:
            item = Item(asset_tag=f.asset_tag)
        else:
            try:
                item = Item.get_by_id(item_pk)
            except pw.DoesNotExist as exc:
                raise NotFound(f"There is no item number {item_pk}.") from exc
        item.asset_tag, item.name, item.kind = f.asset_tag, f.name, f.kind
        item.home_class, item.phone_number = f.home_class, f.phone_number
        item.contents, item.status = parse_contents(f.contents), f.status
        item.save()
        Event.create(
            at=service.clock.now(),
            clock_synced=service.clock.synchronised(),
            action="item_added" if item_pk is None else "item_edited",
            item=item,
            detail={"kind": f.kind, "status": f.status},
        )
    return service.item_view(item)

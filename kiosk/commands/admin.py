"""Office and IT commands: purge, staff leaving or back, admin PINs."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from kiosk.cli import add_common, open_context
from kiosk.commands import out
from kiosk.errors import Refused
from kiosk.exporter import find_person
from kiosk.retention import purge


def add_parser(sub: Any) -> None:
    p = sub.add_parser("purge", help="apply the retention periods from the settings")
    add_common(p)
    p.set_defaults(func=run_purge)

    staff = sub.add_parser("staff", help="mark a member of staff as left / away, or back")
    action = staff.add_subparsers(dest="action", metavar="ACTION")
    action.required = True
    leave = action.add_parser("inactive", help="left the school or on long absence")
    leave.add_argument("staff", help="staff_id (or exact name)")
    leave.add_argument("--reason", default="left", help="e.g. left, long absence")
    add_common(leave)
    leave.set_defaults(func=run_staff, active=False)
    back = action.add_parser("active", help="back at school")
    back.add_argument("staff", help="staff_id (or exact name)")
    add_common(back)
    back.set_defaults(func=run_staff, active=True, reason="")

    pin = sub.add_parser("set-pin", help="set an admin's PIN for the kiosk's admin screen")
    pin.add_argument("staff", help="staff_id (or exact name) of a person with the admin role")
    add_common(pin)
    pin.set_defaults(func=run_set_pin)


def run_purge(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    out(purge(ctx.settings.retention, ctx.clock).summary())
    return 0


def run_staff(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    person = find_person(args.staff)
    out(ctx.service.set_staff_active(person.id, args.active, args.reason).message)
    return 0


def run_set_pin(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    person = find_person(args.staff)
    if person.role != "admin":
        raise Refused(f"{person.name} does not have the admin role (role: {person.role}).")
    if sys.stdin.isatty():
        pin = getpass.getpass("New admin PIN (4 to 8 digits): ")
        if getpass.getpass("Again: ") != pin:
            raise Refused("The two PINs differ. Nothing changed.")
    else:
        pin = sys.stdin.readline().strip()
    ctx.service.set_pin(person.id, pin)
    out(f"Admin PIN set for {person.name}.")
    return 0

"""Reminders to the borrower, through the outbox, to their own address on a real SMTP
server on loopback: before the due time, when overdue (before the office is told), on
school days only, never in the quiet hours, with the minimum personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from kiosk.clock import ManualClock
from kiosk.db import Outbox, Staff
from kiosk.settings import Channel, Settings, SettingsError, Smtp, evolve, settings_from
from sync.channels.base import Alert
from sync.channels.mail import NoRecipient, recipients
from sync.rules import run_rules
from tests.sync.conftest import Hillside
from tests.sync.mailserver import Inbox, start_smtp


def at(clock: ManualClock, day: int, hh: int, mm: int = 0) -> None:
    clock.wall = datetime(2026, 11, day, hh, mm, tzinfo=UTC)


def with_reminders(settings: Settings, port: int = 25, **reminders: Any) -> Settings:
    """Reminders on, to the borrower's own address; the office by email too."""
    return evolve(
        settings,
        {
            "alerts.summary_at": time(23, 59),
            "reminders.enabled": True,
            **{f"reminders.{k}": v for k, v in reminders.items()},
            "sync.smtp": Smtp(
                host="127.0.0.1",
                port=port,
                starttls=False,
                username="kiosk@hillside.example",
                password="right password",
                from_address="kiosk@hillside.example",
            ),
            "sync.channels": {
                "staff_mail": Channel(type="email", to_borrower=True),
                "office_mail": Channel(type="email", to=("office@hillside.example",)),
            },
            "sync.routes": {"borrower": ("staff_mail",), "office": ("office_mail",)},
        },
    )


def raised() -> list[tuple[str, str]]:
    return [(o.kind, o.audience) for o in Outbox.select().order_by(Outbox.id)]


def test_a_reminder_before_the_due_time_goes_to_the_borrower_alone(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    inbox: Inbox,
    smtp_server: Controller,
    deliverer_factory: Any,
) -> None:
    settings = with_reminders(settings, smtp_server.port)
    hillside.sign_out("amira", "trolley")  # 09:00, due 15:30
    at(clock, 23, 14, 59)
    assert run_rules(settings, clock) == 0
    at(clock, 23, 15, 0)
    assert run_rules(settings, clock) == 1
    assert run_rules(settings, clock) == 0  # once
    assert raised() == [("reminder", "borrower")]
    payload = Outbox.get().payload
    # The minimum: who (to deliver it), what, when. No asset tag, phone, trip or tag id.
    assert payload["person"] == {"name": "Amira Khan", "email": "a.khan@hillside.example"}
    assert payload["item"] == {"name": "iPad trolley key 1"}
    assert "0499AA01" not in json.dumps(payload) and "TK1" not in json.dumps(payload)
    report = deliverer_factory(settings).run()
    assert report.delivered == 1, report.errors
    [(envelope, msg)] = inbox.messages
    assert envelope.rcpt_tos == ["a.khan@hillside.example"]
    assert msg["To"] == "a.khan@hillside.example"
    # (A subject this long is folded onto the next line: unfolded, it starts with a space.)
    assert str(msg["Subject"]).strip() == (
        "Reminder: iPad trolley key 1 is due back at 15:30 today (Hillside Primary)"
    )
    body = msg.get_body(("plain",))
    assert body is not None and "bring it back to the office" in body.get_content()


def test_when_overdue_the_borrower_hears_before_the_office(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    settings = with_reminders(settings)
    loan = hillside.sign_out("amira", "trolley")
    at(clock, 23, 15, 30)
    assert run_rules(settings, clock) == 1  # the before-reminder's moment has passed too
    assert raised() == [("reminder_overdue", "borrower")]
    assert Outbox.get().key == f"reminder_overdue:loan:{loan}:20261123T1530"
    at(clock, 23, 15, 59)
    assert run_rules(settings, clock) == 0
    at(clock, 23, 16, 0)
    assert run_rules(settings, clock) == 1
    assert raised() == [("reminder_overdue", "borrower"), ("overdue", "office")]
    at(clock, 23, 16, 30)
    assert run_rules(settings, clock) == 0  # the office knows: no more reminders


def test_a_late_pass_still_puts_the_borrower_first(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    settings = with_reminders(settings)
    hillside.sign_out("amira", "trolley")
    at(clock, 23, 16, 5)  # sync was not running at 15:30
    assert run_rules(settings, clock) == 2
    assert raised() == [("reminder_overdue", "borrower"), ("overdue", "office")]


def test_no_reminder_without_an_address_or_while_off_or_inactive(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    on = with_reminders(settings)
    hillside.sign_out("ben", "laptops")  # Ben has no email address
    at(clock, 23, 15, 15)
    assert run_rules(on, clock) == 0
    hillside.sign_out("amira", "trolley")
    off = evolve(on, {"reminders.enabled": False})
    assert run_rules(off, clock) == 0
    Staff.update(active=False).where(Staff.id == hillside.staff["amira"].id).execute()
    assert run_rules(on, clock) == 0
    assert raised() == []


def test_something_borrowed_inside_the_window_gets_no_before_reminder(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    settings = with_reminders(settings)
    at(clock, 23, 15, 10)
    hillside.sign_out("amira", "trolley")  # due 15:30: twenty minutes away
    at(clock, 23, 15, 20)
    assert run_rules(settings, clock) == 0


def test_a_new_return_time_is_reminded_of_again(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    settings = with_reminders(settings)
    loan = hillside.sign_out("amira", "phone")
    hillside.service.set_due(loan, datetime(2026, 11, 23, 12, 0, tzinfo=UTC), trip="Pool")
    at(clock, 23, 11, 40)
    assert run_rules(settings, clock) == 1
    hillside.service.set_due(loan, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    at(clock, 23, 13, 35)
    assert run_rules(settings, clock) == 1
    assert raised() == [("reminder", "borrower"), ("reminder", "borrower")]
    assert "14:00 today" in Outbox.select().order_by(Outbox.id.desc()).get().payload["summary"]


def test_quiet_hours_hold_reminders_and_school_days_only(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    settings = with_reminders(settings, quiet_from=time(15, 0), quiet_until=time(15, 45))
    settings = evolve(settings, {"alerts.overdue_grace_minutes": 60})
    hillside.sign_out("amira", "trolley")  # due 15:30
    for hh, mm in ((15, 0), (15, 29), (15, 30), (15, 44)):
        at(clock, 23, hh, mm)
        assert run_rules(settings, clock) == 0, (hh, mm)
    at(clock, 23, 15, 45)  # quiet hours over, the office not told yet
    assert run_rules(settings, clock) == 1
    assert raised() == [("reminder_overdue", "borrower")]
    # A Friday loan due at 15:30 is not reminded of on Saturday.
    Outbox.delete().execute()
    clock.wall = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    hillside.sign_out("amira", "camera")
    at(clock, 28, 10, 0)
    assert run_rules(settings, clock) == 0


def test_no_reminder_rests_on_a_time_taken_while_the_clock_was_not_set(
    hillside: Hillside, settings: Settings, clock: ManualClock
) -> None:
    settings = with_reminders(settings)
    clock.synced = False
    hillside.sign_out("amira", "trolley")
    clock.synced = True
    clock.boot = "another-boot"  # the time cannot be corrected any more
    at(clock, 23, 15, 10)
    run_rules(settings, clock)
    assert ("reminder", "borrower") not in raised()


def test_a_to_borrower_channel_writes_to_one_address_and_nothing_else() -> None:
    channel = Channel(type="email", to_borrower=True)

    def alert(email: str) -> Alert:
        payload = {"person": {"name": "Amira Khan", "email": email}}
        return Alert(
            1, "id", "reminder", "borrower", payload, datetime(2026, 11, 23, 9, tzinfo=UTC)
        )

    assert recipients(alert("a.khan@hillside.example"), channel) == ["a.khan@hillside.example"]
    # Checked by the rule the settings use for the channels' own lists; domains as IDNA.
    assert recipients(alert("b.ortiz@ysgol-môn.cymru"), channel) == [
        "b.ortiz@xn--ysgol-mn-b4a.cymru"
    ]
    for bad in (
        "",
        "a.khan",
        "a@b.example, office@x.example",
        "a@b.example\r\nBcc: x@y",
        " a@b.example",
        "a@-hillside.example",
        "<a@b.example>",
    ):
        with pytest.raises(NoRecipient, match="check their email in the staff list"):
            recipients(alert(bad), channel)


def test_an_address_the_mail_server_cannot_take_fails_that_reminder_alone(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    inbox: Inbox,
    deliverer_factory: Any,
) -> None:
    server = start_smtp(inbox, auth_require_tls=False, enable_SMTPUTF8=False)
    try:
        settings = with_reminders(settings, server.port)
        Staff.update(email="bén@hillside.example").where(
            Staff.id == hillside.staff["ben"].id
        ).execute()
        hillside.sign_out("ben", "laptops")
        hillside.sign_out("amira", "trolley")
        at(clock, 23, 15, 0)
        assert run_rules(settings, clock) == 2
        first = Outbox.select().order_by(Outbox.id).first()
        assert first is not None and first.payload["person"]["name"] == "Ben Ortiz"
        report = deliverer_factory(settings).run()
    finally:
        server.stop()
    # Amira's reminder went; Ben's cannot go through this server, and says what to do.
    # It does not hold up the channel: the next borrower's reminder went in the same pass.
    assert report.delivered == 1
    [(envelope, _msg)] = inbox.messages
    assert envelope.rcpt_tos == ["a.khan@hillside.example"]
    [error] = report.errors
    assert "does not offer SMTPUTF8" in error and "bén@hillside.example" in error
    assert "Give this person a plain address in the staff list." in error


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"sync.routes": {}}, "[reminders] enabled: reminders need somewhere to go"),
        (
            {"sync.routes": {"borrower": ("office_mail",)}},
            "'office_mail' is not a to_borrower email channel",
        ),
        (
            {"sync.routes": {"borrower": ("staff_mail",), "office": ("staff_mail",)}},
            "'staff_mail' writes to borrowers' own addresses: it can carry only reminders",
        ),
        (
            {"sync.routes": {"borrower": ("staff_mail",), "lost": ("staff_mail",)}},
            "it can carry only reminders",
        ),
        (
            {
                "sync.channels": {
                    "staff_mail": Channel(type="email", to_borrower=True, to=("a@b.example",))
                }
            },
            "leave to empty",
        ),
        ({"reminders.before_minutes": -5}, "[reminders] before_minutes: must not be less than 0"),
    ],
)
def test_settings_that_would_send_a_reminder_to_the_wrong_people_are_refused(
    settings: Settings, changes: dict[str, Any], said: str
) -> None:
    good = with_reminders(settings)
    with pytest.raises(SettingsError) as caught:
        evolve(good, changes)
    assert said in str(caught.value)


def test_a_kiosk_toml_with_reminders_on_and_nowhere_to_send_them_names_the_key() -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from({"reminders": {"enabled": True}}, origin="kiosk.toml")
    assert str(caught.value).startswith(
        "kiosk.toml: [reminders] enabled: reminders need somewhere to go: an email channel"
    )

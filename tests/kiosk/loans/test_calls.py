"""Personal calls on trip phones (Appendix 5): several per trip, each a real instant,
refused in words when they cannot be on the trip; old free-text times read honestly."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from kiosk.calendar import SchoolCalendar
from kiosk.clock import ManualClock
from kiosk.db import Event, PersonalCall, open_database
from kiosk.errors import Refused
from kiosk.loans import LoanService
from kiosk.loans.calls import read_stated, read_stated_times
from kiosk.settings import School, Settings
from tests.conftest import TinySchool, loan_id, tap

DATA = Path(__file__).parents[2] / "data"
MONDAY = date(2026, 11, 23)


def phone_out(service: LoanService, clock: ManualClock, who: str = TinySchool.JONES) -> int:
    tap(service, clock, who)
    loan = loan_id(tap(service, clock, TinySchool.PHONE))
    service.end_session()
    return loan


def test_several_calls_on_one_trip_each_with_its_instant_number_and_reason(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = phone_out(service, clock)
    clock.advance(4 * 3600)  # 13:00
    first = service.add_personal_call(loan, MONDAY, time(11, 5), "01234 567890", "Childcare")
    assert first.message == "Call at 11:05 on Mon 23 Nov recorded (1 for this trip)."
    service.add_personal_call(loan, MONDAY, time(12, 40), "+44 7700 900999", "  Doctor  ")
    calls = service.personal_calls(loan)
    assert [(c.made_at, c.number, c.reason) for c in calls] == [
        (datetime(2026, 11, 23, 11, 5, tzinfo=UTC), "01234 567890", "Childcare"),
        (datetime(2026, 11, 23, 12, 40, tzinfo=UTC), "+44 7700 900999", "Doctor"),
    ]
    assert calls[0].phone == "Trip phone 1" and calls[0].person == "John Jones"
    assert calls[0].phone_number == "07700 900101"
    # The audit log says a call was recorded, never whom it was to.
    events = list(Event.select().where(Event.action == "personal_call"))
    assert len(events) == 2 and all("01234" not in str(e.detail) for e in events)


def test_times_are_the_schools_local_time_in_summer_too(
    settings: Settings, db: object, tiny_school: TinySchool
) -> None:
    summer = ManualClock(wall=datetime(2026, 6, 15, 8, 0, tzinfo=UTC))  # 09:00 BST
    service = LoanService(settings, summer)
    loan = phone_out(service, summer)
    summer.advance(3 * 3600)
    service.add_personal_call(loan, date(2026, 6, 15), time(10, 30), "01234 567890", "Bank")
    (call,) = service.personal_calls(loan)
    assert call.made_at == datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


def test_the_days_offered_run_from_the_trips_day_to_its_return(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = phone_out(service, clock)
    assert service.call_days(loan) == [MONDAY]
    clock.advance(2 * 86400)  # a residential trip: back on Wednesday
    tap(service, clock, TinySchool.PHONE)
    clock.advance(86400)  # the office records the calls on Thursday
    assert service.call_days(loan) == [MONDAY, date(2026, 11, 24), date(2026, 11, 25)]
    service.add_personal_call(loan, date(2026, 11, 24), time(19, 0), "01234 567890", "Home")


@pytest.mark.parametrize(
    ("day", "at", "number", "reason", "said"),
    [
        (date(2026, 11, 22), time(12, 0), "01234 567890", "Home", "went out on Mon 23 Nov"),
        (MONDAY, time(16, 0), "01234 567890", "Home", "came back at 15:00 today"),
        (MONDAY, time(12, 0), "", "Home", "Type the number called or texted"),
        (MONDAY, time(12, 0), "mum", "Home", '"mum" is not a phone number'),
        (MONDAY, time(12, 0), "=1+1", "Home", "is not a phone number"),
        (MONDAY, time(12, 0), "01234\u202e567890", "Home", "type it again as plain text"),
        (MONDAY, time(12, 0), "01234 567890", " ", "Say briefly what the call was for"),
        (MONDAY, time(12, 0), "01234 567890", "x" * 201, "under 200 characters"),
    ],
)
def test_a_call_that_cannot_be_on_the_trip_is_refused_in_words(
    service: LoanService,
    clock: ManualClock,
    tiny_school: TinySchool,
    day: date,
    at: time,
    number: str,
    reason: str,
    said: str,
) -> None:
    loan = phone_out(service, clock)
    clock.advance(6 * 3600 - 6)  # back at 15:00
    tap(service, clock, TinySchool.PHONE)
    clock.advance(600)
    with pytest.raises(Refused, match=said):
        service.add_personal_call(loan, day, at, number, reason)
    assert PersonalCall.select().count() == 0


def test_a_time_still_to_come_and_the_same_call_twice_are_refused(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = phone_out(service, clock)
    with pytest.raises(Refused, match="10:00 on Mon 23 Nov has not come yet"):
        service.add_personal_call(loan, MONDAY, time(10, 0), "01234 567890", "Home")
    clock.advance(3600)
    service.add_personal_call(loan, MONDAY, time(9, 30), "01234 567890", "Home")
    with pytest.raises(Refused, match="already recorded"):
        service.add_personal_call(loan, MONDAY, time(9, 30), "01234 567890", "Home")
    assert PersonalCall.select().count() == 1


def test_calls_are_only_for_items_that_take_them(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    camera = loan_id(tap(service, clock, TinySchool.CAMERA))
    with pytest.raises(Refused, match="recorded for trip phones, not for a class camera"):
        service.add_personal_call(camera, MONDAY, time(9, 0), "01234 567890", "Home")


def test_the_office_recording_afterwards_is_kept_as_who_recorded_it(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = phone_out(service, clock)
    clock.advance(3600)
    tap(service, clock, TinySchool.PHONE)
    clock.advance(86400)
    service.add_personal_call(
        loan, MONDAY, time(9, 20), "01234 567890", "Home", by_staff_id=tiny_school.office.id
    )
    (call,) = service.personal_calls(loan)
    assert call.recorded_by == "Siân Evans"
    assert call.recorded_at == datetime(2026, 11, 24, 10, 0, 9, tzinfo=UTC)


def test_the_board_shows_how_many_calls_a_phone_out_has(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = phone_out(service, clock)
    clock.advance(3600)
    service.add_personal_call(loan, MONDAY, time(9, 30), "01234 567890", "Home")
    service.add_personal_call(loan, MONDAY, time(9, 45), "01234 567891", "Home")
    (row,) = [v for v in service.board() if v.id == loan]
    assert row.personal_calls == 2


# --- calls recorded before the kiosk kept exact times ---------------------------------------


LONDON = SchoolCalendar(School())
OUT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stated", "recorded", "read"),
    [
        (
            "23/11 12:10",
            datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
            datetime(2026, 11, 23, 12, 10, tzinfo=UTC),
        ),
        (
            "23/11/2026 12:10",
            datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
            datetime(2026, 11, 23, 12, 10, tzinfo=UTC),
        ),
        (
            "23.11 9.05",
            datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
            datetime(2026, 11, 23, 9, 5, tzinfo=UTC),
        ),
        (
            "12:10",
            datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
            datetime(2026, 11, 23, 12, 10, tzinfo=UTC),
        ),
        # A residential trip over the new year: the year that fits the trip.
        (
            "1/1 10:00",
            datetime(2027, 1, 2, 15, 0, tzinfo=UTC),
            datetime(2027, 1, 1, 10, 0, tzinfo=UTC),
        ),
        # Not read: words, a day outside the trip, a time after it was recorded, a day
        # and month the other way round, a time alone on a trip of several days.
        ("yesterday", datetime(2026, 11, 23, 15, 0, tzinfo=UTC), None),
        ("24/11 12:10", datetime(2026, 11, 23, 15, 0, tzinfo=UTC), None),
        ("23/11 16:10", datetime(2026, 11, 23, 15, 0, tzinfo=UTC), None),
        ("11/23 12:10", datetime(2026, 11, 23, 15, 0, tzinfo=UTC), None),
        ("12:10", datetime(2026, 11, 25, 15, 0, tzinfo=UTC), None),
        ("31/02 12:10", datetime(2026, 11, 23, 15, 0, tzinfo=UTC), None),
    ],
)
def test_old_words_are_read_only_when_one_reading_fits_the_trip(
    stated: str, recorded: datetime, read: datetime | None
) -> None:
    out = OUT if recorded.year == 2026 else datetime(2026, 12, 30, 8, 0, tzinfo=UTC)
    assert read_stated(stated, out, recorded, LONDON) == read


def test_a_database_from_before_keeps_its_calls_and_reads_their_time(
    tmp_path: Path, settings: Settings, clock: ManualClock
) -> None:
    """The schema 1 database has one call, "08/09 11:00" on a loan out 8 September."""
    path = tmp_path / "old.db"
    shutil.copy(DATA / "schema_v1.db", path)
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO personal_call (loan_id, made_at, number, reason, recorded_at)"
        " VALUES (2, 'this morning', '01234 000000', 'Dentist', '2026-09-08 12:30:00.000000')"
    )
    raw.commit()
    raw.close()
    db = open_database(path)
    try:
        calls = {c.number: c for c in PersonalCall.select()}
        # The migration keeps the words and guesses nothing.
        assert [(c.stated, c.made_at) for c in calls.values()] == [
            ("08/09 11:00", None),
            ("this morning", None),
        ]
        assert read_stated_times(settings, clock) == 1
        assert read_stated_times(settings, clock) == 0  # nothing new to read
        calls = {c.number: c for c in PersonalCall.select()}
        # 11:00 in London in September is 10:00 UTC (summer time); the words stay.
        assert calls["01234 567890"].made_at == datetime(2026, 9, 8, 10, 0, tzinfo=UTC)
        assert calls["01234 567890"].stated == "08/09 11:00"
        assert calls["01234 000000"].made_at is None
        read = Event.get(Event.action == "call_times_read")
        assert read.detail == {"calls": [calls["01234 567890"].id]}
    finally:
        db.close()

"""School days and due times, including British Summer Time, weekends, terms and INSET days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from kiosk.calendar import SchoolCalendar
from kiosk.settings import KindRule, School, Term


def cal(**kw) -> SchoolCalendar:
    return SchoolCalendar(School(**kw))


def test_end_of_day_is_local_time_in_summer_and_winter():
    c = cal()
    assert c.end_of_day(date(2026, 6, 10)) == datetime(2026, 6, 10, 14, 30, tzinfo=UTC)  # BST
    assert c.end_of_day(date(2026, 12, 10)) == datetime(2026, 12, 10, 15, 30, tzinfo=UTC)


def test_weekend_inset_and_holiday_are_not_school_days():
    c = cal(terms=[Term(date(2026, 9, 3), date(2026, 10, 23))], inset_days=[date(2026, 10, 2)])
    assert c.is_school_day(date(2026, 9, 7))
    assert not c.is_school_day(date(2026, 9, 5))  # Saturday
    assert not c.is_school_day(date(2026, 10, 2))  # INSET
    assert not c.is_school_day(date(2026, 10, 26))  # half term
    assert c.next_school_day(date(2026, 10, 1)) == date(2026, 10, 5)


def test_default_due_rolls_over_after_school_and_at_weekends():
    c = cal()
    friday_evening = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert c.default_due(friday_evening) == datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    morning = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert c.default_due(morning) == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)


def test_due_none_rule_has_no_due_time():
    assert cal().due_for(KindRule(due="none"), datetime(2026, 11, 25, tzinfo=UTC)) is None


def test_describe_in_words():
    c = cal(day_ends=time(15, 30))
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert c.describe(datetime(2026, 11, 23, 15, 30, tzinfo=UTC), now) == "15:30 today"
    assert c.describe(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), now) == "09:00 tomorrow"
    assert c.describe(datetime(2026, 11, 30, 15, 30, tzinfo=UTC), now) == "15:30 on Mon 30 Nov"


def test_no_school_day_in_a_year_still_gives_a_due_time():
    c = cal(terms=[Term(date(2020, 1, 1), date(2020, 2, 1))])
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert c.default_due(now) == datetime(2026, 11, 24, 15, 30, tzinfo=UTC)

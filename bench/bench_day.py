"""The office's day on a 1,000,000-loan database: the Today view, the day's export, reminders.

- ``LoanService.day`` for today (the Today view, opened at the kiosk) <= 50 ms.
- For a busy past day (960 loans out and back: far more than a school has) <= 250 ms,
  a week back (the office looking at last week) and, for context, a year back (overdue
  "at the day's end" reads the loans closed since that day).
- The reminder rule with reminders on and nothing to send (every sync pass) <= 5 ms.

Each figure is the median of several runs after one warm-up run, on a copy of the
cached big database (``bench.fixtures``) in which one loan in twenty came back two
hours late (the fixture's loans are all on time, which would flatter "overdue at the
day's end").
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench.fixtures import big_database
from kiosk.calendar import SchoolCalendar
from kiosk.clock import ManualClock
from kiosk.db import open_database
from kiosk.loans import LoanService
from kiosk.settings import settings_from
from sync.reminders import raise_reminders

log = logging.getLogger("bench.day")

#: The big database's loans run from 1 November 2023, one every 90 s, to early
#: September 2026; "today" is a school day after them, so the Today view is quiet.
TODAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
WEEK_BACK = date(2026, 9, 1)  # a Tuesday: busy, and a week before the last loans
YEAR_BACK = date(2025, 9, 2)


def median_ms(fn: Callable[[], object], runs: int = 7) -> float:
    fn()  # warm the page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run() -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-day-") as tmp:
        path = big_database(Path(tmp) / "big.db")
        settings = settings_from(
            {
                "kiosk": {"db": str(path)},
                "reminders": {"enabled": True},
                "sync": {
                    "smtp": {"host": "127.0.0.1", "from_address": "kiosk@school.example"},
                    "channels": {"staff_mail": {"type": "email", "to_borrower": True}},
                    "routes": {"borrower": ["staff_mail"]},
                },
            }
        )
        db = open_database(path)
        with db.atomic():
            db.execute_sql(
                "UPDATE loan SET closed_at = strftime('%Y-%m-%d %H:%M:%f000', due_at,"
                " '+2 hours') WHERE id % 20 = 0"
            )
        try:
            clock = ManualClock(wall=TODAY)
            service = LoanService(settings, clock)
            busy = service.day(WEEK_BACK)
            log.info(
                "%s: %d out, %d back, %d overdue at its end (back late since: %d)",
                WEEK_BACK,
                len(busy.signed_out),
                len(busy.returned),
                len(busy.overdue),
                db.execute_sql(
                    "SELECT COUNT(*) FROM loan WHERE closed_at > due_at AND closed_at > ?",
                    (WEEK_BACK.isoformat(),),
                ).fetchone()[0],
            )
            today_ms = median_ms(lambda: service.day())
            week_ms = median_ms(lambda: service.day(WEEK_BACK))
            year_ms = median_ms(lambda: service.day(YEAR_BACK), runs=3)
            calendar = SchoolCalendar(settings.school)
            reminders_ms = median_ms(
                lambda: raise_reminders(settings, clock, calendar, clock.now()), runs=30
            )
        finally:
            db.close()
    results: dict[str, dict[str, Any]] = {
        "day.today_view_1m_loans": {"value": round(today_ms, 2), "unit": "ms", "goal": "<= 50"},
        "day.busy_day_a_week_back_1m_loans": {
            "value": round(week_ms, 1),
            "unit": "ms",
            "goal": "<= 250",
        },
        "day.busy_day_a_year_back_1m_loans": {
            "value": round(year_ms, 1),
            "unit": "ms",
            "goal": "context",
        },
        "day.busy_day_loans": {
            "value": len(busy.signed_out) + len(busy.returned),
            "unit": "loans",
            "goal": "context",
        },
        "day.reminder_rule_idle_1m_loans": {
            "value": round(reminders_ms, 3),
            "unit": "ms",
            "goal": "<= 5",
        },
    }
    for name, figure in results.items():
        sys.stdout.write(f"{name}: {figure['value']} {figure['unit']} (goal {figure['goal']})\n")
    return results


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    run()

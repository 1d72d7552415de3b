"""Open problems: raised where the facts are recorded, listed in words, kept until dealt with."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.clock import ManualClock
from kiosk.db import Event, Item, Outbox, Problem
from kiosk.errors import Refused
from kiosk.loans import LoanService
from kiosk.loans.problems import since_text
from kiosk.views import Checklist, ProblemView
from tests.conftest import TinySchool, loan_id, tap


def borrow_and_return(service: LoanService, clock: ManualClock, who: str, item: str) -> int:
    tap(service, clock, who)
    tap(service, clock, item)
    return loan_id(tap(service, clock, item))


def short_trolley(service: LoanService, clock: ManualClock, ipads: int = 28) -> int:
    loan = borrow_and_return(service, clock, TinySchool.KHAN, TinySchool.TROLLEY)
    service.save_checklist(loan, Checklist(counts={"iPads": ipads, "headphones": 30}, damage=""))
    return loan


def only_problem(service: LoanService) -> ProblemView:
    (problem,) = service.open_problems()
    return problem


def test_a_short_count_goes_on_the_list_against_the_loan_it_was_found_on(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = short_trolley(service, clock)
    p = only_problem(service)
    assert (p.kind, p.loan_id, p.what) == ("short", loan, "2 iPads missing")
    assert p.last_with is not None and p.last_with.greeting == "Ms Khan"
    assert p.summary == "iPad trolley 1: 2 iPads missing since 09:00 today, last with Ms Khan"
    assert p.outcomes == ("found", "written_off")
    assert p.is_open and not p.time_uncertain
    # The same answers saved again (a second press) list nothing twice.
    service.save_checklist(loan, Checklist(counts={"iPads": 28, "headphones": 30}, damage=""))
    assert len(service.open_problems()) == 1


def test_the_next_return_counts_against_what_is_left_not_the_full_trolley(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    short_trolley(service, clock)
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.TROLLEY)
    back = tap(service, clock, TinySchool.TROLLEY)
    assert [(c.name, c.count) for c in back.expected] == [("iPads", 28), ("headphones", 30)]
    # Mr Jones brings back the 28 that were there: nothing is put against him.
    res = service.save_checklist(
        loan_id(back), Checklist(counts={"iPads": 28, "headphones": 30}, damage="")
    )
    assert res.message == "Thank you, all recorded."
    assert len(service.open_problems()) == 1
    # One more goes missing with him: only that one is his.
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.TROLLEY)
    again = tap(service, clock, TinySchool.TROLLEY)
    res = service.save_checklist(
        loan_id(again), Checklist(counts={"iPads": 27, "headphones": 30}, damage="")
    )
    assert "27 of 28 iPads" in res.message
    mine = [
        p for p in service.open_problems() if p.last_with and p.last_with.greeting == "Mr Jones"
    ]
    assert [p.what for p in mine] == ["1 of the iPads missing"]


def test_found_returns_the_trolley_to_its_full_count(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    short_trolley(service, clock)
    p = only_problem(service)
    res = service.resolve_problem(p.id, "found", "in the hall cupboard", tiny_school.office.id)
    assert res.message == "iPad trolley 1: the missing 2 iPads are recorded as found."
    assert service.open_problems() == []
    (done,) = service.resolved_problems()
    assert done.resolution == "found" and done.resolution_note == "in the hall cupboard"
    assert done.resolved_by is not None and done.resolved_by.name == "Siân Evans"
    assert done.outcomes == ()
    event = Event.get(Event.action == "problem_resolved")
    assert event.staff_id == tiny_school.office.id
    assert event.detail["outcome"] == "found"
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.TROLLEY)
    back = tap(service, clock, TinySchool.TROLLEY)
    assert [c.count for c in back.expected] == [30, 30]


def test_written_off_changes_what_the_trolley_holds_and_says_why(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    short_trolley(service, clock)
    p = only_problem(service)
    with pytest.raises(Refused, match="Say why it is written off"):
        service.resolve_problem(p.id, "written_off", "  ", tiny_school.office.id)
    res = service.resolve_problem(p.id, "written_off", "not found", tiny_school.office.id)
    assert res.message == (
        "iPad trolley 1: 2 iPads written off. It now holds 28 iPads and 30 headphones."
    )
    item = Item.get_by_id(tiny_school.trolley.id)
    assert item.contents == [{"name": "iPads", "count": 28}, {"name": "headphones", "count": 30}]
    change = Event.get(Event.action == "contents_changed")
    assert change.detail["reason"] == "written off: not found"
    assert change.detail["from"][0] == {"name": "iPads", "count": 30}


def test_damage_from_the_checklist_is_listed_until_repaired(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = borrow_and_return(service, clock, TinySchool.KHAN, TinySchool.CAMERA)
    service.save_checklist(loan, Checklist(images_erased=True, damage="cracked screen"))
    p = only_problem(service)
    assert (p.kind, p.what, p.outcomes) == (
        "damaged",
        "damaged: cracked screen",
        ("repaired", "written_off"),
    )
    res = service.resolve_problem(p.id, "repaired", "", tiny_school.admin.id)
    assert res.message == "Class camera 5B is recorded as repaired and can be lent again."
    assert Item.get_by_id(tiny_school.camera.id).status == "available"


def test_damage_reported_twice_on_one_loan_is_one_problem(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    out = tap(service, clock, TinySchool.CAMERA)
    service.report_damage(loan_id(out), "lens cap gone")
    tap(service, clock, TinySchool.CAMERA)
    service.save_checklist(loan_id(out), Checklist(images_erased=True, damage="cracked screen"))
    assert [p.what for p in service.open_problems()] == ["damaged: cracked screen"]


def test_images_left_on_a_camera_are_listed_until_erased(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = borrow_and_return(service, clock, TinySchool.KHAN, TinySchool.CAMERA)
    service.save_checklist(loan, Checklist(images_erased=False, damage=""))
    p = only_problem(service)
    assert p.summary == (
        "Class camera 5B: images left on the camera since 09:00 today, last with Ms Khan"
    )
    with pytest.raises(Refused, match="choose Images erased"):
        service.resolve_problem(p.id, "found", "", tiny_school.office.id)
    res = service.resolve_problem(p.id, "erased", "", tiny_school.office.id)
    assert res.message == "Images on Class camera 5B: recorded as erased."


def test_a_loss_is_listed_with_who_had_it_and_found_by_a_tap(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    service.report_lost(tiny_school.camera.id, tiny_school.khan.id, "left on the coach")
    p = only_problem(service)
    assert (p.kind, p.what) == ("lost", "lost")
    assert p.last_with is not None and p.last_with.greeting == "Ms Khan"
    service.end_session()
    found = tap(service, clock, TinySchool.CAMERA)  # handed in and tapped at the kiosk
    assert "now marked as found" in found.message
    assert service.open_problems() == []
    (done,) = service.resolved_problems()
    assert (done.resolution, done.resolution_note) == ("found", "tapped at the kiosk")


def test_a_loss_with_nothing_out_names_the_last_borrower(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    borrow_and_return(service, clock, TinySchool.JONES, TinySchool.BALL)
    service.report_lost(tiny_school.ball.id, tiny_school.office.id, "stock-take")
    p = only_problem(service)
    assert p.last_with is not None and p.last_with.greeting == "Mr Jones"


def test_a_lost_item_written_off_is_never_lent_again(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    service.report_lost(tiny_school.ball.id, tiny_school.office.id)
    p = only_problem(service)
    res = service.resolve_problem(p.id, "written_off", "gone for good", tiny_school.office.id)
    assert res.message == "PE ball bag is written off: it will not be lent again."
    tap(service, clock, TinySchool.KHAN)
    refused = tap(service, clock, TinySchool.BALL)
    assert refused.message == "PE ball bag is no longer in use."


def test_an_item_that_is_out_cannot_be_written_off(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    tap(service, clock, TinySchool.KHAN)
    out = tap(service, clock, TinySchool.CAMERA)
    service.report_damage(loan_id(out), "cracked screen")
    p = only_problem(service)
    with pytest.raises(Refused, match="out with Amira Khan: write it off once it is back"):
        service.resolve_problem(p.id, "written_off", "beyond repair", tiny_school.office.id)
    assert service.open_problems()[0].is_open


def test_only_the_office_records_what_happened_and_only_once(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    short_trolley(service, clock)
    p = only_problem(service)
    with pytest.raises(Refused, match="Only the office can do that"):
        service.resolve_problem(p.id, "found", "", tiny_school.khan.id)
    service.resolve_problem(p.id, "found", "", tiny_school.office.id)
    with pytest.raises(Refused, match="already been dealt with"):
        service.resolve_problem(p.id, "written_off", "twice", tiny_school.office.id)
    assert Problem.get_by_id(p.id).resolution == "found"


def test_since_reads_the_way_the_office_speaks(service: LoanService, clock: ManualClock) -> None:
    now = clock.now()  # Monday 23 November, 09:00
    cal = service.calendar
    assert since_text(cal, now - timedelta(hours=1), now) == "since 08:00 today"
    assert since_text(cal, now - timedelta(days=1), now) == "since yesterday"
    assert since_text(cal, now - timedelta(days=6), now) == "since Tuesday"
    assert since_text(cal, now - timedelta(days=14), now) == "since Mon 9 Nov"


def test_a_problem_raised_while_the_clock_was_not_set_says_so(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    clock.synced = False
    short_trolley(service, clock)
    assert only_problem(service).time_uncertain
    clock.synced = True
    service.correct_times()
    assert not only_problem(service).time_uncertain


def test_the_list_stops_at_its_length_but_its_count_is_of_every_open_problem(
    service: LoanService,
    clock: ManualClock,
    tiny_school: TinySchool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short_trolley(service, clock)
    clock.advance(600)
    camera = borrow_and_return(service, clock, TinySchool.KHAN, TinySchool.CAMERA)
    service.save_checklist(camera, Checklist(images_erased=True, damage="cracked screen"))
    listed = service.open_problem_list()
    assert (len(listed.shown), listed.total) == (2, 2)
    assert listed.count_text() == "2 open problems"
    monkeypatch.setattr("kiosk.loans.problems.LISTED", 1)
    listed = service.open_problem_list()
    # The longest open is shown; the count does not pretend the list is all there is.
    assert [p.what for p in listed.shown] == ["2 iPads missing"]
    assert listed.total == 2
    assert listed.count_text() == "2 open problems; the 1 longest open are listed"


def test_a_count_corrected_for_the_same_loan_replaces_what_it_said_missing(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = short_trolley(service, clock, ipads=28)
    # Counted again for the same return: 20 are there, so 10 are missing, not 2 + 8.
    service.save_checklist(loan, Checklist(counts={"iPads": 20, "headphones": 30}, damage=""))
    p = only_problem(service)
    assert (p.loan_id, p.what) == (loan, "10 iPads missing")
    # The next borrower is asked for what should be there now.
    tap(service, clock, TinySchool.JONES)
    tap(service, clock, TinySchool.TROLLEY)
    back = tap(service, clock, TinySchool.TROLLEY)
    assert [(c.name, c.count) for c in back.expected] == [("iPads", 20), ("headphones", 30)]
    # SLT were told 2 missing; they are told the corrected figure too, once.
    first, corrected = Outbox.select().where(Outbox.kind == "lost").order_by(Outbox.id)
    assert first.key == f"lost:loan:{loan}"
    assert first.payload["summary"] == "iPad trolley 1 came back short: 28 of 30 iPads"
    assert corrected.key.startswith(f"lost:loan:{loan}:count:")
    assert corrected.payload["summary"] == (
        "iPad trolley 1, counted again: 20 of 30 iPads. This replaces the earlier count "
        "(missing then: 2 iPads)"
    )
    assert corrected.payload["note"] == "Counted back: 20 of 30 iPads."


def test_the_same_count_saved_again_tells_slt_nothing_new(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = short_trolley(service, clock, ipads=28)
    for _ in range(2):  # a second press, or the same figures entered again
        service.save_checklist(loan, Checklist(counts={"iPads": 28, "headphones": 30}, damage=""))
    assert Outbox.select().where(Outbox.kind == "lost").count() == 1
    # Counted back all there, then short by the same 2 again: SLT's 2 missing still stands.
    service.save_checklist(loan, Checklist(counts={"iPads": 30, "headphones": 30}, damage=""))
    service.save_checklist(loan, Checklist(counts={"iPads": 28, "headphones": 30}, damage=""))
    assert Outbox.select().where(Outbox.kind == "lost").count() == 1
    assert only_problem(service).what == "2 iPads missing"
    # Short by 3 after all: that is new, and SLT hear it.
    service.save_checklist(loan, Checklist(counts={"iPads": 27, "headphones": 30}, damage=""))
    assert Outbox.select().where(Outbox.kind == "lost").count() == 2


def test_a_count_corrected_to_all_there_takes_the_shortfall_off_the_list(
    service: LoanService, clock: ManualClock, tiny_school: TinySchool
) -> None:
    loan = short_trolley(service, clock, ipads=28)
    res = service.save_checklist(loan, Checklist(counts={"iPads": 30, "headphones": 30}, damage=""))
    assert res.message == "Thank you, all recorded."
    assert service.open_problems() == []
    (done,) = service.resolved_problems()
    assert (done.loan_id, done.resolution) == (loan, "found")
    assert done.resolution_note == "Counted back: all there."

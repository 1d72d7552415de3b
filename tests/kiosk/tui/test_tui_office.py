"""The office's flows and the new questions, driven as a person at the kiosk, checked in the database.

The demo school: Mrs Price (``B0000002``) is the office; camera 6B is marked damaged
(cracked screen); trolley B came back two iPads short; trolley A is out with Mrs
Clarke; spare cards ``C0000001``-``C0000003`` are free.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from kiosk.db import Event, Item, Loan, OfficeAct, Outbox, Problem, SpareCard, Staff
from kiosk.loans import LoanService
from kiosk.tui.app import KioskApp
from kiosk.tui.screens.checklist import ChecklistScreen
from kiosk.tui.screens.desk.menu import OfficeTasksScreen
from kiosk.tui.screens.desk.problems import ProblemsScreen
from kiosk.tui.screens.done import DoneScreen
from kiosk.tui.screens.handover_count import HandoverCountScreen
from kiosk.tui.screens.idle import IdleScreen
from kiosk.tui.screens.refusal import RefusalScreen
from kiosk.tui.screens.session import SessionScreen
from kiosk.tui.screens.warning import WarningScreen
from tests.kiosk.tui.tui_helpers import later, press, screen_text, settle, tap

pytestmark = pytest.mark.asyncio

OFFICE = "B0000002"  # Mrs Price
ADMIN = "B0000001"  # Mr Okafor, PIN 2468
KHAN = "B0000014"  # Ms Khan, 5B, nothing out
KOWALSKA = "B0000016"  # Miss Kowalska, 6B
CLARKE = "B0000013"  # has iPad trolley A
CAMERA_5B = "CA00005B"
CAMERA_6B_DAMAGED = "CA00006B"
CAMERA_4B_WALKER = "CA00004B"  # out with Mr Walker
TROLLEY_A_CLARKE = "AD00000A"
TROLLEY_B_SHORT = "AD00000B"
SPARE_1 = "C0000001"


def open_loan(tag: str) -> Loan | None:
    return Loan.select().join(Item).where(Item.tag_uid == tag, Loan.closed_at.is_null()).first()


def borrower_of(tag: str) -> str:
    """Who has the item with this tag now, as greeted ("Ms Khan"), or "" if nobody."""
    loan = open_loan(tag)
    if loan is None or loan.borrower_id is None:
        return ""
    return str(Staff.get_by_id(loan.borrower_id).greeting_name)


def focused_id(app: KioskApp) -> str | None:
    return app.focused.id if app.focused is not None else None


async def office_tasks(pilot: Pilot[Any], app: KioskApp) -> None:
    await settle(pilot)
    await tap(pilot, OFFICE)
    await press(pilot, "#office-tasks")
    assert isinstance(app.screen, OfficeTasksScreen)


# --- an item marked damaged asks first ---------------------------------------------------


async def test_a_damaged_camera_asks_and_enter_lends_nothing(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, KOWALSKA)
        await tap(pilot, CAMERA_6B_DAMAGED)
        assert isinstance(app.screen, WarningScreen)
        text = screen_text(app)
        assert "Class camera 6B is marked damaged: cracked screen." in text
        assert "Borrow it anyway?" in text
        assert focused_id(app) == "no"  # Enter answers No
        assert app.feedback.calls[-1] == "refused"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DoneScreen)
        assert "Nothing was lent: Class camera 6B stays here." in screen_text(app)
    assert open_loan(CAMERA_6B_DAMAGED) is None


async def test_yes_lends_the_damaged_camera_and_says_so_in_the_record(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, KOWALSKA)
        await tap(pilot, CAMERA_6B_DAMAGED)
        await press(pilot, "#yes")
        assert isinstance(app.screen, DoneScreen)
        assert "Class camera 6B is yours." in screen_text(app)
    loan = open_loan(CAMERA_6B_DAMAGED)
    assert loan is not None and borrower_of(CAMERA_6B_DAMAGED) == "Miss Kowalska"
    assert Event.get(Event.action == "sign_out", Event.loan == loan.id).detail == {
        "warned": "damaged"
    }


async def test_the_question_ends_with_the_services_deadline(
    app: KioskApp, demo_service: LoanService
) -> None:
    seconds = demo_service.settings.kiosk.confirm_seconds
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, KOWALSKA)
        await tap(pilot, CAMERA_6B_DAMAGED)
        await later(pilot, seconds - 1)
        assert isinstance(app.screen, WarningScreen)
        await later(pilot, 2)
        assert isinstance(app.screen, IdleScreen)
    assert open_loan(CAMERA_6B_DAMAGED) is None


# --- counts: one press when all are there ----------------------------------------------


async def test_a_trolley_back_in_full_is_four_presses_of_enter(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, TROLLEY_A_CLARKE)
        assert isinstance(app.screen, ChecklistScreen)
        text = screen_text(app)
        assert "iPads:\nAll 30 here\nSome missing" in text
        assert "headphones:\nAll 30 here\nSome missing" in text
        for expected_focus in ("all-0", "all-1", "damage-no", "save"):
            assert focused_id(app) == expected_focus
            await pilot.press("enter")
            await settle(pilot)
        assert isinstance(app.screen, DoneScreen)
        assert "iPad trolley A key is back." in screen_text(app)
    loan = (
        Loan.select()
        .join(Item)
        .where(Item.tag_uid == TROLLEY_A_CLARKE)
        .order_by(Loan.id.desc())
        .get()
    )
    assert loan.checklist == {"counts": {"iPads": 30, "headphones": 30}, "damage": ""}
    assert Outbox.select().count() == 0


async def test_nothing_is_counted_for_the_person_and_save_asks(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, TROLLEY_A_CLARKE)
        await press(pilot, "#save")
        assert "How many iPads are here? Press All 30 here" in screen_text(app)
        await press(pilot, "#some-0")
        assert focused_id(app) == "how-many-0"
        await pilot.press("3", "1", "enter")
        await press(pilot, "#all-1")
        await press(pilot, "#damage-no")
        await press(pilot, "#save")
        assert "Type how many iPads are here (0 to 30)." in screen_text(app)
    assert Outbox.select().count() == 0


async def test_a_trolley_known_short_expects_what_is_left(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, TROLLEY_B_SHORT)
        await later(pilot, 3)
        await tap(pilot, TROLLEY_B_SHORT)
        assert "iPads (2 missing):\nAll 28 here" in screen_text(app)
        for _ in range(4):
            await pilot.press("enter")
            await settle(pilot)
        assert isinstance(app.screen, DoneScreen)
        assert "iPad trolley B key is back." in screen_text(app)
    assert Outbox.select().count() == 0  # the two missing were not put down to Ms Khan
    assert Problem.select().where(Problem.resolved_event.is_null()).count() == 2


async def test_a_trolley_passed_on_is_counted_and_a_shortfall_goes_to_who_had_it(
    app: KioskApp,
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, TROLLEY_A_CLARKE)
        assert isinstance(app.screen, HandoverCountScreen)
        text = screen_text(app)
        assert "iPad trolley A key is yours now." in text
        assert "Passed on from Mrs Clarke. Please count what is in it now:" in text
        assert focused_id(app) == "all-0"
        await press(pilot, "#some-0")
        await pilot.press("2", "7", "enter")
        await settle(pilot)
        assert focused_id(app) == "all-1"
        await pilot.press("enter")
        await settle(pilot)
        await press(pilot, "#save")
        assert isinstance(app.screen, DoneScreen)
        text = screen_text(app)
        assert "Counted when passed on 27 of 30 iPads." in text
        assert "Put down to Mrs Clarke, who had it." in text
    clarke = Staff.get(Staff.badge_uid == CLARKE)
    problem = Problem.get(
        Problem.kind == "short",
        Problem.resolved_event.is_null(),
        Problem.item == Item.get(Item.tag_uid == TROLLEY_A_CLARKE),
    )
    assert problem.loan.borrower_id == clarke.id
    assert Outbox.get(Outbox.kind == "lost").loan_id == problem.loan_id
    assert borrower_of(TROLLEY_A_CLARKE) == "Ms Khan"


async def test_a_full_count_when_passed_on_is_three_presses_of_enter(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        await tap(pilot, TROLLEY_A_CLARKE)
        for _ in range(3):
            await pilot.press("enter")
            await settle(pilot)
        assert isinstance(app.screen, DoneScreen)
        assert "Thank you: all there. Back by 15:30 today." in screen_text(app)
    assert Outbox.select().count() == 0


# --- the office acting for someone ------------------------------------------------------


async def test_only_the_office_sees_office_tasks(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        assert "Office tasks" not in screen_text(app)
        await tap(pilot, OFFICE)
        assert "Office tasks" in screen_text(app)


async def test_sign_out_for_someone_who_forgot_their_badge(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await office_tasks(pilot, app)
        await press(pilot, "#sign-out-for")
        await tap(pilot, CAMERA_5B)  # too soon: nobody chosen yet
        assert "Choose the person first, then tap the item." in screen_text(app)
        await pilot.press(*"khan", "enter")
        await settle(pilot)
        assert "Now tap the item for Ms Khan on the reader." in screen_text(app)
        await later(pilot, 3)
        await tap(pilot, CAMERA_5B)
        assert isinstance(app.screen, DoneScreen)
        text = screen_text(app)
        assert "Class camera 5B is signed out to Ms Khan." in text and "Undo (10 s)" in text
    assert borrower_of(CAMERA_5B) == "Ms Khan"
    act = OfficeAct.get()
    assert act.act == "signed_out_for" and act.by_id == Staff.get(Staff.badge_uid == OFFICE).id


async def test_lend_a_class_camera_once_to_another_class_with_a_reason(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await office_tasks(pilot, app)
        await press(pilot, "#lend")
        await pilot.press(*"walker", "enter")
        await settle(pilot)
        assert focused_id(app) == "reason"
        await tap(pilot, CAMERA_5B)  # no reason yet
        assert "Say why it is lent to another class, in a few words." in screen_text(app)
        await pilot.press(*"4B's camera is broken")
        await later(pilot, 3)
        await tap(pilot, CAMERA_5B)
        assert "Class camera 5B is lent once to Mr Walker." in screen_text(app)
    history = app.service.item_history(Item.get(Item.tag_uid == CAMERA_5B).id)
    assert history[0].office == ("lent once by Mrs Price (office): 4B's camera is broken",)


async def test_return_for_someone_then_the_checklist_and_the_history(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await office_tasks(pilot, app)
        await press(pilot, "#return-for")
        await pilot.click("#reason")
        await pilot.press(*"in the staffroom")
        await tap(pilot, CAMERA_4B_WALKER)
        assert isinstance(app.screen, ChecklistScreen)
        assert "Class camera 4B is back, returned for Mr Walker." in screen_text(app)
        for _ in range(3):  # images erased: yes; damage: no; save
            await pilot.press("enter")
            await settle(pilot)
        assert "Class camera 4B is back." in screen_text(app)
    item = Item.get(Item.tag_uid == CAMERA_4B_WALKER)
    (last, *_) = app.service.item_history(item.id)
    assert last.outcome == "returned" and last.borrower is not None
    assert last.office == ("returned by Mrs Price (office): in the staffroom",)
    assert open_loan(CAMERA_4B_WALKER) is None


async def test_return_for_someone_chosen_from_the_list(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await office_tasks(pilot, app)
        await press(pilot, "#return-for")
        await pilot.click("#search")
        await pilot.press(*"robinson")
        await settle(pilot)
        await press(pilot, "#return")
        assert "Laptop trolley key is back, returned for Mr Robinson." in screen_text(app)
    assert open_loan("A1A00001") is None


async def test_a_spare_card_for_a_supply_teacher_works_today_only(
    app: KioskApp, demo_service: LoanService
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await office_tasks(pilot, app)
        await press(pilot, "#spare-cards")
        await tap(pilot, "C0000002")  # chosen by a tap, not signed in
        assert "Spare card 2: free." in screen_text(app)
        await press(pilot, "#give")
        await pilot.press(*"Jo Smith", "enter")
        await settle(pilot)
        assert focused_id(app) == "classes"
        await pilot.press(*"5b", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DoneScreen)
        assert "Spare card 2 now works for Jo Smith until 15:30 today." in screen_text(app)
        await press(pilot, "#ok")
        await tap(pilot, "C0000002")
        assert isinstance(app.screen, SessionScreen)
        text = screen_text(app)
        assert "Hello, Jo Smith" in text and "Spare card 2 works until 15:30 today." in text
        await tap(pilot, CAMERA_5B)  # she covers 5B
        assert "Class camera 5B is yours." in screen_text(app)
        await press(pilot, "#ok")
        await later(pilot, 6.5 * 3600 + 60)  # 15:31
        await tap(pilot, "C0000002")
        assert isinstance(app.screen, RefusalScreen)
        assert "Spare card 2 switched itself off at 15:30 today." in screen_text(app)
    jo = Staff.get(Staff.name == "Jo Smith")
    assert jo.classes == "5B" and jo.staff_id == "VISITOR-0001"
    assert borrower_of(CAMERA_5B) == "Jo Smith"
    assert demo_service.loans_for(jo.id)[0].overdue


async def test_a_spare_card_taken_back_and_one_lost(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        service = app.service
        office = Staff.get(Staff.badge_uid == OFFICE).id
        service.give_spare_card(service.spare_cards()[0].id, office, name="Jo Smith")
        await office_tasks(pilot, app)
        await press(pilot, "#spare-cards")
        assert "with Jo Smith until 15:30 today" in screen_text(app)
        await press(pilot, "#taken-back")
        assert "Spare card 1 is back from Jo Smith and free to give again." in screen_text(app)
        await press(pilot, "#lost")
        assert "Spare card 1 is switched off." in screen_text(app)
        assert "switched off (reported lost)" in screen_text(app)
    assert SpareCard.get(SpareCard.uid == SPARE_1).switched_off


async def test_a_lost_badge_is_switched_off_from_the_kiosk(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await office_tasks(pilot, app)
        await press(pilot, "#badge-off")
        await pilot.press(*"khan", "enter")
        await settle(pilot)
        assert "Amira Khan's badge will stop working at once." in screen_text(app)
        assert focused_id(app) == "off"
        await pilot.press("enter")
        await settle(pilot)
        assert "Amira Khan's badge is switched off." in screen_text(app)
        await press(pilot, "#ok")
        await tap(pilot, KHAN)
        assert isinstance(app.screen, RefusalScreen)
        assert "This badge is switched off: it was reported lost." in screen_text(app)
    assert Staff.get(Staff.name == "Amira Khan").badge_uid is None


async def test_a_problem_list_cut_short_says_how_many_are_open_in_all(
    app: KioskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kiosk.loans.problems.LISTED", 1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, OFFICE)
        await press(pilot, "#office")
        await press(pilot, "#problems")
        text = screen_text(app)
        assert "2 open problems; the 1 longest open are listed, oldest first:" in text
        assert "2 iPads missing" in text and "cracked screen" not in text


async def test_open_problems_on_the_board_until_the_office_records_what_happened(
    app: KioskApp,
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, OFFICE)
        await press(pilot, "#office")
        assert "Problems (2)" in screen_text(app)
        await press(pilot, "#problems")
        assert isinstance(app.screen, ProblemsScreen)
        text = screen_text(app)
        assert "2 open problems, oldest first:" in text
        assert "iPad trolley B key | 2 iPads missing | Thursday | Ms Adeyemi" in text
        assert "iPad trolley B key: 2 iPads missing since Thursday, last with Ms Adeyemi" in text
        assert "Repaired" not in text  # only the answers that fit a shortfall
        await press(pilot, "#r-found")
        text = screen_text(app)
        assert "the missing 2 iPads are recorded as found." in text
        assert "1 open problem, oldest first:" in text
        assert "Class camera 6B | damaged: cracked screen | Friday | Mrs Morgan" in text
        await press(pilot, "#r-written_off")
        assert "Say why it is written off, in a few words." in screen_text(app)
        await pilot.click("#note")
        await pilot.press(*"beyond repair")
        await press(pilot, "#r-written_off")
        text = screen_text(app)
        assert "Class camera 6B is written off: it will not be lent again." in text
        assert "No open problems." in text
        await press(pilot, "#dealt-with")
        text = screen_text(app)
        assert "Dealt with lately: 2" in text
        assert "last with Mrs Morgan. Written off (Mrs Price, 09:00): beyond repair." in text
        await press(pilot, "#back")
        assert "Problems" in screen_text(app) and "Problems (" not in screen_text(app)
    assert Item.get(Item.tag_uid == CAMERA_6B_DAMAGED).status == "retired"


async def test_change_what_a_trolley_holds_with_a_reason(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await office_tasks(pilot, app)
        await press(pilot, "#contents")
        text = screen_text(app)
        assert "iPad trolley A key | 30 iPads, 30 headphones" in text
        assert focused_id(app) == "items"
        await pilot.press("down", "down", "enter")  # the third row: trolley C
        await settle(pilot)
        assert "Office: iPad trolley C key" in screen_text(app)
        assert "It holds 30 iPads, 30 headphones. How many now?" in screen_text(app)
        assert focused_id(app) == "line-0"
        await pilot.press("backspace", "backspace", "2", "9", "enter")
        await pilot.press("enter")  # headphones: still 30
        await settle(pilot)
        assert focused_id(app) == "reason"
        await press(pilot, "#save")
        assert "Say why it changes" in screen_text(app)
        await pilot.click("#reason")
        await pilot.press(*"one sent for repair", "enter")
        await settle(pilot)
        assert "iPad trolley C key now holds 29 iPads and 30 headphones." in screen_text(app)
    item = Item.get(Item.tag_uid == "AD00000C")
    assert item.contents[0] == {"name": "iPads", "count": 29}
    assert Event.get(Event.action == "contents_changed").detail["reason"] == "one sent for repair"


async def test_an_admin_makes_a_new_tag_a_spare_card(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, ADMIN)
        await press(pilot, "#admin")
        await pilot.press(*"2468", "enter")
        await settle(pilot)
        await press(pilot, "#enrol")
        await tap(pilot, "C0000009")
        await press(pilot, "#spare")
        assert "Enrolled as Spare card 4. Write 4 on the card." in screen_text(app)
    assert SpareCard.get(SpareCard.uid == "C0000009").label == "Spare card 4"


async def test_enter_on_is_it_lost_records_nothing(app: KioskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, CLARKE)
        await press(pilot, "#my-items")
        await press(pilot, "#lost")
        assert focused_id(app) == "cancel-lost"
        await pilot.press("enter")
        await settle(pilot)
    assert Item.get(Item.tag_uid == TROLLEY_A_CLARKE).status == "available"
    assert Outbox.select().count() == 0

"""The read-only questions: the board, the stock-take."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import TinySchool, loan_id, tap


def test_board_lists_overdue_first_with_phone_numbers(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    tap(service, clock, TinySchool.JONES)
    r = tap(service, clock, TinySchool.PHONE)
    service.set_due(loan_id(r), datetime(2026, 11, 23, 10, 0, tzinfo=UTC), trip="Museum")
    clock.advance(3600 * 2)  # 11:00: the phone is overdue, the camera is not
    board = service.board()
    assert [v.item.name for v in board] == ["Trip phone 1", "Class camera 5B"]
    assert board[0].overdue and board[0].item.phone_number == "07700 900101"
    assert board[0].trip == "Museum"
    assert [v.item.name for v in service.board(overdue_only=True)] == ["Trip phone 1"]
    assert [v.item.name for v in service.board(search="khan")] == ["Class camera 5B"]
    assert [v.item.name for v in service.board(kind="trip_phone")] == ["Trip phone 1"]


def test_stock_take_lists_missing_items_and_who_had_them_last(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.BALL)
    tap(service, clock, TinySchool.BALL)
    missing = service.stock_take({TinySchool.CAMERA, TinySchool.TROLLEY, TinySchool.PHONE})
    assert [(i.name, last.borrower.name if last else None) for i, last in missing] == [
        ("PE ball bag", "Amira Khan")
    ]


def test_stock_take_finds_items_in_the_cupboard_that_are_shown_as_out(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    here = service.out_but_here({TinySchool.CAMERA, TinySchool.BALL})
    assert [(v.item.name, v.borrower.name) for v in here] == [("Class camera 5B", "Amira Khan")]
    assert service.out_but_here(set()) == []


def test_item_lists_say_who_has_an_item_out(service, clock, tiny_school):
    tap(service, clock, TinySchool.KHAN)
    tap(service, clock, TinySchool.CAMERA)
    items = {i.name: i for i in service.find_items()}
    assert items["Class camera 5B"].out_with == "Amira Khan"
    assert items["Class camera 5B"].status == "available"  # the record's status, as stored
    assert items["PE ball bag"].out_with == ""
    assert service.item(tiny_school.camera.id).out_with == "Amira Khan"

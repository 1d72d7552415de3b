"""The read API the web's trust pages use: what each login sees, in plain frozen results."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from kiosk.errors import NotFound
from sync.trust.view import OutLoan, SchoolBoard, SchoolSummary, TrustOverview, TrustView
from tests.sync.trust.conftest import Kiosk, TrustDB


@pytest.fixture
def trust(trust_db: TrustDB, kiosk_factory: Callable[..., Kiosk]) -> dict[str, Any]:
    hill = trust_db.school(trust_db.unique("hill"), "Hillside Primary")
    oak = trust_db.school(trust_db.unique("oak"), "Oakfield Primary")
    kiosks = {}
    for name, school in (("hill", hill), ("oak", oak)):
        k = kiosk_factory(name)
        k.kiosk_id = trust_db.unique(name)
        k.conninfo = trust_db.kiosk(k.kiosk_id, school).conninfo
        kiosks[name] = k
    h = kiosks["hill"]
    h.sign_out("amira", "camera")  # due at the end of the day
    h.sign_out("ben", "phone")  # a trip phone, back by 14:00
    h.bind()
    phone = next(v for v in h.service.board() if v.item.kind == "trip_phone")
    h.service.set_due(phone.id, h.clock.now() + timedelta(hours=5), trip="Science museum")
    kiosks["oak"].sign_out("ben", "trolley")
    for k in kiosks.values():
        assert k.push().error == ""
    office = trust_db.reader(trust_db.unique("hill-office"), hill)
    slt = trust_db.reader(trust_db.unique("slt"), None)
    return {"hill": hill, "oak": oak, "kiosks": kiosks, "office": office, "slt": slt}


def plain(value: Any) -> None:
    """Only frozen dataclasses, tuples and plain values: no driver types leak out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(type(value), "__dataclass_params__", None)
        assert params is not None and params.frozen
        for f in dataclasses.fields(value):
            plain(getattr(value, f.name))
    elif isinstance(value, tuple):
        for v in value:
            plain(v)
    else:
        assert value is None or type(value) in (str, int, bool, datetime), type(value)


def test_the_all_schools_page(trust: dict[str, Any]) -> None:
    view = TrustView(trust["slt"].conninfo)
    now = trust["kiosks"]["hill"].clock.now()
    try:
        early = view.overview(now)
        evening = view.overview(now + timedelta(hours=10))  # after the end of the school day
    finally:
        view.close()
    plain(evening)
    assert isinstance(evening, TrustOverview)
    assert [s.name for s in evening.schools] == ["Hillside Primary", "Oakfield Primary"]
    hill = evening.schools[0]
    assert (hill.out, hill.trip_phones_out, hill.kiosks) == (2, 1, 1)
    assert hill.last_heard is not None
    assert early.overdue_total == 0 and early.overdue == ()
    assert evening.overdue_total == 3
    # Longest overdue first: the phone was due back at 14:00, the others at 15:30.
    assert [v.item_name for v in evening.overdue][:1] == ["Trip phone 1"]
    (phone,) = evening.trip_phones
    assert (phone.phone_number, phone.trip, phone.borrower) == (
        "07700 900123",
        "Science museum",
        "Ben Ortiz",
    )
    assert phone.school_name == "Hillside Primary" and phone.is_trip_phone


def test_a_schools_board(trust: dict[str, Any]) -> None:
    view = TrustView(trust["office"].conninfo)
    now = trust["kiosks"]["hill"].clock.now() + timedelta(hours=6)  # camera due 15:30, phone 14:00
    try:
        board = view.school_board(trust["hill"], now)
    finally:
        view.close()
    plain(board)
    assert isinstance(board, SchoolBoard) and isinstance(board.school, SchoolSummary)
    assert [(v.item_name, v.overdue) for v in board.out] == [
        ("Trip phone 1", True),
        ("Class camera 5B", False),
    ]
    first: OutLoan = board.out[0]
    assert first.borrower == "Ben Ortiz" and first.out_at < now and first.due_at is not None
    assert [v.trip for v in board.trip_phones] == ["Science museum"]


def test_an_office_account_sees_no_other_school(trust: dict[str, Any]) -> None:
    view = TrustView(trust["office"].conninfo)
    now = trust["kiosks"]["hill"].clock.now()
    try:
        with pytest.raises(NotFound):
            view.school_board(trust["oak"], now)
        overview = view.overview(now + timedelta(days=1))
    finally:
        view.close()
    assert [s.school_id for s in overview.schools] == [trust["hill"]]
    assert {v.school_id for v in overview.overdue} == {trust["hill"]}


def test_the_server_down_is_a_message_not_a_crash(trust: dict[str, Any]) -> None:
    from sync.trust.connect import TrustUnavailable

    broken = trust["slt"].conninfo.rsplit("password=", 1)[0] + "password=wrong"
    view = TrustView(broken)
    with pytest.raises(TrustUnavailable, match="refused the password"):
        view.overview(trust["kiosks"]["hill"].clock.now())

"""Every alert has an id no other alert will ever have: across restores, kiosks and retries.

A receiver that drops repeats by ``webhook-id`` (as our README tells SLT's IT to do)
must see every distinct alert exactly once, whatever happened on the kiosk.
"""

from __future__ import annotations

from pathlib import Path

import peewee as pw
from pytest_httpserver import HTTPServer

from kiosk import backup as bk
from kiosk.clock import ManualClock
from kiosk.db import Item, Outbox, Staff, database, open_database
from kiosk.loans import LoanService
from kiosk.settings import Settings, evolve
from tests.sync.conftest import Hillside, Receiver, add_webhook


def test_after_a_restore_a_new_alert_gets_a_new_id(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    db: pw.SqliteDatabase,
    db_path: Path,
    tmp_path: Path,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    night = bk.backup(db_path, tmp_path / "backups", now=clock.now())
    # Camera 5B out with Amira, and lost: SLT hear of it.
    hillside.sign_out("amira", "camera")
    hillside.service.report_lost(hillside.items["camera"].id, hillside.staff["amira"].id)
    first = Outbox.get()
    assert deliverer_factory(settings).run().delivered == 1
    # The SD card fails; last night's backup is put back; the kiosk carries on.
    db.close()
    bk.restore(db_path, night.path, keep_dir=tmp_path / "kept", force=True, now=clock.now())
    open_database(db_path)
    assert Outbox.select().count() == 0
    clock.advance(3600)
    hillside.sign_out("ben", "phone")  # the same loan number as the camera's had
    hillside.service.report_lost(hillside.items["phone"].id, hillside.staff["ben"].id)
    second = Outbox.get()
    assert second.key == first.key  # the same fact inside this kiosk's records...
    assert second.uid != first.uid  # ...but a different alert on the wire
    assert deliverer_factory(settings).run().delivered == 1
    assert receiver.accepted == [first.uid, second.uid]  # SLT see both losses
    assert [b["data"]["item"]["name"] for b in receiver.bodies.values()] == [
        "Class camera 5B",
        "Trip phone 1",
    ]


def test_two_kiosk_databases_never_share_an_alert_id(tmp_path: Path, settings: Settings) -> None:
    uids: list[str] = []
    for school in ("north", "south"):
        open_database(tmp_path / f"{school}.db")
        clock = ManualClock()
        service = LoanService(evolve(settings, {"kiosk.db": tmp_path / f"{school}.db"}), clock)
        staff = Staff.create(staff_id="S1", name="Amira Khan", badge_uid="04A1B2C3")
        for n in range(50):
            item = Item.create(asset_tag=f"CAM{n}", name=f"Camera {n}", kind="camera")
            service.report_lost(item.id, staff.id)
            clock.advance(60)
        uids += [o.uid for o in Outbox.select()]
        assert Outbox.select().order_by(Outbox.id).first().key == "lost:item:1:1"  # same keys
        database.obj.close()
    assert len(uids) == 100 and len(set(uids)) == 100


def test_a_retry_keeps_the_alerts_id(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    hook_server.expect_oneshot_request("/hook").respond_with_data("busy", status=503)
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    hillside.service.report_lost(hillside.items["trolley"].id, None)
    uid = Outbox.get().uid
    deliverer = deliverer_factory(settings)
    assert deliverer.run().retried == 1
    clock.advance(settings.sync.backoff_cap_seconds + 1)
    assert deliverer.run().delivered == 1
    sent = [r.headers["webhook-id"] for r, _ in hook_server.log]
    assert sent == [uid, uid] and receiver.accepted == [uid]


def test_a_receiver_that_drops_repeats_shows_every_distinct_alert_once(
    hillside: Hillside,
    settings: Settings,
    clock: ManualClock,
    receiver: Receiver,
    hook_server: HTTPServer,
    deliverer_factory,
) -> None:
    settings = add_webhook(settings, hook_server.url_for("/hook"))
    hook_server.expect_request("/hook").respond_with_handler(receiver.handle)
    # The same kind of fact many times over: lost items, lost again after being found.
    for round_ in range(3):
        for what in ("trolley", "camera", "laptops"):
            hillside.service.report_lost(hillside.items[what].id, None, f"round {round_}")
            clock.advance(30)
            hillside.service.tap(hillside.items[what].tag_uid or "")  # found again
            clock.advance(30)
    assert deliverer_factory(settings).run().delivered == 9
    assert sorted(receiver.accepted) == sorted(o.uid for o in Outbox.select())
    assert len(receiver.accepted) == 9 and receiver.received == receiver.accepted
    notes = sorted(str(b["data"]["note"]) for b in receiver.bodies.values())
    assert notes == sorted(f"round {r}" for r in range(3) for _ in range(3))

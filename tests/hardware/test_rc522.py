"""The RC522 reader, driving the emulated chip through its real driver code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hardware.emulated.card import Card
from hardware.emulated.chip import Emulator, Fault
from hardware.errors import ReaderUnavailable
from hardware.events import ReaderBack, ReaderLost, TagSeen
from hardware.rc522 import MFRC522_VERSION, RC522Reader, installed_version, load_mfrc522_module
from hardware.timebase import VirtualTimebase
from tests.hardware.waiting import wait_for

from .conftest import Driven


def test_a_tap_is_one_tag_seen(driven: Driven, emu: Emulator) -> None:
    driven.run(1)
    emu.place(Card.from_hex("04A22B1A"))
    driven.run(1)
    assert driven.tags() == ["04A22B1A"]
    assert isinstance(driven.events[0], TagSeen) and driven.events[0].reader == "RFID reader"


def test_a_read_card_is_halted_and_answers_every_probe(driven: Driven, emu: Emulator) -> None:
    card = emu.place(Card.from_hex("04A22B1A"))
    driven.run(1)
    # HLTA after the read: REQA no longer wakes it. Between polls it is HALT, or READY*
    # after the presence check's WUPA (the next poll's REQA sends it back to HALT).
    assert card.halted and card.state in ("HALT", "READY")
    driven.run(5)
    assert driven.reader._misses == 0  # each WUPA probe found it again


def test_card_held_sixty_seconds_is_exactly_one_event(driven: Driven, emu: Emulator) -> None:
    emu.place(Card.from_hex("04A22B1A"), hold=60.0)
    driven.run(65)
    assert driven.tags() == ["04A22B1A"]


def test_lifted_and_tapped_again_is_two(driven: Driven, emu: Emulator) -> None:
    card = emu.place(Card.from_hex("04A22B1A"))
    driven.run(2)
    emu.remove(card)
    driven.run(1)
    emu.place(card)
    driven.run(2)
    assert driven.tags() == ["04A22B1A", "04A22B1A"]


def test_one_missed_probe_is_not_a_lift(driven: Driven, emu: Emulator) -> None:
    card = emu.place(Card.from_hex("04A22B1A"))
    driven.run(1)
    emu.remove(card)
    driven.run(0.12)  # about one poll
    emu.place(card)
    driven.run(2)
    assert driven.tags() == ["04A22B1A"]


def test_seven_and_ten_byte_uids(driven: Driven, emu: Emulator) -> None:
    c7 = emu.place(Card.from_hex("04112233445566"))
    driven.run(1)
    emu.remove(c7)
    driven.run(1)
    emu.place(Card.from_hex("04112233445566778899"))
    driven.run(1)
    assert driven.tags() == ["04112233445566", "04112233445566778899"]


def test_no_card_poll_costs_a_handful_of_transfers(driven: Driven, emu: Emulator) -> None:
    driven.run(1)  # past start-up
    before, start = emu.transfers, driven.tb.monotonic()
    driven.run(10)
    per_second = (emu.transfers - before) / (driven.tb.monotonic() - start)
    polls = 10 / (driven.reader.poll_interval + 0.0165)
    assert per_second <= 200
    assert (emu.transfers - before) / polls <= 16


@pytest.mark.parametrize("uid", ["04A22B1A", "04112233445566"])
def test_a_resting_card_costs_at_most_200_transfers_a_second(
    driven: Driven, emu: Emulator, uid: str
) -> None:
    """Was about 640 a second (a full read every poll); now one WUPA a poll, plus the REQA."""
    emu.place(Card.from_hex(uid))
    driven.run(1)
    before, start = emu.transfers, driven.tb.monotonic()
    driven.run(60)
    assert (emu.transfers - before) / (driven.tb.monotonic() - start) <= 200
    assert driven.tags() == [uid]


def test_a_card_placed_again_after_a_lift_is_seen_at_the_next_poll(
    driven: Driven, emu: Emulator
) -> None:
    card = emu.place(Card.from_hex("04A22B1A"))
    driven.run(2)
    emu.remove(card)
    driven.run(1)
    emu.place(card)
    placed = driven.tb.monotonic()
    driven.run(1)
    (_, again) = [e for e in driven.events if isinstance(e, TagSeen)]
    assert again.at - placed <= driven.reader.poll_interval + 0.05


def test_a_card_swapped_for_another_is_the_other_at_once(driven: Driven, emu: Emulator) -> None:
    """Lifted and another put down between two polls: REQA finds the new one (it is not halted)."""
    a = emu.place(Card.from_hex("04A22B1A"))
    driven.run(2)
    emu.remove(a)
    emu.place(Card.from_hex("04A22B1B"))
    driven.run(0.3)
    assert driven.tags() == ["04A22B1A", "04A22B1B"]


def test_a_new_card_beside_a_resting_one_is_read(driven: Driven, emu: Emulator) -> None:
    """The resting card is halted, so only the new one answers REQA: no collision to wait out."""
    emu.place(Card.from_hex("04A22B1A"))
    driven.run(2)
    emu.place(Card.from_hex("04A22B1B"))
    driven.run(1)
    assert driven.tags() == ["04A22B1A", "04A22B1B"]


def test_two_cards_at_once_are_not_read_until_one_is_lifted(driven: Driven, emu: Emulator) -> None:
    a = emu.place(Card.from_hex("A1B2C3D4"))
    emu.place(Card.from_hex("A1B2C3D5"))
    driven.run(2)
    assert driven.tags() == []
    emu.remove(a)
    driven.run(1)
    assert driven.tags() == ["A1B2C3D5"]


def test_card_removed_mid_read_gives_nothing_then_reads_again(
    driven: Driven, emu: Emulator
) -> None:
    card = Card.from_hex("04112233445566", leave_after=3)  # WUPA, CL1 anticoll, CL1 select
    emu.place(card)
    driven.run(2)
    assert driven.tags() == []
    emu.place(card)
    driven.run(1)
    assert driven.tags() == ["04112233445566"]


@pytest.mark.parametrize("kind", ["crc", "parity"])
def test_corrupted_answers_are_never_a_wrong_uid(driven: Driven, emu: Emulator, kind: str) -> None:
    for answers_to_corrupt in range(1, 6):
        emu.inject_rx_error(kind, 1)
        card = emu.place(Card.from_hex("04A22B1A"))
        driven.run(0.1 * answers_to_corrupt)
        driven.run(1)
        emu.remove(card)
        driven.run(1)
    assert driven.tags() == ["04A22B1A"] * 5


def test_refuses_to_start_when_not_wired(emu: Emulator, tb: VirtualTimebase) -> None:
    for fault, shown in ((Fault.READS_ZEROS, "0x00"), (Fault.READS_ONES, "0xFF")):
        emu.set_fault(fault)
        reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev, timebase=tb)
        with pytest.raises(ReaderUnavailable, match=f"reads {shown}.*check the wiring"):
            reader.start(lambda e: None)
        assert not reader.alive()


def test_spi_not_enabled_or_not_permitted(emu: Emulator, tb: VirtualTimebase) -> None:
    emu.set_fault(Fault.NO_DEVICE)
    with pytest.raises(ReaderUnavailable, match=r"spidev0\.0 does not exist: enable SPI"):
        RC522Reader(reset_pin=-1, spi_factory=emu.spidev, timebase=tb).open()
    emu.set_fault(Fault.PERMISSION)
    with pytest.raises(ReaderUnavailable, match="spi and gpio groups"):
        RC522Reader(reset_pin=-1, spi_factory=emu.spidev, timebase=tb).open()


def _lost_and_back(driven: Driven, emu: Emulator, fault: str) -> tuple[float, float]:
    driven.run(1)
    t_fault = driven.tb.monotonic()
    emu.set_fault(fault)
    driven.run(6)
    lost = [e for e in driven.events if isinstance(e, ReaderLost)]
    assert len(lost) == 1
    t_fixed = driven.tb.monotonic()
    emu.set_fault(Fault.NONE)
    driven.run(6)
    back = [e for e in driven.events if isinstance(e, ReaderBack)]
    assert len(back) == 1
    return lost[0].at - t_fault, back[0].at - t_fixed


@pytest.mark.parametrize("fault", [Fault.OS_ERROR, Fault.READS_ZEROS, Fault.READS_ONES])
def test_reader_lost_within_5s_and_back_without_restart(
    driven: Driven, emu: Emulator, fault: str
) -> None:
    lost_after, back_after = _lost_and_back(driven, emu, fault)
    assert lost_after <= 5.0
    assert back_after <= 5.0
    emu.place(Card.from_hex("04A22B1A"))
    driven.run(1)
    assert driven.tags() == ["04A22B1A"]  # reading again, same reader object


def test_lost_reason_says_what_to_check(driven: Driven, emu: Emulator) -> None:
    emu.set_fault(Fault.READS_ZEROS)
    driven.run(3)
    (lost,) = [e for e in driven.events if isinstance(e, ReaderLost)]
    assert "0x00" in lost.reason and "wiring" in lost.reason


def test_card_lying_on_the_reader_through_an_outage_is_not_a_new_tap(
    driven: Driven, emu: Emulator
) -> None:
    emu.place(Card.from_hex("04A22B1A"))
    driven.run(1)
    emu.set_fault(Fault.OS_ERROR)
    driven.run(3)
    emu.set_fault(Fault.NONE)
    driven.run(3)
    assert driven.tags() == ["04A22B1A"]


def test_chip_that_lost_its_settings_is_reinitialised(driven: Driven, emu: Emulator) -> None:
    driven.run(1)
    emu.power_on_reset()  # a brown-out: registers back to reset values, antenna off
    driven.run(2)
    emu.place(Card.from_hex("04A22B1A"))
    driven.run(1)
    assert driven.tags() == ["04A22B1A"]
    assert not [e for e in driven.events if isinstance(e, ReaderLost)]


def test_reset_line_is_pulsed_through_gpiozero(
    emu: Emulator, tb: VirtualTimebase, mock_factory: object
) -> None:
    reader = RC522Reader(reset_pin=25, spi_factory=emu.spidev, timebase=tb)
    reader.open()
    pin = mock_factory.pin(25)  # type: ignore[attr-defined]
    assert [s.state for s in pin.states] == [False, True, False, True]
    reader.stop()
    assert pin.state is False or pin.function == "input"


def test_thread_start_stop_on_virtual_time(emu: Emulator, tb: VirtualTimebase) -> None:
    events: list[object] = []
    reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev, timebase=tb)
    emu.place(Card.from_hex("04A22B1A"), hold=60.0, after=1.0)
    start = tb.monotonic()
    reader.start(events.append)
    assert reader.alive()
    wait_for(lambda: tb.monotonic() >= start + 70, timeout=20)
    reader.stop()
    assert not reader.alive()
    assert [e.uid for e in events if isinstance(e, TagSeen)] == ["04A22B1A"]


def test_stop_twice_is_safe(emu: Emulator, tb: VirtualTimebase) -> None:
    reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev, timebase=tb)
    reader.start(lambda e: None)
    reader.stop()
    reader.stop()


def test_importing_hardware_loads_no_device_library() -> None:
    code = (
        "import sys, hardware, hardware.base, hardware.events, hardware.config, "
        "hardware.factory, hardware.rc522, hardware.usb_reader, hardware.feedback, "
        "hardware.emulated.chip, hardware.emulated.card, hardware.emulated.keyboard, "
        "hardware.emulated.stock_driver\n"
        "bad = [m for m in ('gpiozero', 'spidev', 'evdev', 'mfrc522', 'RPi', 'lgpio', 'textual')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
        "from hardware.rc522 import chip_class\n"
        "chip_class()\n"
        "assert 'RPi' not in sys.modules and 'RPi.GPIO' not in sys.modules\n"
        "assert 'mfrc522' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_reader_stuck_in_a_driver_call_is_not_alive(emu: Emulator, tb: VirtualTimebase) -> None:
    """The watchdog relies on alive(): a thread blocked for good must not count as alive."""
    import threading

    stuck = threading.Event()
    reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev, timebase=tb)
    reader.health.max_silence = 0.3
    reader.step = lambda: stuck.wait()  # type: ignore[method-assign]  # a wedged SPI call
    reader.start(lambda event: None)
    try:
        assert reader.alive()
        wait_for(lambda: not reader.alive(), timeout=5, what="a hung reader still counts as alive")
        assert not reader.alive()
        assert reader._thread is not None and reader._thread.is_alive()  # alive, but hung
    finally:
        stuck.set()
        reader.stop()


class FlakyApp:
    """The app's emit, failing on purpose: its first ``fail`` calls raise, or while ``down``."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.down = False
        self.calls = 0
        self.events: list[object] = []

    def emit(self, event: object) -> None:
        self.calls += 1
        if self.down or self.calls <= self.fail:
            raise RuntimeError("the app fell over")
        self.events.append(event)

    def tags(self) -> list[str]:
        return [e.uid for e in self.events if isinstance(e, TagSeen)]


def test_an_emit_that_raises_loses_no_tap_and_reports_no_lost_reader(
    driven: Driven, emu: Emulator
) -> None:
    app = FlakyApp(fail=2)  # the tap, then its first retry
    driven.reader._emit = app.emit
    emu.place(Card.from_hex("04A22B1A"))
    driven.run(2)
    assert app.tags() == ["04A22B1A"]  # once, on the third try
    assert not [e for e in app.events if isinstance(e, ReaderLost | ReaderBack)]


def test_taps_wait_in_order_while_the_app_is_down(driven: Driven, emu: Emulator) -> None:
    app = FlakyApp()
    driven.reader._emit = app.emit
    app.down = True
    for uid in ("04A22B1A", "04A22B1B"):
        card = emu.place(Card.from_hex(uid))
        driven.run(1)
        emu.remove(card)
        driven.run(1)
    assert app.tags() == []
    app.down = False
    driven.run(0.5)
    assert app.tags() == ["04A22B1A", "04A22B1B"]


def test_a_tap_the_app_refuses_for_30_s_is_given_up(
    driven: Driven, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    app = FlakyApp()
    driven.reader._emit = app.emit
    app.down = True
    card = emu.place(Card.from_hex("04A22B1A"))
    driven.run(31)
    app.down = False
    driven.run(1)
    assert app.tags() == []
    assert "gave up on tag 04A22B1A" in caplog.text
    emu.remove(card)
    driven.run(1)
    emu.place(Card.from_hex("04A22B1C"))
    driven.run(1)
    assert app.tags() == ["04A22B1C"]


def test_the_reader_thread_outlives_an_emit_that_always_raises(
    emu: Emulator, tb: VirtualTimebase
) -> None:
    """Before: two exceptions in a row (tap, then the false ReaderLost) ended the thread."""
    app = FlakyApp()
    app.down = True
    reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev, timebase=tb)
    emu.place(Card.from_hex("04A22B1A"), after=1.0)
    reader.start(app.emit)
    try:
        start = tb.monotonic()
        wait_for(lambda: app.calls >= 5, timeout=20)  # retried, turn after turn
        assert app.calls >= 5 and reader.alive()
        app.down = False
        wait_for(lambda: bool(app.events), timeout=20)
        assert tb.monotonic() - start < 30, "delivered as soon as the app took it"
    finally:
        reader.stop()
    assert app.tags() == ["04A22B1A"]
    assert not [e for e in app.events if isinstance(e, ReaderLost)]


def test_the_driver_version_is_read_as_importlib_metadata_reads_it() -> None:
    import importlib.metadata
    import importlib.util

    spec = importlib.util.find_spec("mfrc522")
    assert spec is not None
    assert installed_version(spec) == importlib.metadata.version("mfrc522") == MFRC522_VERSION


def test_another_version_of_the_driver_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mfrc522").mkdir()
    (tmp_path / "mfrc522" / "__init__.py").write_text("")
    (tmp_path / "mfrc522" / "MFRC522.py").write_text("")
    (tmp_path / "mfrc522-0.0.6.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        ReaderUnavailable, match=r"mfrc522 0\.0\.6 is installed; the kiosk needs exactly 0\.0\.7"
    ):
        load_mfrc522_module()

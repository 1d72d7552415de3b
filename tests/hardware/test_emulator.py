"""The emulated MFRC522 at register level, checked against the datasheet and mfrc522 itself."""

from __future__ import annotations

import pytest

from hardware import emulator as chip
from hardware.emulator import Card, Emulator, Fault, unmodified_mfrc522
from hardware.iso14443a import crc_a
from hardware.timebase import VirtualTimebase


def write(spi: chip.EmulatedSpiDev, reg: int, *values: int) -> None:
    spi.xfer2([(reg << 1) & 0x7E, *values])


def read(spi: chip.EmulatedSpiDev, reg: int) -> int:
    return spi.xfer2([((reg << 1) & 0x7E) | 0x80, 0])[1]


@pytest.fixture
def spi(emu: Emulator) -> chip.EmulatedSpiDev:
    dev = emu.spidev()
    dev.open(0, 0)
    return dev


def test_crc_a_matches_the_standard_example() -> None:
    # ISO/IEC 14443-3 annex B: CRC_A of 0x00 0x00 is 0xA0 0x1E; of 0x12 0x34 is 0x26 0xCF.
    assert crc_a([0x00, 0x00]) == [0xA0, 0x1E]
    assert crc_a([0x12, 0x34]) == [0x26, 0xCF]


def test_version_and_reset_values(spi: chip.EmulatedSpiDev) -> None:
    assert read(spi, chip.VERSION) == 0x92
    assert read(spi, chip.TX_CONTROL) == 0x80  # antenna off after power-on
    write(spi, chip.VERSION, 0x00)
    assert read(spi, chip.VERSION) == 0x92  # read-only


def test_irq_register_set_and_clear_semantics(spi: chip.EmulatedSpiDev, emu: Emulator) -> None:
    write(spi, chip.COM_IRQ, 0x7F)  # Set1 = 0: clear the bits written as 1
    assert read(spi, chip.COM_IRQ) == 0
    write(spi, chip.COM_IRQ, 0x80 | 0x21)  # Set1 = 1: set them
    assert read(spi, chip.COM_IRQ) == 0x21
    write(spi, chip.COM_IRQ, 0x01)
    assert read(spi, chip.COM_IRQ) == 0x20
    write(spi, chip.DIV_IRQ, 0x80 | 0x04)
    assert read(spi, chip.DIV_IRQ) == 0x04
    write(spi, chip.DIV_IRQ, 0x04)
    assert read(spi, chip.DIV_IRQ) == 0


def test_fifo_level_burst_and_flush(spi: chip.EmulatedSpiDev) -> None:
    write(spi, chip.FIFO_DATA, 1, 2, 3)
    assert read(spi, chip.FIFO_LEVEL) == 3
    burst = spi.xfer2([0x80 | (chip.FIFO_DATA << 1)] * 2 + [0])
    assert burst[1:] == [1, 2]
    write(spi, chip.FIFO_LEVEL, 0x80)
    assert read(spi, chip.FIFO_LEVEL) == 0


def test_crc_coprocessor(spi: chip.EmulatedSpiDev) -> None:
    write(spi, chip.MODE, 0x3D)  # CRC preset 0x6363, as mfrc522 sets it
    write(spi, chip.FIFO_DATA, 0x50, 0x00)
    write(spi, chip.COMMAND, chip.CMD_CALC_CRC)
    assert read(spi, chip.DIV_IRQ) & chip.DIV_CRC
    assert [read(spi, chip.CRC_RESULT_L), read(spi, chip.CRC_RESULT_H)] == crc_a([0x50, 0x00])
    assert read(spi, chip.FIFO_LEVEL) == 0


def _init(spi: chip.EmulatedSpiDev) -> None:
    for reg, value in (
        (chip.T_MODE, 0x8D),
        (chip.T_PRESCALER, 0x3E),
        (chip.T_RELOAD_L, 30),
        (chip.T_RELOAD_H, 0),
        (chip.MODE, 0x3D),
        (chip.TX_CONTROL, 0x83),
    ):
        write(spi, reg, value)


def _transceive(spi: chip.EmulatedSpiDev, data: list[int], last_bits: int = 0) -> list[int]:
    write(spi, chip.COM_IRQ, 0x7F)
    write(spi, chip.FIFO_LEVEL, 0x80)
    write(spi, chip.FIFO_DATA, *data)
    write(spi, chip.COMMAND, chip.CMD_TRANSCEIVE)
    write(spi, chip.BIT_FRAMING, 0x80 | last_bits)
    write(spi, chip.BIT_FRAMING, last_bits)
    n = read(spi, chip.FIFO_LEVEL)
    return [read(spi, chip.FIFO_DATA) for _ in range(n)]


def test_timer_fires_after_the_programmed_period(
    spi: chip.EmulatedSpiDev, tb: VirtualTimebase
) -> None:
    _init(spi)
    assert _transceive(spi, [0x26], 7) == []
    assert read(spi, chip.COM_IRQ) & chip.IRQ_TX
    assert not read(spi, chip.COM_IRQ) & chip.IRQ_TIMER
    tb.advance(0.0154)
    assert not read(spi, chip.COM_IRQ) & chip.IRQ_TIMER
    tb.advance(0.0002)  # (30 + 1) * (2 * 0xD3E + 1) / 13.56 MHz = 15.50 ms
    assert read(spi, chip.COM_IRQ) & chip.IRQ_TIMER


def test_card_states_reqa_wupa_halt(spi: chip.EmulatedSpiDev, emu: Emulator) -> None:
    _init(spi)
    card = emu.place(Card.from_hex("A1B2C3D4"))
    assert _transceive(spi, [0x26], 7) == [0x04, 0x00]  # REQA -> ATQA
    assert card.state == "READY"
    cl = _transceive(spi, [0x93, 0x20])
    assert cl == [0xA1, 0xB2, 0xC3, 0xD4, 0xA1 ^ 0xB2 ^ 0xC3 ^ 0xD4]
    select = [0x93, 0x70, *cl]
    assert _transceive(spi, [*select, *crc_a(select)]) == [0x08, *crc_a([0x08])]
    assert card.state == "ACTIVE"
    assert _transceive(spi, [0x50, 0x00, *crc_a([0x50, 0x00])]) == []  # HLTA: no answer
    assert card.state == "HALT"
    assert _transceive(spi, [0x26], 7) == []  # a halted card ignores REQA
    assert _transceive(spi, [0x52], 7) == [0x04, 0x00]  # ... but answers WUPA
    assert card.state == "READY" and card.halted


def test_seven_byte_uid_uses_cascade_level_two(spi: chip.EmulatedSpiDev, emu: Emulator) -> None:
    _init(spi)
    emu.place(Card.from_hex("04112233445566"))
    assert _transceive(spi, [0x52], 7) == [0x44, 0x00]
    cl1 = _transceive(spi, [0x93, 0x20])
    assert cl1[:4] == [0x88, 0x04, 0x11, 0x22]
    sel = [0x93, 0x70, *cl1]
    assert _transceive(spi, [*sel, *crc_a(sel)])[0] == 0x04  # SAK: UID not complete
    cl2 = _transceive(spi, [0x95, 0x20])
    assert cl2[:4] == [0x33, 0x44, 0x55, 0x66]
    sel = [0x95, 0x70, *cl2]
    assert _transceive(spi, [*sel, *crc_a(sel)])[0] == 0x00  # complete, Ultralight


def test_bad_crc_on_select_gets_no_answer(spi: chip.EmulatedSpiDev, emu: Emulator) -> None:
    _init(spi)
    emu.place(Card.from_hex("A1B2C3D4"))
    _transceive(spi, [0x26], 7)
    cl = _transceive(spi, [0x93, 0x20])
    assert _transceive(spi, [0x93, 0x70, *cl, 0x00, 0x00]) == []


def test_two_cards_collide(spi: chip.EmulatedSpiDev, emu: Emulator) -> None:
    _init(spi)
    emu.place(Card.from_hex("A1B2C3D4"))
    emu.place(Card.from_hex("A1B2C3D5"))
    assert _transceive(spi, [0x26], 7) == [0x04, 0x00]  # identical ATQAs do not collide
    _transceive(spi, [0x93, 0x20])
    assert read(spi, chip.ERROR) & chip.ERR_COLL
    assert read(spi, chip.COLL) & 0x1F == 25  # bit 0 of the 4th byte is the first difference


def test_rx_errors_are_injected_once(spi: chip.EmulatedSpiDev, emu: Emulator) -> None:
    _init(spi)
    emu.place(Card.from_hex("A1B2C3D4"))
    emu.inject_rx_error("parity")
    _transceive(spi, [0x26], 7)
    assert read(spi, chip.ERROR) & chip.ERR_PARITY
    _transceive(spi, [0x52], 7)  # READY + WUPA: back to IDLE, silent
    _transceive(spi, [0x26], 7)
    assert not read(spi, chip.ERROR)


def test_card_held_for_n_seconds_leaves_by_itself(emu: Emulator, tb: VirtualTimebase) -> None:
    card = emu.place(Card.from_hex("A1B2C3D4"), hold=5.0)
    assert emu.cards_in_field() == [card]
    tb.advance(5.0)
    assert emu.cards_in_field() == []


def test_bus_faults(emu: Emulator, spi: chip.EmulatedSpiDev) -> None:
    emu.set_fault(Fault.READS_ZEROS)
    assert read(spi, chip.VERSION) == 0x00
    emu.set_fault(Fault.READS_ONES)
    assert read(spi, chip.VERSION) == 0xFF
    emu.set_fault(Fault.OS_ERROR)
    with pytest.raises(OSError):
        read(spi, chip.VERSION)
    emu.set_fault(Fault.NO_DEVICE)
    with pytest.raises(FileNotFoundError):
        emu.spidev().open(0, 0)
    emu.set_fault(Fault.PERMISSION)
    with pytest.raises(PermissionError):
        emu.spidev().open(0, 0)
    emu.set_fault(Fault.NONE)
    assert read(spi, chip.VERSION) == 0x92


def test_unmodified_mfrc522_reads_a_card_through_the_emulator() -> None:
    """mfrc522's own SimpleMFRC522.read(): request, anticoll, select, MFAuthent, READ."""
    emu = Emulator()
    _, simple_class = unmodified_mfrc522(emu)
    simple = simple_class()
    emu.place(Card.from_hex("A1B2C3D4", blocks={8: b"Class 4 camera  ", 9: b" " * 16}))
    uid, text = simple.read()
    # uid_to_num folds the BCC byte in: one of the defects the kiosk's driver avoids.
    assert uid == int("A1B2C3D4", 16) * 256 + (0xA1 ^ 0xB2 ^ 0xC3 ^ 0xD4)
    assert text.startswith("Class 4 camera")
    # Classic blocks are only readable after MFAuthent; StopCrypto1 then clears MFCrypto1On.
    assert emu.register(chip.STATUS2) & 0x08 == 0


def test_read_without_authentication_is_refused(spi: chip.EmulatedSpiDev, emu: Emulator) -> None:
    _init(spi)
    emu.place(Card.from_hex("A1B2C3D4", blocks={8: b"secret".ljust(16)}))
    _transceive(spi, [0x26], 7)
    cl = _transceive(spi, [0x93, 0x20])
    sel = [0x93, 0x70, *cl]
    _transceive(spi, [*sel, *crc_a(sel)])
    assert _transceive(spi, [0x30, 8, *crc_a([0x30, 8])]) == [0x04]  # NAK, 4 bits
    assert read(spi, chip.CONTROL) & 0x07 == 4


def test_unmodified_mfrc522_wait_loop_costs_about_2000_transfers() -> None:
    """The measured defect: with no card each poll reads CommIrqReg ~2,000 times."""
    emu = Emulator()
    _, simple_class = unmodified_mfrc522(emu)
    simple = simple_class()
    before = emu.transfers
    assert simple.read_id_no_block() is None
    assert 2000 <= emu.transfers - before <= 2020

"""Emulated ISO 14443-A cards: their states and answers, through the chip as a driver sees them."""

from __future__ import annotations

import pytest

from hardware.emulated import chip
from hardware.emulated.card import Card
from hardware.emulated.chip import EmulatedSpiDev, Emulator
from hardware.iso14443a import crc_a

from .spi import init_like_mfrc522, read, transceive


def test_card_states_reqa_wupa_halt(spi: EmulatedSpiDev, emu: Emulator) -> None:
    init_like_mfrc522(spi)
    card = emu.place(Card.from_hex("A1B2C3D4"))
    assert transceive(spi, [0x26], 7) == [0x04, 0x00]  # REQA -> ATQA
    assert card.state == "READY"
    cl = transceive(spi, [0x93, 0x20])
    assert cl == [0xA1, 0xB2, 0xC3, 0xD4, 0xA1 ^ 0xB2 ^ 0xC3 ^ 0xD4]
    select = [0x93, 0x70, *cl]
    assert transceive(spi, [*select, *crc_a(select)]) == [0x08, *crc_a([0x08])]
    assert card.state == "ACTIVE"
    assert transceive(spi, [0x50, 0x00, *crc_a([0x50, 0x00])]) == []  # HLTA: no answer
    assert card.state == "HALT"
    assert transceive(spi, [0x26], 7) == []  # a halted card ignores REQA
    assert transceive(spi, [0x52], 7) == [0x04, 0x00]  # ... but answers WUPA
    assert card.state == "READY" and card.halted


def test_seven_byte_uid_uses_cascade_level_two(spi: EmulatedSpiDev, emu: Emulator) -> None:
    init_like_mfrc522(spi)
    emu.place(Card.from_hex("04112233445566"))
    assert transceive(spi, [0x52], 7) == [0x44, 0x00]
    cl1 = transceive(spi, [0x93, 0x20])
    assert cl1[:4] == [0x88, 0x04, 0x11, 0x22]
    sel = [0x93, 0x70, *cl1]
    assert transceive(spi, [*sel, *crc_a(sel)])[0] == 0x04  # SAK: UID not complete
    cl2 = transceive(spi, [0x95, 0x20])
    assert cl2[:4] == [0x33, 0x44, 0x55, 0x66]
    sel = [0x95, 0x70, *cl2]
    assert transceive(spi, [*sel, *crc_a(sel)])[0] == 0x00  # complete, Ultralight


def test_bad_crc_on_select_gets_no_answer(spi: EmulatedSpiDev, emu: Emulator) -> None:
    init_like_mfrc522(spi)
    emu.place(Card.from_hex("A1B2C3D4"))
    transceive(spi, [0x26], 7)
    cl = transceive(spi, [0x93, 0x20])
    assert transceive(spi, [0x93, 0x70, *cl, 0x00, 0x00]) == []


def test_read_without_authentication_is_refused(spi: EmulatedSpiDev, emu: Emulator) -> None:
    init_like_mfrc522(spi)
    emu.place(Card.from_hex("A1B2C3D4", blocks={8: b"secret".ljust(16)}))
    transceive(spi, [0x26], 7)
    cl = transceive(spi, [0x93, 0x20])
    sel = [0x93, 0x70, *cl]
    transceive(spi, [*sel, *crc_a(sel)])
    assert transceive(spi, [0x30, 8, *crc_a([0x30, 8])]) == [0x04]  # NAK, 4 bits
    assert read(spi, chip.CONTROL) & 0x07 == 4


def test_uids_of_four_seven_and_ten_bytes_only() -> None:
    for size in (4, 7, 10):
        assert len(Card(bytes(range(1, size + 1))).uid) == size
    for size in (0, 3, 5, 8, 11):
        with pytest.raises(ValueError, match="4, 7 or 10 bytes"):
            Card(bytes(size))


def test_cascade_levels_carry_the_cascade_tag_until_the_last() -> None:
    assert Card.from_hex("A1B2C3D4").levels() == [[0xA1, 0xB2, 0xC3, 0xD4]]
    ten = Card.from_hex("04112233445566778899")
    assert ten.levels() == [
        [0x88, 0x04, 0x11, 0x22],
        [0x88, 0x33, 0x44, 0x55],
        [0x66, 0x77, 0x88, 0x99],
    ]
    assert [Card(bytes(n)).atqa for n in (4, 7, 10)] == [[0x04, 0x00], [0x44, 0x00], [0x84, 0x00]]


def test_a_ready_card_that_hears_anything_but_select_goes_home() -> None:
    """ISO 14443-3: READY (or READY*) and a command other than ANTICOLLISION/SELECT."""
    card = Card.from_hex("A1B2C3D4")
    assert card.answer([0x26], 7) == ([0x04, 0x00], 0)  # REQA
    assert card.answer([0x26], 7) is None and card.state == "IDLE"
    card.halted = True
    card.state = "HALT"
    assert card.answer([0x52], 7) == ([0x04, 0x00], 0)  # WUPA: READY*
    assert card.answer([0x26], 7) is None and card.state == "HALT"  # back to HALT, not IDLE


def test_ultralight_read_returns_four_pages() -> None:
    card = Card.from_hex("04112233445566", blocks={4: b"ABCD", 5: b"EFGH"})
    assert bytes(card.read16(4)) == b"ABCDEFGH" + bytes(8)

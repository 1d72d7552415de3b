"""The unmodified mfrc522 driver against the emulated chip: a driver it was not written for."""

from __future__ import annotations

from hardware.emulated import chip
from hardware.emulated.card import Card
from hardware.emulated.chip import Emulator
from hardware.emulated.stock_driver import unmodified_mfrc522


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


def test_unmodified_mfrc522_wait_loop_costs_about_2000_transfers() -> None:
    """The measured defect: with no card each poll reads CommIrqReg ~2,000 times."""
    emu = Emulator()
    _, simple_class = unmodified_mfrc522(emu)
    simple = simple_class()
    before = emu.transfers
    assert simple.read_id_no_block() is None
    assert 2000 <= emu.transfers - before <= 2020

"""The emulated MFRC522 at register level, checked against the datasheet."""

from __future__ import annotations

import pytest

from hardware.emulated import chip
from hardware.emulated.card import Card
from hardware.emulated.chip import EmulatedSpiDev, Emulator, Fault
from hardware.iso14443a import crc_a
from hardware.timebase import VirtualTimebase

from .spi import init_like_mfrc522, read, transceive, write


def test_version_and_reset_values(spi: EmulatedSpiDev) -> None:
    assert read(spi, chip.VERSION) == 0x92
    assert read(spi, chip.TX_CONTROL) == 0x80  # antenna off after power-on
    write(spi, chip.VERSION, 0x00)
    assert read(spi, chip.VERSION) == 0x92  # read-only


def test_irq_register_set_and_clear_semantics(spi: EmulatedSpiDev, emu: Emulator) -> None:
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


def test_fifo_level_burst_and_flush(spi: EmulatedSpiDev) -> None:
    write(spi, chip.FIFO_DATA, 1, 2, 3)
    assert read(spi, chip.FIFO_LEVEL) == 3
    burst = spi.xfer2([0x80 | (chip.FIFO_DATA << 1)] * 2 + [0])
    assert burst[1:] == [1, 2]
    write(spi, chip.FIFO_LEVEL, 0x80)
    assert read(spi, chip.FIFO_LEVEL) == 0


def test_crc_coprocessor(spi: EmulatedSpiDev) -> None:
    write(spi, chip.MODE, 0x3D)  # CRC preset 0x6363, as mfrc522 sets it
    write(spi, chip.FIFO_DATA, 0x50, 0x00)
    write(spi, chip.COMMAND, chip.CMD_CALC_CRC)
    assert read(spi, chip.DIV_IRQ) & chip.DIV_CRC
    assert [read(spi, chip.CRC_RESULT_L), read(spi, chip.CRC_RESULT_H)] == crc_a([0x50, 0x00])
    assert read(spi, chip.FIFO_LEVEL) == 0


def test_timer_fires_after_the_programmed_period(spi: EmulatedSpiDev, tb: VirtualTimebase) -> None:
    init_like_mfrc522(spi)
    assert transceive(spi, [0x26], 7) == []
    assert read(spi, chip.COM_IRQ) & chip.IRQ_TX
    assert not read(spi, chip.COM_IRQ) & chip.IRQ_TIMER
    tb.advance(0.0154)
    assert not read(spi, chip.COM_IRQ) & chip.IRQ_TIMER
    tb.advance(0.0002)  # (30 + 1) * (2 * 0xD3E + 1) / 13.56 MHz = 15.50 ms
    assert read(spi, chip.COM_IRQ) & chip.IRQ_TIMER


def test_two_cards_collide(spi: EmulatedSpiDev, emu: Emulator) -> None:
    init_like_mfrc522(spi)
    emu.place(Card.from_hex("A1B2C3D4"))
    emu.place(Card.from_hex("A1B2C3D5"))
    assert transceive(spi, [0x26], 7) == [0x04, 0x00]  # identical ATQAs do not collide
    transceive(spi, [0x93, 0x20])
    assert read(spi, chip.ERROR) & chip.ERR_COLL
    assert read(spi, chip.COLL) & 0x1F == 25  # bit 0 of the 4th byte is the first difference


def test_rx_errors_are_injected_once(spi: EmulatedSpiDev, emu: Emulator) -> None:
    init_like_mfrc522(spi)
    emu.place(Card.from_hex("A1B2C3D4"))
    emu.inject_rx_error("parity")
    transceive(spi, [0x26], 7)
    assert read(spi, chip.ERROR) & chip.ERR_PARITY
    transceive(spi, [0x52], 7)  # READY + WUPA: back to IDLE, silent
    transceive(spi, [0x26], 7)
    assert not read(spi, chip.ERROR)


def test_card_held_for_n_seconds_leaves_by_itself(emu: Emulator, tb: VirtualTimebase) -> None:
    card = emu.place(Card.from_hex("A1B2C3D4"), hold=5.0)
    assert emu.cards_in_field() == [card]
    tb.advance(5.0)
    assert emu.cards_in_field() == []


def test_bus_faults(emu: Emulator, spi: EmulatedSpiDev) -> None:
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


def test_transmit_sends_without_receiving_and_ends_by_itself(
    spi: EmulatedSpiDev, emu: Emulator
) -> None:
    init_like_mfrc522(spi)
    card = emu.place(Card.from_hex("A1B2C3D4"))
    assert transceive(spi, [0x52], 7) == [0x04, 0x00]  # WUPA: READY
    write(spi, chip.COM_IRQ, 0x7F)
    write(spi, chip.BIT_FRAMING, 0x00)
    write(spi, chip.FIFO_DATA, 0x50, 0x00, *crc_a([0x50, 0x00]))  # HLTA
    write(spi, chip.COMMAND, chip.CMD_TRANSMIT)
    assert read(spi, chip.COM_IRQ) & (chip.IRQ_TX | chip.IRQ_IDLE) == chip.IRQ_TX | chip.IRQ_IDLE
    assert read(spi, chip.COMMAND) & 0x0F == chip.CMD_IDLE
    assert read(spi, chip.FIFO_LEVEL) == 0  # sent, and nothing received
    assert card.state == "IDLE"  # READY + anything but select: home (IDLE: never halted)

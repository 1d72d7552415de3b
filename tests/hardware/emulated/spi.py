"""Register access to the emulated chip over its SPI device, as a driver does it."""

from __future__ import annotations

from hardware.emulated import chip
from hardware.emulated.chip import EmulatedSpiDev


def write(spi: EmulatedSpiDev, reg: int, *values: int) -> None:
    spi.xfer2([(reg << 1) & 0x7E, *values])


def read(spi: EmulatedSpiDev, reg: int) -> int:
    return spi.xfer2([((reg << 1) & 0x7E) | 0x80, 0])[1]


def init_like_mfrc522(spi: EmulatedSpiDev) -> None:
    """The timer, CRC preset and antenna as mfrc522's MFRC522_Init sets them."""
    for reg, value in (
        (chip.T_MODE, 0x8D),
        (chip.T_PRESCALER, 0x3E),
        (chip.T_RELOAD_L, 30),
        (chip.T_RELOAD_H, 0),
        (chip.MODE, 0x3D),
        (chip.TX_CONTROL, 0x83),
    ):
        write(spi, reg, value)


def transceive(spi: EmulatedSpiDev, data: list[int], last_bits: int = 0) -> list[int]:
    """Send ``data`` to the cards in the field; return what came back in the FIFO."""
    write(spi, chip.COM_IRQ, 0x7F)
    write(spi, chip.FIFO_LEVEL, 0x80)
    write(spi, chip.FIFO_DATA, *data)
    write(spi, chip.COMMAND, chip.CMD_TRANSCEIVE)
    write(spi, chip.BIT_FRAMING, 0x80 | last_bits)
    write(spi, chip.BIT_FRAMING, last_bits)
    n = read(spi, chip.FIFO_LEVEL)
    return [read(spi, chip.FIFO_DATA) for _ in range(n)]

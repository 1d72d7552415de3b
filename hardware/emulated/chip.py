"""An MFRC522 (RC522) emulated at register level, behind a fake ``spidev.SpiDev``.

This is the chip as the driver sees it over SPI: registers, the FIFO,
interrupt flags with their set-and-clear rule, the timer, the CRC coprocessor,
MFAuthent, and the cards (``hardware.emulated.card``) in its antenna field.
The real driver code (``hardware.rc522`` and, for the benchmark's baseline,
``mfrc522`` itself) runs against it unchanged.

Faults are injected on command, as a test or ``kiosk hardware-check --emulate``
needs them: no card, a card held for N seconds, a card removed part-way
through a read, two cards at once (a collision), a CRC or parity error on the
next answer, the reader not wired (reads all 0x00 or 0xFF), SPI ``OSError``,
and no SPI device at all (SPI not enabled).

Simplifications, all on paths the kiosk never takes: two cards are reported as
a collision rather than resolved bit by bit; Receive and the self test are not
modelled (Transmit is: the kiosk sends HLTA with it).
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from hardware.emulated.card import Card
from hardware.iso14443a import crc_a
from hardware.timebase import SystemTimebase, Timebase

# Registers (datasheet section 9).
COMMAND = 0x01
COM_IEN = 0x02
DIV_IEN = 0x03
COM_IRQ = 0x04
DIV_IRQ = 0x05
ERROR = 0x06
STATUS1 = 0x07
STATUS2 = 0x08
FIFO_DATA = 0x09
FIFO_LEVEL = 0x0A
WATER_LEVEL = 0x0B
CONTROL = 0x0C
BIT_FRAMING = 0x0D
COLL = 0x0E
MODE = 0x11
TX_MODE = 0x12
RX_MODE = 0x13
TX_CONTROL = 0x14
TX_ASK = 0x15
CRC_RESULT_H = 0x21
CRC_RESULT_L = 0x22
T_MODE = 0x2A
T_PRESCALER = 0x2B
T_RELOAD_H = 0x2C
T_RELOAD_L = 0x2D
VERSION = 0x37

# Commands (CommandReg bits 3..0).
CMD_IDLE = 0x00
CMD_CALC_CRC = 0x03
CMD_TRANSMIT = 0x04
CMD_TRANSCEIVE = 0x0C
CMD_MF_AUTHENT = 0x0E
CMD_SOFT_RESET = 0x0F

# ComIrqReg bits.
IRQ_TX = 0x40
IRQ_RX = 0x20
IRQ_IDLE = 0x10
IRQ_ERR = 0x02
IRQ_TIMER = 0x01
# DivIrqReg bits.
DIV_CRC = 0x04
# ErrorReg bits.
ERR_PROTOCOL = 0x01
ERR_PARITY = 0x02
ERR_CRC = 0x04
ERR_COLL = 0x08


_RESET_VALUES = {
    COMMAND: 0x20,
    COM_IEN: 0x80,
    COM_IRQ: 0x14,
    STATUS1: 0x21,
    WATER_LEVEL: 0x08,
    CONTROL: 0x10,
    COLL: 0x80,
    MODE: 0x3F,
    TX_CONTROL: 0x80,
    0x16: 0x10,  # TxSelReg
    0x17: 0x84,  # RxSelReg
    0x18: 0x84,  # RxThresholdReg
    0x19: 0x4D,  # DemodReg
    0x1C: 0x62,  # MifareReg
    0x1F: 0xEB,  # SerialSpeedReg
    CRC_RESULT_H: 0xFF,
    CRC_RESULT_L: 0xFF,
    0x24: 0x26,  # ModWidthReg
    0x26: 0x48,  # RFCfgReg
    0x27: 0x88,  # GsNReg
    0x28: 0x20,  # CWGsPReg
    0x29: 0x20,  # ModGsPReg
}

_CRC_PRESETS = (0x0000, 0x6363, 0xA671, 0xFFFF)


class Fault:
    """What can go wrong between the Pi and the chip (``Emulator.fault``)."""

    NONE = ""
    READS_ZEROS = "zeros"
    """Not wired, or MISO stuck low: every register reads 0x00, writes vanish."""
    READS_ONES = "ones"
    """Not wired with MISO floating high: every register reads 0xFF."""
    OS_ERROR = "oserror"
    """The SPI driver fails every transfer with OSError (EIO)."""
    NO_DEVICE = "nodev"
    """No /dev/spidevB.D: SPI is not enabled. Opening fails; transfers fail."""
    PERMISSION = "permission"
    """/dev/spidevB.D exists but this user may not open it (not in group spi)."""


@dataclass
class _Placement:
    card: Card
    since: float
    until: float | None


class Emulator:
    """The chip, its antenna field and the cards in it. Thread-safe.

    ``timebase`` drives the chip's timer and how long cards stay; share it
    with the reader under test. ``transfers`` counts SPI transfers.
    """

    def __init__(self, timebase: Timebase | None = None, version: int = 0x92) -> None:
        self.timebase: Timebase = timebase or SystemTimebase()
        self.version = version
        self.fault = Fault.NONE
        self.transfers = 0
        self.opened = 0
        self._lock = threading.RLock()
        self._regs = [0] * 64
        self._fifo: list[int] = []
        self._timer_deadline: float | None = None
        self._field: list[_Placement] = []
        self._rx_errors: list[str] = []
        self.power_on_reset()

    # ---- scenario control -------------------------------------------------

    def place(self, card: Card, hold: float | None = None, after: float = 0.0) -> Card:
        """Put ``card`` on the reader ``after`` seconds from now.

        It stays ``hold`` seconds, or until removed.
        """
        with self._lock:
            now = self.timebase.monotonic()
            self._field = [p for p in self._field if p.card is not card]
            since = now + after
            card.power_off()
            self._field.append(_Placement(card, since, None if hold is None else since + hold))
            return card

    def remove(self, card: Card | None = None) -> None:
        """Lift ``card`` (or every card) off the reader."""
        with self._lock:
            self._field = [p for p in self._field if card is not None and p.card is not card]
            if card is not None:
                card.power_off()

    def inject_rx_error(self, kind: str, count: int = 1) -> None:
        """Corrupt the next ``count`` answers from cards: "crc" or "parity"."""
        if kind not in ("crc", "parity"):
            raise ValueError(kind)
        with self._lock:
            self._rx_errors.extend([kind] * count)

    def set_fault(self, fault: str) -> None:
        """Start (or with ``Fault.NONE`` end) a bus fault.

        Ending READS_ZEROS / READS_ONES is a module wired back in: it powers up
        with its registers at their reset values, as a real one would.
        """
        with self._lock:
            if self.fault in (Fault.READS_ZEROS, Fault.READS_ONES) and fault == Fault.NONE:
                self.power_on_reset()
            self.fault = fault

    def cards_in_field(self) -> list[Card]:
        with self._lock:
            return [p.card for p in self._present()]

    def spidev(self) -> EmulatedSpiDev:
        """A new ``spidev.SpiDev()`` look-alike wired to this chip."""
        return EmulatedSpiDev(self)

    def register(self, addr: int) -> int:
        """Peek at a register without side effects (for tests)."""
        with self._lock:
            return self._regs[addr]

    # ---- the chip ----------------------------------------------------------

    def power_on_reset(self) -> None:
        with self._lock:
            self._regs = [0] * 64
            for addr, value in _RESET_VALUES.items():
                self._regs[addr] = value
            self._regs[VERSION] = self.version
            self._fifo = []
            self._timer_deadline = None
            for p in self._field:
                p.card.power_off()

    def transfer(self, data: Sequence[int]) -> list[int]:
        with self._lock:
            self.transfers += 1
            if self.fault in (Fault.OS_ERROR, Fault.NO_DEVICE, Fault.PERMISSION):
                raise OSError(errno.EIO, "Input/output error")
            if not data:
                return []
            if self.fault == Fault.READS_ZEROS:
                return [0] * len(data)
            if self.fault == Fault.READS_ONES:
                return [0xFF] * len(data)
            out = [0] * len(data)
            first = data[0]
            if first & 0x80:  # read: each following byte names the next address
                addr = (first >> 1) & 0x3F
                for i in range(1, len(data)):
                    out[i] = self._read(addr)
                    addr = (data[i] >> 1) & 0x3F
            else:
                addr = (first >> 1) & 0x3F
                for value in data[1:]:
                    self._write(addr, value & 0xFF)
            return out

    def _read(self, addr: int) -> int:
        if addr == FIFO_DATA:
            return self._fifo.pop(0) if self._fifo else 0
        if addr == FIFO_LEVEL:
            return len(self._fifo) & 0x7F
        if addr == COM_IRQ:
            self._tick()
            return self._regs[COM_IRQ] & 0x7F
        if addr == DIV_IRQ:
            return self._regs[DIV_IRQ] & 0x7F
        return self._regs[addr]

    def _tick(self) -> None:
        if self._timer_deadline is not None and self.timebase.monotonic() >= self._timer_deadline:
            self._regs[COM_IRQ] |= IRQ_TIMER
            self._timer_deadline = None

    def _write(self, addr: int, value: int) -> None:
        if addr == VERSION:
            return
        if addr == COM_IRQ:
            bits = value & 0x7F
            if value & 0x80:
                self._regs[COM_IRQ] |= bits
            else:
                self._regs[COM_IRQ] &= ~bits & 0x7F
            return
        if addr == DIV_IRQ:
            bits = value & 0x14
            if value & 0x80:
                self._regs[DIV_IRQ] |= bits
            else:
                self._regs[DIV_IRQ] &= ~bits & 0x7F
            return
        if addr == FIFO_DATA:
            if len(self._fifo) < 64:
                self._fifo.append(value)
            else:
                self._regs[ERROR] |= 0x10  # BufferOvfl
            return
        if addr == FIFO_LEVEL:
            if value & 0x80:
                self._fifo = []
                self._regs[ERROR] &= ~0x10 & 0xFF
            return
        if addr in (ERROR, STATUS1):
            return  # read-only
        if addr == STATUS2:
            # MFCrypto1On (bit 3) can only be cleared by software; MFAuthent sets it.
            self._regs[STATUS2] = (value & 0xC0) | (self._regs[STATUS2] & value & 0x08)
            return
        if addr == TX_CONTROL:
            was_on = self._regs[TX_CONTROL] & 0x03
            self._regs[TX_CONTROL] = value
            if was_on and not value & 0x03:
                for p in self._field:
                    p.card.power_off()
            return
        if addr == BIT_FRAMING:
            self._regs[BIT_FRAMING] = value
            if value & 0x80 and self._regs[COMMAND] & 0x0F == CMD_TRANSCEIVE:
                self._transceive()
            return
        if addr == COMMAND:
            self._command(value)
            return
        self._regs[addr] = value

    def _command(self, value: int) -> None:
        cmd = value & 0x0F
        self._regs[COMMAND] = value & 0x3F
        if cmd == CMD_SOFT_RESET:
            fields = self._field
            self.power_on_reset()
            self._field = fields
            return
        if cmd == CMD_IDLE:
            self._timer_deadline = None
            return
        if cmd == CMD_CALC_CRC:
            data, self._fifo = self._fifo, []
            crc = crc_a(data, _CRC_PRESETS[self._regs[MODE] & 0x03])
            self._regs[CRC_RESULT_L], self._regs[CRC_RESULT_H] = crc[0], crc[1]
            self._regs[DIV_IRQ] |= DIV_CRC
            self._regs[STATUS1] |= 0x20  # CRCReady
            return
        if cmd == CMD_TRANSCEIVE:
            if self._regs[BIT_FRAMING] & 0x80:
                self._transceive()
            return
        if cmd == CMD_TRANSMIT:
            self._transmit()
            return
        if cmd == CMD_MF_AUTHENT:
            self._authenticate()
            return

    def _timer_period(self) -> float | None:
        t_mode = self._regs[T_MODE]
        if not t_mode & 0x80:  # TAuto off: the timer never starts by itself
            return None
        prescaler = ((t_mode & 0x0F) << 8) | self._regs[T_PRESCALER]
        reload = (self._regs[T_RELOAD_H] << 8) | self._regs[T_RELOAD_L]
        return (reload + 1) * (2 * prescaler + 1) / 13.56e6

    def _start_timer(self) -> None:
        period = self._timer_period()
        self._timer_deadline = None if period is None else self.timebase.monotonic() + period

    def _present(self) -> list[_Placement]:
        now = self.timebase.monotonic()
        keep: list[_Placement] = []
        for p in self._field:
            if p.until is not None and now >= p.until:
                p.card.power_off()
                continue
            keep.append(p)
        self._field = keep
        return [p for p in keep if p.since <= now]

    def _powered_cards(self) -> list[Card]:
        if not self._regs[TX_CONTROL] & 0x03:
            return []
        return [p.card for p in self._present()]

    def _transceive(self) -> None:
        frame, self._fifo = self._fifo, []
        last_bits = self._regs[BIT_FRAMING] & 0x07
        self._regs[ERROR] = 0
        self._regs[COM_IRQ] |= IRQ_TX
        answers: list[tuple[list[int], int]] = []
        for card in self._powered_cards():
            answer = card.answer(list(frame), last_bits)
            if answer is not None:
                answers.append(answer)
            if card.leave_after is not None:
                card.leave_after -= 1
                if card.leave_after <= 0:
                    card.leave_after = None
                    self.remove(card)
        if not answers:
            self._start_timer()
            return
        data, rx_last = answers[0]
        if len(answers) > 1:
            data, rx_last = self._collide(answers)
        if self._rx_errors:
            kind = self._rx_errors.pop(0)
            if kind == "parity":
                self._regs[ERROR] |= ERR_PARITY
            else:
                data = [*data[:-1], data[-1] ^ 0x5A]
                if self._regs[RX_MODE] & 0x80:  # RxCRCEn: the chip checks it
                    self._regs[ERROR] |= ERR_CRC
        self._fifo = list(data)
        self._regs[CONTROL] = (self._regs[CONTROL] & 0xF8) | rx_last
        self._regs[COM_IRQ] |= IRQ_RX
        if self._regs[ERROR] & (ERR_PROTOCOL | ERR_PARITY | ERR_CRC | ERR_COLL):
            self._regs[COM_IRQ] |= IRQ_ERR
        self._timer_deadline = None

    def _transmit(self) -> None:
        """Transmit: the FIFO goes out, nothing is received; the command then ends by itself."""
        frame, self._fifo = self._fifo, []
        last_bits = self._regs[BIT_FRAMING] & 0x07
        self._regs[ERROR] = 0
        for card in self._powered_cards():
            card.answer(list(frame), last_bits)  # the card acts on it; any answer is not heard
            if card.leave_after is not None:
                card.leave_after -= 1
                if card.leave_after <= 0:
                    card.leave_after = None
                    self.remove(card)
        self._regs[COM_IRQ] |= IRQ_TX | IRQ_IDLE
        self._regs[COMMAND] &= 0xF0  # back to Idle

    def _collide(self, answers: list[tuple[list[int], int]]) -> tuple[list[int], int]:
        """Several cards answered at once: bits agree up to the first collision."""
        first = answers[0][0]
        length = max(len(a[0]) for a in answers)
        merged = [0] * length
        coll_pos: int | None = None
        for bit in range(length * 8):
            byte, shift = divmod(bit, 8)
            values = {(a[0][byte] >> shift) & 1 if byte < len(a[0]) else 0 for a in answers}
            if len(values) > 1:
                coll_pos = bit
                break
            merged[byte] |= values.pop() << shift
        if coll_pos is None:
            return first, answers[0][1]
        # ValuesAfterColl = 1: bits after the collision read as zero.
        byte, shift = divmod(coll_pos, 8)
        merged[byte] |= 1 << shift
        self._regs[ERROR] |= ERR_COLL
        pos = coll_pos + 1
        self._regs[COLL] = (self._regs[COLL] & 0x80) | (pos & 0x1F if pos < 32 else 0)
        return merged, 0

    def _authenticate(self) -> None:
        data, self._fifo = self._fifo, []
        self._regs[ERROR] = 0
        if len(data) == 12 and data[0] in (0x60, 0x61):
            key, uid4 = bytes(data[2:8]), bytes(data[8:12])
            for card in self._powered_cards():
                if card.state == "ACTIVE" and card.uid[:4] == uid4 and card.key == key:
                    card.authenticated = True
                    self._regs[STATUS2] |= 0x08
                    self._regs[COM_IRQ] |= IRQ_IDLE
                    self._regs[COMMAND] &= 0xF0
                    return
        self._start_timer()


class EmulatedSpiDev:
    """The part of ``spidev.SpiDev`` the drivers use, wired to an ``Emulator``."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.max_speed_hz = 0
        self.mode = 0
        self.is_open = False

    def open(self, bus: int, device: int) -> None:
        fault = self.emulator.fault
        path = f"/dev/spidev{bus}.{device}"
        if fault == Fault.NO_DEVICE:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        if fault == Fault.PERMISSION:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        self.emulator.opened += 1
        self.is_open = True

    def close(self) -> None:
        self.is_open = False

    def xfer2(self, data: Sequence[int]) -> list[int]:
        if not self.is_open:
            raise OSError(errno.EBADF, "Bad file descriptor")
        return self.emulator.transfer(data)

    xfer = xfer2

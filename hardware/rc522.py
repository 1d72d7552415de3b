"""The RC522 (MFRC522) reader over SPI, built on the ``mfrc522`` package's protocol code.

Why not use ``mfrc522`` as it is: measured on 0.0.7, its ``MFRC522_ToCard``
wait loop uses ``~`` where ``not`` was meant, so with no card every poll makes
about 2,000 SPI transfers and ignores the chip's timer; ``SimpleMFRC522.read()``
spins without sleeping (a whole core on a Pi); it never halts a card, so a
card left on the reader reads on alternate polls; it reads only 4-byte UIDs;
and ``import mfrc522`` imports ``RPi.GPIO``, which refuses to load off a Pi
and cannot drive pins on a Pi 5.

What this module does instead:
- loads ``mfrc522/MFRC522.py`` from the installed package *without* running
  the package's ``__init__`` and with a stand-in bound to its
  ``import RPi.GPIO`` (the only GPIO use in that file is the reset line in
  ``__init__``, which is replaced), so ``RPi.GPIO`` is never imported;
- subclasses its ``MFRC522`` class, keeping the register access, request
  (REQA/WUPA), CRC coprocessor, init, authentication and block read as they
  are, and replacing ``MFRC522_ToCard`` with a corrected loop that stops on
  the chip's timer and sleeps while it waits (about a dozen transfers for a
  poll with no card), and anticollision/select with a version that walks the
  cascade levels (4-, 7- and 10-byte UIDs);
- drives the reset line with gpiozero (lgpio on a Pi 5, any pin factory in tests);
- polls with REQA, which only a card it has not halted answers (one just put
  down, or one that left the field and lost power); reads that card, halts it
  (HLTA) and, while it rests there, checks it is still present with one WUPA
  a poll instead of reading it again: a card held on the reader is one tap,
  about 20 SPI transfers a poll (a full read is about 65), and only a few
  missed presence checks in a row count as "lifted";
- checks ``VersionReg`` at start (0x00 / 0xFF: not wired) and once a second
  while running, reporting ``ReaderLost`` on SPI errors or a silent chip and
  ``ReaderBack`` once it answers again, reinitialising it without a restart.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib.machinery
import importlib.util
import logging
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from hardware.base import LoopReader
from hardware.errors import GpioUnavailable, HardwareError, ReaderUnavailable
from hardware.events import Emit, ReaderBack, ReaderLost, TagSeen, normalise_uid
from hardware.gpio import build_devices
from hardware.iso14443a import CASCADE_TAG, HLTA, REQA, SEL_CL, WUPA, crc_a
from hardware.timebase import Timebase

log = logging.getLogger(__name__)

#: The mfrc522 release whose internals ``chip_class`` subclasses (pinned in deploy/no-deps.txt).
MFRC522_VERSION = "0.0.7"
MFRC522_INSTALL = f"pip install --no-deps mfrc522=={MFRC522_VERSION} (deploy/no-deps.txt)"

#: VersionReg values a genuine chip reports (0x88 and 0xB2 are common clones, also fine).
KNOWN_VERSIONS = {0x91: "MFRC522 v1.0", 0x92: "MFRC522 v2.0", 0x88: "FM17522 clone", 0xB2: "clone"}
#: VersionReg values that mean nothing is answering on the bus.
NOT_WIRED = (0x00, 0xFF)

WIRING_HELP = (
    "check the wiring (SDA to CE0 pin 24, SCK pin 23, MOSI pin 19, MISO pin 21, "
    "3.3V and GND; never 5V) and that the module has power"
)
SPI_HELP = (
    "enable SPI (sudo raspi-config nonint do_spi 0, or dtparam=spi=on in "
    "/boot/firmware/config.txt) and reboot"
)


class SpiLike(Protocol):
    """What the driver needs of ``spidev.SpiDev``."""

    max_speed_hz: int
    mode: int

    def open(self, bus: int, device: int) -> None: ...

    def close(self) -> None: ...

    def xfer2(self, data: list[int]) -> list[int]: ...


class _Unavailable(types.ModuleType):
    """Bound to ``RPi.GPIO`` / ``spidev`` while loading mfrc522: using it is a bug here."""

    def __getattr__(self, name: str) -> Any:
        raise HardwareError(
            f"mfrc522 tried to use {self.__name__}.{name}; the kiosk drives the reader itself"
        )


def installed_version(spec: importlib.machinery.ModuleSpec) -> str:
    """The installed mfrc522's version, from its ``mfrc522-<version>.dist-info`` folder.

    Read from the folder's name (the wheel format names it so) rather than through
    ``importlib.metadata``, whose import (the email package, to parse METADATA) was 8 ms
    of every kiosk start here and four or five times that on a Pi; ``importlib.metadata``
    answers only where no such folder is beside the package (another kind of install).
    """
    assert spec.submodule_search_locations
    site = Path(next(iter(spec.submodule_search_locations))).parent
    found = list(site.glob("mfrc522-*.dist-info"))
    if len(found) == 1:
        return found[0].name.removeprefix("mfrc522-").removesuffix(".dist-info")
    import importlib.metadata

    try:
        return importlib.metadata.version("mfrc522")
    except importlib.metadata.PackageNotFoundError:
        return "of unknown version"


def load_mfrc522_module(name: str = "MFRC522", imports: dict[str, object] | None = None) -> Any:
    """Execute ``mfrc522/<name>.py`` from the installed package as a private module.

    ``imports`` maps import statements in that file to objects: "RPi.GPIO"
    (``import RPi.GPIO as GPIO``), "spidev", "." (``from . import ...``).
    Unlisted ``RPi.GPIO`` and ``spidev`` get a stand-in that fails if used;
    anything else is imported normally. Nothing is added to ``sys.modules``.
    """
    spec = importlib.util.find_spec("mfrc522")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ReaderUnavailable(f"The mfrc522 package is not installed: {MFRC522_INSTALL}.")
    version = installed_version(spec)
    if version != MFRC522_VERSION:
        # The classes below subclass its internals: another version is untested code.
        raise ReaderUnavailable(
            f"mfrc522 {version} is installed; the kiosk needs exactly {MFRC522_VERSION}: "
            f"{MFRC522_INSTALL}."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / f"{name}.py"
    mapping: dict[str, object] = {
        "RPi.GPIO": types.SimpleNamespace(GPIO=_Unavailable("RPi.GPIO")),
        "spidev": _Unavailable("spidev"),
    }
    if imports:
        mapping.update(imports)

    def _import(
        module: str,
        globals_: Any = None,
        locals_: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> Any:
        key = "." * level + module
        if key in mapping:
            return mapping[key]
        return builtins.__import__(module, globals_, locals_, fromlist, level)

    module = types.ModuleType(f"hardware._mfrc522_{name}")
    module.__file__ = str(path)
    module.__dict__["__builtins__"] = {**builtins.__dict__, "__import__": _import}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    return module


# The chip's timer as mfrc522's MFRC522_Init sets it: TModeReg 0x8D, TPrescalerReg
# 0x3E (prescaler 0xD3E), TReloadReg 30, so about 15.5 ms after a frame with no answer.
CHIP_TIMEOUT = (30 + 1) * (2 * 0xD3E + 1) / 13.56e6
#: Give up on a command if the chip has raised no interrupt at all by then (chip gone).
COMMAND_DEADLINE = 0.05


@functools.cache
def chip_class() -> type:
    """``mfrc522.MFRC522`` with the fixes described in this module's docstring."""
    base: Any = load_mfrc522_module().MFRC522

    class RC522Chip(base):
        """One RC522 on an open SPI device. Not thread-safe: one reader thread owns it."""

        def __init__(self, spi: SpiLike, timebase: Timebase) -> None:
            # mfrc522's __init__ opens spidev and sets up RPi.GPIO: neither is wanted.
            self.spi = spi
            self.timebase = timebase
            self.logger = log
            self.bit_framing = 0
            self._written_bit_framing: int | None = None
            """BitFramingReg as last written (None: unknown, after a reset)."""
            self.stuck = False
            """The last command got no interrupt at all before COMMAND_DEADLINE."""
            self.collision = False
            """The last command's answer collided (two or more cards)."""

        def Write_MFRC522(self, addr: int, val: int) -> None:
            if addr == self.BitFramingReg:
                self.bit_framing = val & 0x7F  # remembered so StartSend costs one write
                if val == self._written_bit_framing:
                    return  # already holds it (REQA then WUPA: both 7-bit frames)
                self._written_bit_framing = val
            self.spi.xfer2([(addr << 1) & 0x7E, val])

        def MFRC522_Reset(self) -> None:
            self._written_bit_framing = None  # back to its reset value, whatever we wrote
            self.Write_MFRC522(self.CommandReg, self.PCD_RESETPHASE)
            self.timebase.sleep(0.05)  # oscillator start-up after a soft reset

        def forget_registers(self) -> None:
            """The chip may have been reset behind our back (a power glitch): write everything."""
            self._written_bit_framing = None

        def MFRC522_ToCard(self, command: int, sendData: list[int]) -> tuple[int, list[int], int]:
            """mfrc522's ToCard with the wait loop corrected.

            The original loops ``while ~(...)``: always true, so it ignores the
            timer interrupt and reads CommIrqReg 2,000 times when no card answers.
            Here the loop ends on the answer (RxIRq/IdleIRq), on the chip's timer
            (no card: MI_NOTAGERR) or, if the chip raises nothing, at a deadline
            (``stuck``). It sleeps between reads: an answer is usually there at
            the first read; otherwise the next look is after 1 and 3 ms, then
            just after the chip's own 15.5 ms timeout.
            """
            wait_irq = 0x30 if command == self.PCD_TRANSCEIVE else 0x10
            self.stuck = self.collision = False
            self.Write_MFRC522(self.CommIrqReg, 0x7F)  # clear every interrupt flag
            self.Write_MFRC522(self.FIFOLevelReg, 0x80)  # flush the FIFO
            self.Write_MFRC522(self.CommandReg, self.PCD_IDLE)
            self.spi.xfer2([(self.FIFODataReg << 1) & 0x7E, *sendData])  # one burst write
            self.Write_MFRC522(self.CommandReg, command)
            if command == self.PCD_TRANSCEIVE:
                self.Write_MFRC522(self.BitFramingReg, self.bit_framing | 0x80)  # StartSend
            tb = self.timebase
            start = tb.monotonic()
            pauses = iter((0.001, 0.002, CHIP_TIMEOUT - 0.003 + 0.001))
            status = self.MI_ERR
            while True:
                n = self.Read_MFRC522(self.CommIrqReg)
                if n & wait_irq:
                    break
                if n & 0x01:  # TimerIRq: nobody answered
                    status = self.MI_NOTAGERR
                    break
                if tb.monotonic() - start >= COMMAND_DEADLINE:
                    self.stuck = True
                    break
                tb.sleep(next(pauses, 0.002))
            if command == self.PCD_TRANSCEIVE:
                self.Write_MFRC522(self.BitFramingReg, self.bit_framing)  # StartSend off
            if not n & wait_irq:
                return status, [], 0
            # ErrorReg, FIFOLevelReg and ControlReg in one transfer: over SPI each byte sent
            # names the next register to read (datasheet 8.1.2.1).
            error, count, control = self.spi.xfer2(
                [
                    0x80 | (self.ErrorReg << 1),
                    0x80 | (self.FIFOLevelReg << 1),
                    0x80 | (self.ControlReg << 1),
                    0,
                ]
            )[1:]
            if error & 0x1B:  # BufferOvfl, CollErr, ParityErr, ProtocolErr
                self.collision = bool(error & 0x08)
                return self.MI_ERR, [], 0
            if command != self.PCD_TRANSCEIVE:
                return self.MI_OK, [], 0
            last_bits = control & 0x07
            back_len = (count - 1) * 8 + last_bits if last_bits else count * 8
            count = max(1, min(count, self.MAX_LEN))
            read = ((self.FIFODataReg << 1) & 0x7E) | 0x80
            data = self.spi.xfer2([read] * count + [0])[1:]  # one burst read
            return self.MI_OK, list(data), back_len

        def select_cascade(self) -> bytes | None:
            """Anticollision and select at each cascade level; the UID, or None on any error.

            mfrc522's MFRC522_Anticoll / MFRC522_SelectTag, generalised from
            cascade level 1 (0x93) to 2 (0x95) and 3 (0x97), with the BCC and
            the SAK's CRC checked.
            """
            uid: list[int] = []
            for sel in SEL_CL:
                self.Write_MFRC522(self.BitFramingReg, 0x00)
                status, data, _ = self.MFRC522_ToCard(self.PCD_TRANSCEIVE, [sel, 0x20])
                if status != self.MI_OK or len(data) != 5:
                    return None
                if data[0] ^ data[1] ^ data[2] ^ data[3] != data[4]:
                    return None
                frame = [sel, 0x70, *data]
                frame += crc_a(frame)  # the same two bytes as the CRC coprocessor, no SPI
                status, back, bits = self.MFRC522_ToCard(self.PCD_TRANSCEIVE, frame)
                if status != self.MI_OK or bits != 24 or crc_a(back[:1]) != back[1:3]:
                    return None
                sak = back[0]
                if sak & 0x04:  # cascade bit: the UID continues at the next level
                    if data[0] != CASCADE_TAG:
                        return None
                    uid += data[1:4]
                    continue
                uid += data[0:4]
                return bytes(uid)
            return None

        def halt(self) -> None:
            """HLTA: a card stops answering REQA (only WUPA wakes it).

            A card woken by WUPA but not selected (READY or READY*) takes HLTA as "any
            other command" and goes home too: back to HALT if it was halted, to IDLE if
            not. No answer comes, so it is sent with Transmit, which ends by itself when
            the frame is out, instead of Transceive, which waits the chip's 15.5 ms for
            an answer that never comes.
            """
            frame = [HLTA, 0x00]
            self.Write_MFRC522(self.BitFramingReg, 0x00)
            self.transmit([*frame, *crc_a(frame)])

        def transmit(self, frame: list[int]) -> None:
            """Send ``frame`` and expect nothing back (Transmit command, then idle)."""
            self.stuck = False
            self.Write_MFRC522(self.CommIrqReg, 0x7F)
            self.Write_MFRC522(self.FIFOLevelReg, 0x80)
            self.Write_MFRC522(self.CommandReg, self.PCD_IDLE)
            self.spi.xfer2([(self.FIFODataReg << 1) & 0x7E, *frame])
            self.Write_MFRC522(self.CommandReg, self.PCD_TRANSMIT)
            tb = self.timebase
            start = tb.monotonic()
            # Four bytes at 106 kbit/s take about 0.4 ms; then IdleIRq (and TxIRq) are set.
            while not self.Read_MFRC522(self.CommIrqReg) & 0x50:
                if tb.monotonic() - start >= COMMAND_DEADLINE:
                    self.stuck = True
                    return
                tb.sleep(0.0005)

        def version(self) -> int:
            return int(self.Read_MFRC522(self.VersionReg))

        def initialised(self) -> bool:
            """False if the chip lost its settings (a power glitch reset it)."""
            return bool(self.Read_MFRC522(self.TModeReg) == 0x8D)

    return RC522Chip


def default_spi_factory() -> SpiLike:
    try:
        import spidev  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise ReaderUnavailable(
            "The spidev package is not installed, so the RFID reader cannot be used "
            "(pip install spidev)."
        ) from exc
    dev: SpiLike = spidev.SpiDev()
    return dev


class _ChipGone(Exception):
    """The chip stopped answering mid-command (unplugged, or SPI reads all 0x00)."""


class RC522Reader(LoopReader):
    """An RC522 on SPI bus ``bus``, chip select ``device``; RST on GPIO ``reset_pin``.

    Wiring (Raspberry Pi header): SDA to CE0 (pin 24), SCK pin 23, MOSI pin 19,
    MISO pin 21, RST to ``reset_pin`` (GPIO25, pin 22, by default; -1 if RST is
    tied to 3.3V), GND, 3.3V. Polls every ``poll_interval`` seconds.
    """

    def __init__(
        self,
        name: str = "RFID reader",
        *,
        bus: int = 0,
        device: int = 0,
        speed_hz: int = 1_000_000,
        reset_pin: int = 25,
        poll_interval: float = 0.1,
        removal_misses: int = 2,
        presence_every: int = 2,
        health_interval: float = 1.0,
        spi_factory: Callable[[], SpiLike] | None = None,
        pin_factory: Any = None,
        timebase: Timebase | None = None,
    ) -> None:
        self.name = name
        self.bus, self.device, self.speed_hz = bus, device, speed_hz
        self.reset_pin = reset_pin
        self.poll_interval = poll_interval
        self.removal_misses = removal_misses
        """Missed presence checks in a row that mean the card was lifted (0.25 to 0.5 s)."""
        self.presence_every = presence_every
        """Polls between two checks that a resting card is still there."""
        self.health_interval = health_interval
        self._spi_factory = spi_factory or default_spi_factory
        self._pin_factory = pin_factory
        super().__init__(timebase)
        self._spi: SpiLike | None = None
        self._chip: Any = None
        self._reset: Any = None
        self._present: bytes | None = None
        self._misses = 0
        self._polls_unchecked = 0
        self._lost = False
        self._next_health = 0.0
        self.emulator: Any = None
        """The emulated chip behind ``spi_factory``, when there is one (demo, --emulate)."""
        self.version: int | None = None
        """VersionReg as read at start (0x91/0x92 genuine)."""

    # ---- life cycle -------------------------------------------------------

    def open(self) -> int:
        """Open SPI, reset and check the chip; return its version byte. Raises ReaderUnavailable."""
        path = f"/dev/spidev{self.bus}.{self.device}"
        if self._reset is None and self.reset_pin >= 0:
            self._reset = self._open_reset_line()
        try:
            version = self._connect()
        except FileNotFoundError as exc:
            raise ReaderUnavailable(f"{self.name}: {path} does not exist: {SPI_HELP}.") from exc
        except PermissionError as exc:
            raise ReaderUnavailable(
                f"{self.name}: no permission to open {path}: add the kiosk user to the "
                "spi and gpio groups (sudo usermod -aG spi,gpio USER) and log in again."
            ) from exc
        except OSError as exc:
            raise ReaderUnavailable(
                f"{self.name}: SPI error on {path}: {exc}. {SPI_HELP}."
            ) from exc
        if version in NOT_WIRED:
            self._close_spi()
            raise ReaderUnavailable(
                f"{self.name}: no RC522 answers on {path} (version register reads "
                f"0x{version:02X}): {WIRING_HELP}."
            )
        if version not in KNOWN_VERSIONS:
            log.warning("%s: unexpected RC522 version 0x%02X; carrying on", self.name, version)
        self.version = version
        return version

    def start(self, emit: Emit) -> None:
        if self._thread is not None:
            return
        if self._chip is None:
            self.open()
        self._emit = emit
        self._next_health = self._tb.monotonic() + self.health_interval
        self._start_loop()

    def stop(self) -> None:
        self._stop_loop()
        self._close_spi()
        if self._reset is not None:
            try:
                self._reset.close()
            except Exception:  # releasing a pin must never stop shutdown
                log.debug("closing the reset line failed", exc_info=True)
            self._reset = None
        self._emit = None

    # ---- the polling loop -------------------------------------------------

    def _turn(self) -> None:
        self._tb.wait(self._stop, self.step())

    def _turn_failed(self, exc: Exception) -> None:
        self._go_lost(f"unexpected error ({exc})")
        self._tb.wait(self._stop, self.health_interval)

    def step(self) -> float:
        """One poll (or, while lost, one recovery attempt); returns how long to sleep."""
        if self._waiting:
            self._deliver()  # what the app could not take last time
        now = self._tb.monotonic()
        if self._lost:
            if now < self._next_health:
                return self._next_health - now
            self._next_health = now + self.health_interval
            if self._recover():
                self._lost = False
                log.info("%s: answering again", self.name)
                self._send(ReaderBack(self.name, self._tb.monotonic()))
                return self.poll_interval
            return self.health_interval
        try:
            if now >= self._next_health:
                self._next_health = now + self.health_interval
                self._check_health()
            self._poll()
            if self._chip.stuck:
                self._check_health()
        except OSError as exc:
            try:
                self._check_health()  # one retry: a single glitch is not a lost reader
            except (OSError, _ChipGone):
                self._go_lost(f"SPI error ({exc.strerror or exc})")
        except _ChipGone as exc:
            self._go_lost(str(exc))
        return self.poll_interval

    def _poll(self) -> None:
        """REQA for a card just put down; now and then WUPA: is the card already read still there?

        A card read by this reader is halted (HLTA) and so stays silent to REQA until it
        leaves the field and loses power. So REQA, every poll, finds a new or re-placed
        card at once (or a different one swapped in, however alike their UIDs), and a
        resting card is never read again: every ``presence_every`` polls one WUPA (its
        ATQA) and one HLTA say it is still there. About 20 SPI transfers a poll with a
        card resting, against about 65 for reading it again each time.
        """
        chip = self._chip
        status, _ = chip.MFRC522_Request(REQA)
        if status == chip.MI_OK:
            self._read_card()
            return
        if chip.collision:
            log.info("%s: more than one tag on the reader; waiting for one", self.name)
        if self._present is None:
            return
        self._polls_unchecked += 1
        if self._polls_unchecked < self.presence_every:
            return
        self._polls_unchecked = 0
        status, _ = chip.MFRC522_Request(WUPA)
        if status == chip.MI_OK or chip.collision:  # collided: it is there, with another
            self._misses = 0
            # WUPA woke whoever is there: HLTA sends them home at once (the resting card
            # to HALT, a card put down just now to IDLE), so the next REQA finds a newcomer.
            chip.halt()
        else:
            self._miss()

    def _read_card(self) -> None:
        chip = self._chip
        uid = chip.select_cascade()
        if uid is None:
            if chip.collision:
                log.info("%s: more than one tag on the reader; waiting for one", self.name)
            return  # a failed read (moved away, a corrupted answer): REQA finds it next poll
        self._misses = 0
        if uid != self._present:
            self._present = uid
            self._send(TagSeen(normalise_uid(uid.hex()), self.name, self._tb.monotonic()))
        chip.halt()  # halted, it answers only the WUPA presence check: held = one tap

    def _miss(self) -> None:
        self._misses += 1
        if self._present is not None and self._misses >= self.removal_misses:
            log.debug("%s: tag %s lifted", self.name, self._present.hex())
            self._present = None

    # ---- health -----------------------------------------------------------

    def _check_health(self) -> None:
        version = self._chip.version()
        if version in NOT_WIRED:
            raise _ChipGone(
                f"not answering (version register reads 0x{version:02X}): {WIRING_HELP}"
            )
        if not self._chip.initialised():
            log.warning("%s: the chip lost its settings (power glitch?); reinitialising", self.name)
            self._chip.forget_registers()
            self._chip.MFRC522_Init()

    def _go_lost(self, reason: str) -> None:
        if self._lost:
            return
        self._lost = True
        # ``_present`` is kept: a card left lying on the reader through the outage
        # must not count as a new tap when it comes back.
        self._misses = 0
        self._next_health = self._tb.monotonic() + self.health_interval
        log.warning("%s: lost: %s", self.name, reason)
        self._send(ReaderLost(self.name, reason, self._tb.monotonic()))

    def _recover(self) -> bool:
        try:
            version = self._connect()
        except OSError as exc:
            log.debug("%s: still lost: %s", self.name, exc)
            return False
        return version not in NOT_WIRED

    # ---- hardware access --------------------------------------------------

    def _open_reset_line(self) -> Any:
        def build() -> Any:
            from gpiozero import DigitalOutputDevice

            return DigitalOutputDevice(
                self.reset_pin, initial_value=True, pin_factory=self._pin_factory
            )

        try:
            return build_devices(build)
        except GpioUnavailable as exc:  # gpiozero raises many kinds (BadPinFactory, PinInUse...)
            raise ReaderUnavailable(
                f"{self.name}: cannot drive the reset line on GPIO{self.reset_pin} ({exc}). "
                "Check that lgpio is installed and the kiosk user is in the gpio group, "
                "or set [hardware.rc522] reset_pin = -1 if RST is wired to 3.3V."
            ) from exc

    def _connect(self) -> int:
        """(Re)open SPI, pulse RST, initialise the chip; return VersionReg."""
        self._close_spi()
        spi = self._spi_factory()
        spi.open(self.bus, self.device)
        self._spi = spi
        spi.max_speed_hz = self.speed_hz
        spi.mode = 0
        if self._reset is not None:
            self._reset.off()  # NRSTPD low: hard power-down
            self._tb.sleep(0.01)
            self._reset.on()  # rising edge: reset, then the oscillator starts
            self._tb.sleep(0.05)
        self._chip = chip_class()(spi, self._tb)
        version = self._chip.version()
        if version not in NOT_WIRED:
            self._chip.MFRC522_Init()
        return int(version)

    def _close_spi(self) -> None:
        spi, self._spi = self._spi, None
        self._chip = None if spi is not None else self._chip
        if spi is not None:
            with contextlib.suppress(OSError):
                spi.close()

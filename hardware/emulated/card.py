"""An ISO 14443-A tag as the emulated RC522 sees it: UID, state machine, answers.

A MIFARE Classic 1K (4-byte UID) or an NTAG/Ultralight (7-byte; 10-byte UIDs
too), answering REQA, WUPA, anticollision and select at every cascade level,
HLTA and READ, with the IDLE / READY / ACTIVE / HALT states of the standard
(READY* and ACTIVE* for a card woken from HALT). Simplifications, all on paths
the kiosk never takes: only full-byte anticollision (NVB 0x20) is answered, and
Crypto1 is "on" as a flag with blocks read back in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hardware.iso14443a import CASCADE_TAG, HLTA, READ, REQA, SEL_CL, WUPA, crc_a


@dataclass
class Card:
    """An ISO 14443-A tag: a MIFARE Classic 1K (4-byte UID) or an NTAG/Ultralight (7-byte).

    ``blocks`` are the 16-byte blocks READ returns (missing blocks read as
    zeros). Classic cards need MFAuthent with ``key`` first; Ultralight do not.
    """

    uid: bytes
    key: bytes = b"\xff" * 6
    blocks: dict[int, bytes] = field(default_factory=dict)
    state: str = "IDLE"
    halted: bool = False
    """Whether the card came to READY/ACTIVE from HALT (READY*/ACTIVE*)."""
    level: int = 0
    authenticated: bool = False
    leave_after: int | None = None
    """If set: answer this many more frames, then leave the field (removed mid-read)."""

    def __post_init__(self) -> None:
        if len(self.uid) not in (4, 7, 10):
            raise ValueError("a card UID is 4, 7 or 10 bytes")

    @classmethod
    def from_hex(cls, text: str, **kwargs: object) -> Card:
        return cls(bytes.fromhex(text), **kwargs)  # type: ignore[arg-type]

    @property
    def classic(self) -> bool:
        return len(self.uid) == 4

    @property
    def atqa(self) -> list[int]:
        return [0x04 if len(self.uid) == 4 else 0x44 if len(self.uid) == 7 else 0x84, 0x00]

    def levels(self) -> list[list[int]]:
        """The four UID bytes sent at each cascade level (cascade tag first when more follow)."""
        u = list(self.uid)
        if len(u) == 4:
            return [u]
        if len(u) == 7:
            return [[CASCADE_TAG, *u[0:3]], u[3:7]]
        return [[CASCADE_TAG, *u[0:3]], [CASCADE_TAG, *u[3:6]], u[6:10]]

    def power_off(self) -> None:
        self.state, self.halted, self.level, self.authenticated = "IDLE", False, 0, False

    def _home(self) -> None:
        self.state = "HALT" if self.halted else "IDLE"
        self.level, self.authenticated = 0, False

    def answer(self, frame: list[int], last_bits: int) -> tuple[list[int], int] | None:
        """The card's reply to one PCD frame: (bytes, valid bits in the last byte) or None."""
        if last_bits == 7 and len(frame) == 1:
            cmd = frame[0]
            if cmd == WUPA and self.state in ("IDLE", "HALT"):
                self.halted = self.state == "HALT"
                self.state, self.level = "READY", 0
                return self.atqa, 0
            if cmd == REQA and self.state == "IDLE":
                self.halted = False
                self.state, self.level = "READY", 0
                return self.atqa, 0
            if self.state in ("READY", "ACTIVE"):
                self._home()
            return None
        if self.state == "READY" and len(frame) >= 2 and frame[0] in SEL_CL:
            levels = self.levels()
            if SEL_CL.index(frame[0]) != self.level:
                self._home()
                return None
            cl = levels[self.level]
            bcc = cl[0] ^ cl[1] ^ cl[2] ^ cl[3]
            if frame[1] == 0x20 and len(frame) == 2:
                return [*cl, bcc], 0
            if frame[1] == 0x70 and len(frame) == 9:
                if crc_a(frame[:7]) != frame[7:9]:
                    return None  # transmission error: stay READY, no answer
                if frame[2:7] != [*cl, bcc]:
                    return None  # another card is being selected
                if self.level + 1 < len(levels):
                    self.level += 1
                    sak = 0x04
                else:
                    self.state = "ACTIVE"
                    sak = 0x08 if self.classic else 0x00
                return [sak, *crc_a([sak])], 0
            self._home()
            return None
        if self.state == "ACTIVE" and len(frame) == 4 and crc_a(frame[:2]) == frame[2:4]:
            if frame[0] == HLTA and frame[1] == 0x00:
                self.state, self.halted, self.level, self.authenticated = "HALT", True, 0, False
                return None
            if frame[0] == READ:
                if self.classic and not self.authenticated:
                    self._home()
                    return [0x04], 4  # NAK
                data = self.read16(frame[1])
                return [*data, *crc_a(data)], 0
        if self.state in ("READY", "ACTIVE"):
            self._home()
        return None

    def read16(self, block: int) -> list[int]:
        if self.classic:
            return list(self.blocks.get(block, bytes(16)).ljust(16, b"\0")[:16])
        # Ultralight/NTAG: READ returns four 4-byte pages.
        out: list[int] = []
        for page in range(block, block + 4):
            out.extend(self.blocks.get(page, bytes(4)).ljust(4, b"\0")[:4])
        return out

"""The few ISO/IEC 14443-A facts both the RC522 driver and its emulator need."""

from __future__ import annotations

from collections.abc import Sequence

REQA = 0x26
"""Request: wakes cards in IDLE (7-bit short frame)."""
WUPA = 0x52
"""Wake-up: wakes cards in IDLE and in HALT (7-bit short frame)."""
SEL_CL = (0x93, 0x95, 0x97)
"""Anticollision / select command for cascade levels 1, 2 and 3."""
CASCADE_TAG = 0x88
"""First byte at a cascade level when the UID continues at the next level."""
HLTA = 0x50
READ = 0x30


def crc_a(data: Sequence[int], preset: int = 0x6363) -> list[int]:
    """CRC_A of ``data``, low byte first, as it is sent after a frame."""
    crc = preset
    for byte in data:
        b = (byte ^ crc) & 0xFF
        b = (b ^ (b << 4)) & 0xFF
        crc = ((crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)) & 0xFFFF
    return [crc & 0xFF, crc >> 8]

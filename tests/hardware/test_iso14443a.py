"""The ISO/IEC 14443-A facts shared by the driver and the emulator."""

from __future__ import annotations

from hardware.iso14443a import crc_a


def test_crc_a_matches_the_standard_example() -> None:
    # ISO/IEC 14443-3 annex B: CRC_A of 0x00 0x00 is 0xA0 0x1E; of 0x12 0x34 is 0x26 0xCF.
    assert crc_a([0x00, 0x00]) == [0xA0, 0x1E]
    assert crc_a([0x12, 0x34]) == [0x26, 0xCF]

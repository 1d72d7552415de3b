"""What readers report, as plain values with no hardware imports.

UIDs are normalised the same way whoever read them: hexadecimal, upper case,
no separators. "04:a2:2b:1a", "04 A2 2B 1A" and "04a22b1a" are one tag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX = re.compile(r"^[0-9A-F]+$")


class InvalidUID(ValueError):
    """Text that cannot be a tag UID."""


def normalise_uid(text: str) -> str:
    """Hex, upper case, no separators. Raises InvalidUID for anything else.

    Decimal-only strings from 125 kHz keyboard-wedge readers (e.g. "0012345678")
    are valid hex digits too, so they pass unchanged: one reader always types
    the same string for the same badge, which is all the kiosk needs.
    """
    cleaned = _SEPARATORS.sub("", text.strip()).upper()
    if not cleaned or not _HEX.match(cleaned) or len(cleaned) > 32:
        raise InvalidUID(f"{text!r} is not a tag number")
    return cleaned


@dataclass(frozen=True)
class TagSeen:
    """A tag was presented to a reader. ``at`` is ``time.monotonic()`` when it was read."""

    uid: str
    reader: str
    at: float


@dataclass(frozen=True)
class ReaderLost:
    """A reader stopped answering; ``reason`` says what to check."""

    reader: str
    reason: str
    at: float


@dataclass(frozen=True)
class ReaderBack:
    """A reader that was lost answers again."""

    reader: str
    at: float


ReaderEvent = TagSeen | ReaderLost | ReaderBack
Emit = Callable[[ReaderEvent], None]

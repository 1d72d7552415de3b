"""One exception root for the kiosk, a subclass per layer.

Every message is written for the person who will read it: an office member at
the kiosk or the IT lead at a shell. Each class also inherits the builtin that
fits, so callers that only know the builtin still catch it.
"""

from __future__ import annotations


class KioskError(Exception):
    """Root of every error the kiosk raises on purpose."""


class ConfigError(KioskError, ValueError):
    """The settings file or environment is wrong; the message names file and key."""


class StorageError(KioskError, OSError):
    """The database cannot be opened or written (locked, full, read-only, corrupt)."""


class ImportFileError(KioskError, ValueError):
    """A CSV file cannot be imported; ``problems`` lists every bad line ("line 4: ...").

    As text: the message, then one problem a line (the CLI prints ``kiosk: `` before it).
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return "\n".join([super().__str__(), *self.problems])


class NotFound(KioskError, LookupError):
    """A person, item or loan named on the command line does not exist."""


class Refused(KioskError):
    """An action the rules do not allow; the message says why and what to do."""

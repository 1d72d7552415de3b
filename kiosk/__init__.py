"""The school sign-out kiosk: settings, storage, the loan service, the screen and the CLI.

The headless parts (settings, storage, service, importer) import nothing from
``textual``, ``gpiozero``, ``requests``, ``mfrc522`` or ``psycopg``;
``tests/test_layers.py`` holds them to that.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__version__ = "0.1.0"


class _PeeweeWithoutPostgres:
    """Keep peewee from loading psycopg, which it imports eagerly whenever it is installed.

    The kiosk uses peewee for SQLite only; psycopg (installed for replication to the
    trust, ``sync/trust``) would add about 90 ms to every ``kiosk`` command and load a
    database driver into the kiosk screen. While peewee's module body is still running
    (no ``Model`` yet) its ``import psycopg`` / ``import psycopg2`` fail as if absent;
    every other import of psycopg, before or after, is untouched.

    A finder is anything with ``find_spec``; it does not subclass ``importlib.abc``'s
    ``MetaPathFinder``, whose module brings ``importlib.resources`` with it (about 9 ms
    of every ``kiosk`` command, four times that at a Pi's speed).
    """

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name.partition(".")[0] in ("psycopg", "psycopg2", "psycopg2cffi"):
            peewee = sys.modules.get("peewee")
            if peewee is not None and not hasattr(peewee, "Model"):
                raise ModuleNotFoundError(f"{name} is not for peewee in the kiosk", name=name)
        return None


if not any(isinstance(f, _PeeweeWithoutPostgres) for f in sys.meta_path):
    sys.meta_path.insert(0, _PeeweeWithoutPostgres())

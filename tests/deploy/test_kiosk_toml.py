"""deploy/kiosk.toml, written by install.sh, stays in step with kiosk/settings.py.

Three checks: the file loads as it is; with every commented ``# key = value``
and ``# [section]`` line switched on it still loads (so the examples are
right); and every section and key the settings have is mentioned in it (a key
added to settings.py without a line here fails).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from pathlib import Path

from kiosk.settings import KindRule, Settings, load_settings
from kiosk.settings.loader import is_section

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "kiosk.toml"

_SECTION = re.compile(r"^#? ?\[([a-z0-9_.]+)\]\s*$")
_KEY = re.compile(r"^#? ?([a-z_]+) = ")


def uncommented(text: str) -> str:
    """The file with every commented setting, section and multi-line value switched on."""
    out: list[str] = []
    inside_value = False
    for line in text.splitlines():
        if line.startswith("# ") and (_SECTION.match(line) or _KEY.match(line) or inside_value):
            line = line[2:]
            # A commented array spanning lines: its continuation lines too.
            inside_value = line.rstrip().endswith("[") or (inside_value and line.strip() != "]")
        out.append(line)
    return "\n".join(out) + "\n"


def mentioned(text: str) -> dict[str, set[str]]:
    """Keys mentioned per section, commented or not."""
    found: dict[str, set[str]] = {}
    section = ""
    for line in text.splitlines():
        if m := _SECTION.match(line):
            section = m.group(1)
            found.setdefault(section, set())
        elif (m := _KEY.match(line)) and section:
            found[section].add(m.group(1))
    return found


def test_the_file_loads_as_installed() -> None:
    settings = load_settings(EXAMPLE, env={}, required=True)
    assert settings.kiosk.db == Path("/var/lib/kiosk/kiosk.db")


def test_every_commented_example_is_valid(tmp_path: Path) -> None:
    full = tmp_path / "kiosk.toml"
    full.write_text(uncommented(EXAMPLE.read_text()))
    settings = load_settings(full, env={}, required=True)
    # The examples show the defaults (terms, closures and the share are examples only).
    defaults = Settings()
    assert settings.kiosk == defaults.kiosk
    assert settings.alerts == defaults.alerts
    assert settings.reminders == defaults.reminders
    assert settings.retention == defaults.retention
    assert settings.kinds == defaults.kinds
    assert settings.backup.keep_daily == defaults.backup.keep_daily
    assert settings.backup.keep_weekly == defaults.backup.keep_weekly
    assert len(settings.school.terms) == 2


def _is_table(tp: object) -> bool:
    """A table of named entries ([kinds.NAME], [sync.channels.NAME], [sync.routes])."""
    return typing.get_origin(tp) in (dict, Mapping)


def _missing(section: str, tp: type, found: dict[str, set[str]]) -> list[str]:
    """Keys of the section ``tp`` not mentioned under ``[section]``; nested tables recurse."""
    if section not in found:
        return [f"[{section}]"]
    out: list[str] = []
    hints = typing.get_type_hints(tp)
    for name in tp._fields:  # type: ignore[attr-defined]
        if is_section(hints[name]):
            out += _missing(f"{section}.{name}", hints[name], found)
        elif _is_table(hints[name]):
            # A table of named entries ([sync.channels.NAME], [sync.routes]).
            table = f"{section}.{name}"
            if not any(k == table or k.startswith(f"{table}.") for k in found):
                out.append(f"[{table}]")
        elif name not in found[section]:
            out.append(f"[{section}] {name}")
    return out


def test_every_setting_is_documented() -> None:
    found = mentioned(EXAMPLE.read_text())
    hints = typing.get_type_hints(Settings)
    missing: list[str] = []
    for name in Settings._fields:
        if name == "source":
            continue
        tp = hints[name]
        if _is_table(tp):
            # [kinds.NAME] tables: every KindRule key under at least one of them.
            keys = set().union(*(v for k, v in found.items() if k.startswith(f"{name}.")))
            missing += [f"[{name}.*] {n}" for n in KindRule._fields if n not in keys]
            continue
        missing += _missing(name, tp, found)
    assert not missing, "deploy/kiosk.toml does not mention: " + ", ".join(missing)


def test_uncommenting_does_not_touch_prose() -> None:
    text = '# Some words = not a key\n# day_ends = "15:30"\n# [alerts]\n'
    assert uncommented(text) == '# Some words = not a key\nday_ends = "15:30"\n[alerts]\n'

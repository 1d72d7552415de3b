"""Turn TOML tables and ``KIOSK_*`` variables into the frozen settings of ``schema``.

Generic: it knows types (text, numbers, times, dates, paths, tuples, tables,
sections: the schema's named tuples), not what the kiosk's keys mean; ``checks`` knows that. Every
mistake is collected as a ``Problem`` naming its keys, and the loader goes on
(with that key's default) so that one start-up lists every mistake in the file,
each on a line that names the file, the key and what was expected::

    kiosk.toml: [school] day_ends: expected a time like "15:30", got 1530

Environment variables override single keys: ``KIOSK_DB`` for the database path,
and ``KIOSK_<SECTION>__<KEY>`` for any other (``KIOSK_SCHOOL__DAY_ENDS=15:15``).
A mistake in one is reported against the environment, not the file.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Any, Union

from kiosk.errors import ConfigError
from kiosk.settings.checks import Keys, Problem, problems
from kiosk.settings.schema import (
    DEFAULT_CONFIG,
    NOT_KEYS,
    Settings,
    default_kinds,
    frozen_mapping,
)

ENVIRONMENT = "KIOSK_* environment"


class SettingsError(ConfigError):
    """Every problem found in the settings, one line each (``problems`` keeps them)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def where(origin: str, keys: Keys) -> str:
    """``kiosk.toml: [school] day_ends`` for the keys ("school", "day_ends")."""
    if not keys:
        return f"{origin}:"
    if len(keys) == 1:
        return f"{origin}: {keys[0]}"
    return f"{origin}: [{'.'.join(keys[:-1])}] {keys[-1]}"


def is_section(tp: Any) -> bool:
    """Whether ``tp`` is a section of the schema (a named tuple class), not a value type."""
    return isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields")


def _type_name(tp: Any) -> str:
    names = {
        str: "text",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        time: 'a time like "15:30"',
        date: "a date like 2026-09-03",
        Path: "a file path",
    }
    if tp in names:
        return names[tp]
    origin = typing.get_origin(tp)
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin in (dict, Mapping) or is_section(tp):
        return "a table"
    return str(tp)


class _Builder:
    """One conversion: collects problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, keys: Keys, message: str) -> None:
        self.problems.append(Problem(keys, message))

    def value(self, value: Any, tp: Any, keys: Keys) -> Any:
        """``value`` converted to ``tp``, or ``_BAD`` (and a problem) when it is not one."""
        origin = typing.get_origin(tp)
        if origin in (Union, types.UnionType):
            if value is None:
                return None
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            return self.value(value, args[0], keys)
        if is_section(tp):
            if not isinstance(value, Mapping):
                self.fail(keys, f"expected a table, got {value!r}")
                return _BAD
            return self.section(tp, value, keys)
        if origin is tuple:
            if not isinstance(value, list | tuple):
                self.fail(keys, f"expected {_type_name(tp)}, got {value!r}")
                return _BAD
            inner = typing.get_args(tp)[0]
            items = [
                self.value(v, inner, (*keys[:-1], f"{keys[-1]}[{i}]")) for i, v in enumerate(value)
            ]
            return _BAD if any(i is _BAD for i in items) else tuple(items)
        if origin in (dict, Mapping):
            if not isinstance(value, Mapping):
                self.fail(keys, f"expected a table, got {value!r}")
                return _BAD
            _, inner = typing.get_args(tp)
            table = {str(k): self.value(v, inner, (*keys, str(k))) for k, v in value.items()}
            return frozen_mapping({k: v for k, v in table.items() if v is not _BAD})
        converted = _scalar(value, tp)
        if converted is _BAD:
            self.fail(keys, f"expected {_type_name(tp)}, got {value!r}")
        return converted

    def section(self, cls: type, data: Mapping[str, Any], keys: Keys = ()) -> Any:
        hints = typing.get_type_hints(cls)
        fields = [name for name in cls._fields if name not in NOT_KEYS]  # type: ignore[attr-defined]
        defaults = cls._field_defaults  # type: ignore[attr-defined]
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in fields:
                self.fail((*keys, key), f"unknown key; expected one of: {', '.join(fields)}")
                continue
            converted = self.value(value, hints[key], (*keys, key))
            if converted is not _BAD:
                kwargs[key] = converted
        for name in fields:
            if name not in kwargs and name not in defaults:
                if name in data:
                    return _BAD  # already reported; the object cannot be made
                self.fail((*keys, name), f"missing; expected {_type_name(hints[name])}")
                return _BAD
        return cls(**kwargs)


class _Bad:
    def __repr__(self) -> str:
        return "<bad value>"


_BAD: Any = _Bad()


def _scalar(value: Any, tp: Any) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # falls through to _BAD
                return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif tp is Path:
        if isinstance(value, str) and value:
            return Path(value)
    elif tp is time:
        if isinstance(value, time):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # falls through to _BAD
                return time.fromisoformat(value)
    elif tp is date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # falls through to _BAD
                return date.fromisoformat(value)
    return _BAD


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it, table by table."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith("KIOSK_"):
            continue
        if name == "KIOSK_DB":
            out.setdefault("kiosk", {})["db"] = value
            continue
        rest = name[len("KIOSK_") :]
        if "__" not in rest:
            continue  # other KIOSK_ variables (KIOSK_CONFIG, KIOSK_CLOCK, ...) are not settings
        section, key = rest.lower().split("__", 1)
        out.setdefault(section, {})[key] = value
    return out


def _paths(data: Mapping[str, Any], prefix: Keys = ()) -> list[Keys]:
    """Every key path in a nested mapping (leaves and tables)."""
    out: list[Keys] = []
    for key, value in data.items():
        out.append((*prefix, key))
        if isinstance(value, Mapping):
            out += _paths(value, (*prefix, key))
    return out


def build(layers: list[tuple[str, Mapping[str, Any]]], source: str) -> Settings:
    """Settings from tables laid over the defaults in order (file, environment, options).

    Each layer is ``(origin, data)``; a problem is reported against the last layer that
    set its key (or a key above it). Raises SettingsError listing every problem.
    """
    kinds = {name: rule._asdict() for name, rule in default_kinds().items()}
    # Kinds in the file replace or add to the defaults kind by kind.
    merged: dict[str, Any] = {"kinds": kinds}
    owners: dict[Keys, str] = {}
    for origin, data in layers:
        merged = merge(merged, data)
        owners.update(dict.fromkeys(_paths(data), origin))
    builder = _Builder()
    settings = builder.section(Settings, merged)
    found = list(builder.problems)
    if settings is not _BAD:
        # Keys that could not be read keep their defaults, so the rules still apply to
        # everything else; a key already reported is not reported twice.
        settings = settings._replace(source=source)
        reported = {p.keys for p in found}
        found += [p for p in problems(settings) if p.keys not in reported]
    if found:
        default_origin = layers[0][0] if layers else "defaults"

        def origin_of(keys: Keys) -> str:
            for n in range(len(keys), 0, -1):
                if keys[:n] in owners:
                    return owners[keys[:n]]
            return default_origin

        raise SettingsError([f"{where(origin_of(p.keys), p.keys)}: {p.message}" for p in found])
    return typing.cast(Settings, settings)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: the settings file does not exist") from exc
    except PermissionError as exc:
        raise ConfigError(f"{path}: cannot read the settings file (permission denied)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the settings file: {exc.strerror}") from exc


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    required: bool = False,
    options: Mapping[str, Any] | None = None,
) -> Settings:
    """The settings: defaults, then the TOML file at ``path``, then ``env``, then ``options``.

    A missing file is fine unless ``required`` (the user named it); an unreadable or
    invalid one is a ConfigError naming the file. ``options`` are tables set on the
    command line (``--db``), reported as "command line" in messages.
    """
    env = os.environ if env is None else env
    if path is None and env.get("KIOSK_CONFIG"):
        path, required = Path(env["KIOSK_CONFIG"]), True
    path = path or DEFAULT_CONFIG
    data: dict[str, Any] = read_toml(path) if path.exists() or required else {}
    layers: list[tuple[str, Mapping[str, Any]]] = [(path.name if data else "defaults", data)]
    overrides = env_overrides(env)
    if overrides:
        layers.append((ENVIRONMENT, overrides))
    if options:
        layers.append(("command line", options))
    return build(layers, str(path) if data else "defaults")


def settings_from(data: Mapping[str, Any], *, origin: str = "settings") -> Settings:
    """Settings from tables as a kiosk.toml would hold them (the demo, tests, benchmarks)."""
    return build([(origin, data)], origin)


def _freeze(value: Any) -> Any:
    if is_section(type(value)):
        return value  # a whole section (sync.smtp = Smtp(...)): already frozen
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return frozen_mapping({str(k): _freeze(v) for k, v in value.items()})
    return value


def _replaced(obj: Any, keys: list[str], value: Any) -> Any:
    head, rest = keys[0], keys[1:]
    if isinstance(obj, Mapping):
        table = dict(obj)
        table[head] = _replaced(table[head], rest, value) if rest else value
        return frozen_mapping(table)
    new = _replaced(getattr(obj, head), rest, value) if rest else value
    return obj._replace(**{head: new})


def evolve(settings: Settings, changes: Mapping[str, Any]) -> Settings:
    """A copy of ``settings`` with some keys changed, checked again: ``{"sync.workers": 1}``.

    For the few places that derive settings from others (the demo, tests, benchmarks);
    the settings themselves never change.
    """
    for dotted, value in changes.items():
        settings = _replaced(settings, dotted.split("."), _freeze(value))
    found = problems(settings)
    if found:
        raise SettingsError([f"{where(settings.source, p.keys)}: {p.message}" for p in found])
    return settings

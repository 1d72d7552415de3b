"""One typed settings object: defaults, then a TOML file, then ``KIOSK_*`` variables.

A school's IT lead edits ``/etc/kiosk/kiosk.toml`` by hand, so every mistake
must stop start-up with one line that names the file, the key and what was
expected (``kiosk.toml: [school] day_ends: expected a time like "15:30", got 1530``).
Sections and keys are the dataclass fields below; each field's docstring is
the documentation that ``deploy/kiosk.toml`` repeats as comments.

Environment variables override single keys: ``KIOSK_DB`` for the database
path, and ``KIOSK_<SECTION>__<KEY>`` for any other (``KIOSK_SCHOOL__DAY_ENDS=15:15``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Union

from hardware.config import HardwareConfig
from kiosk.errors import ConfigError

DEFAULT_CONFIG = Path("/etc/kiosk/kiosk.toml")
DEFAULT_DB = Path("/var/lib/kiosk/kiosk.db")

#: The checks a kind's return checklist can ask, in the order they are asked.
CHECKS = ("count", "images", "charged", "personal_calls", "damage")

#: How a kind's due time is set.
DUE_RULES = ("end_of_day", "choose", "none")


@dataclass
class Term:
    start: date
    """First day of the term (inclusive)."""
    end: date
    """Last day of the term (inclusive)."""


@dataclass
class School:
    name: str = "Our Primary School"
    """Shown on the kiosk's title bar and in alerts."""
    timezone: str = "Europe/London"
    """Local time zone for due times and school days; times are stored in UTC."""
    day_ends: time = time(15, 30)
    """End of the school day: the default due time."""
    school_days: list[str] = field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    """Weekdays the school is open."""
    terms: list[Term] = field(default_factory=list)
    """Term dates. When empty, every school weekday counts as a school day."""
    inset_days: list[date] = field(default_factory=list)
    """INSET (training) days and other closures inside term: not school days."""


@dataclass
class KindRule:
    label: str = "Item"
    """What staff call this kind of item."""
    due: str = "end_of_day"
    """end_of_day, choose (asked at sign-out, default end of day) or none."""
    off_site: bool = False
    """Whether the item may leave the school premises."""
    home_class_only: bool = False
    """Only staff who teach the item's home class may borrow it."""
    checklist: list[str] = field(default_factory=lambda: ["damage"])
    """Questions asked on return, from: count, images, charged, personal_calls, damage."""


def _default_kinds() -> dict[str, KindRule]:
    return {
        "trolley_key": KindRule(
            label="Trolley key", due="end_of_day", checklist=["count", "damage"]
        ),
        "camera": KindRule(
            label="Class camera",
            due="end_of_day",
            home_class_only=True,
            checklist=["images", "damage"],
        ),
        "trip_phone": KindRule(
            label="Trip phone",
            due="choose",
            off_site=True,
            checklist=["charged", "personal_calls", "damage"],
        ),
        "other": KindRule(label="Item", due="end_of_day", checklist=["damage"]),
    }


@dataclass
class Kiosk:
    db: Path = DEFAULT_DB
    """The SQLite database file."""
    session_seconds: float = 20.0
    """A badge session ends after this long with no tap."""
    double_tap_seconds: float = 2.0
    """The same tag again within this time is ignored (double tap, badge held)."""
    undo_seconds: float = 10.0
    """How long the last action can be undone."""
    unknown_tag_quiet_minutes: int = 10
    """An unknown tag is recorded once per this period."""
    admin_pin_attempts: int = 5
    """Wrong PINs in a row before admin is locked."""
    admin_lock_minutes: int = 5
    """How long admin stays locked after too many wrong PINs."""


@dataclass
class Alerts:
    overdue_grace_minutes: int = 30
    """After the due time plus this, the office is told an item is overdue."""
    escalate_after_minutes: int = 120
    """After the due time plus this, SLT is told."""
    summary_at: time = time(16, 0)
    """Time of the end-of-day summary to the office, on school days."""


@dataclass
class Retention:
    loans_days: int = 400
    """Closed loans older than this are anonymised (borrower removed)."""
    unknown_tags_days: int = 30
    """Unknown-tag sightings older than this are deleted."""
    delivered_alerts_days: int = 90
    """Delivered alerts older than this are deleted from the outbox."""


#: Alert kinds the rules and the loan service raise; a [sync.routes] key may name one.
ALERT_KINDS = (
    "overdue",
    "overdue_escalated",
    "lost",
    "damaged",
    "images_not_erased",
    "leaver_with_items",
    "summary",
    "database_damaged",
)
#: Who an alert is for; every alert has one, and [sync.routes] maps each to channels.
AUDIENCES = ("office", "slt", "it")
CHANNEL_TYPES = ("webhook", "teams", "email")


@dataclass
class Channel:
    type: str = ""
    """webhook (signed JSON), teams (a Workflows webhook URL) or email."""
    url: str = ""
    """webhook and teams: the https:// address alerts are POSTed to."""
    secret: str = ""
    """webhook: the signing secret shared with the receiver, "whsec_" then base64."""
    to: list[str] = field(default_factory=list)
    """email: the addresses this channel writes to."""


#: How the connection to the mail server is protected, and the usual port for each.
SMTP_SECURITY = {"starttls": 587, "tls": 465, "none": 25}


@dataclass
class Smtp:
    host: str = ""
    """The mail server for email channels ("smtp.office365.com")."""
    port: int = 0
    """Its port; 0 (the default) is the usual one for ``security``: 587, 465 or 25."""
    security: str = ""
    """starttls (port 587: plain, then STARTTLS before logging in), tls (port 465: TLS from
    the first byte) or none (port 25, only inside the school's own network). Default starttls."""
    starttls: bool | None = None
    """Older settings files: true means security = "starttls", false means "none".
    Write ``security`` instead."""
    username: str = ""
    """Log in with this user name (empty: no login)."""
    password: str = ""
    """The password for ``username``. Keep this file readable by the kiosk user only."""
    from_address: str = ""
    """The sender address alerts come from ("kiosk@school.example")."""

    @property
    def mode(self) -> str:
        """The security in use: ``security``, else what an older ``starttls`` line meant."""
        if self.security:
            return self.security
        return "none" if self.starttls is False else "starttls"

    @property
    def port_number(self) -> int:
        return self.port or SMTP_SECURITY.get(self.mode, 587)

    def check(self, where: str) -> None:
        at = f"{where}: [sync.smtp]"
        if self.security and self.security not in SMTP_SECURITY:
            raise ConfigError(
                f"{at} security: expected one of {', '.join(SMTP_SECURITY)}, got {self.security!r}"
            )
        if self.security and self.starttls is not None:
            meant = "starttls" if self.starttls else "none"
            if meant != self.security:
                raise ConfigError(
                    f"{at} starttls: {str(self.starttls).lower()} contradicts security = "
                    f'"{self.security}"; remove the starttls line (security replaces it)'
                )
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"{at} port: expected a port number 1-65535, got {self.port}")


def email_address_problem(address: str) -> str:
    """Why ``address`` cannot be used to send or receive an alert, or "" if it can.

    Letters outside English are fine: in the domain they are sent as IDNA
    ("xn--..."), before the @ they need a mail server that offers SMTPUTF8.
    """
    if not address or address != address.strip():
        return "it is empty or has spaces around it"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c in '<>,;"()[]\\' for c in address):
        return 'it has a space, a control character or one of < > , ; " ( ) [ ] \\ in it'
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "it needs a name, an @ and a domain, like office@school.example"
    if "@" in local:
        return "it has more than one @"
    if len(local.encode()) > 64:
        return "the part before the @ is longer than 64 bytes"
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return f"{domain!r} is not a valid internet domain"
    if len(ascii_domain) > 253 or any(
        not label or label.startswith("-") or label.endswith("-")
        for label in ascii_domain.split(".")
    ):
        return f"{domain!r} is not a valid internet domain"
    return ""


@dataclass
class Sync:
    interval_seconds: float = 60.0
    """``kiosk sync`` runs the rules and delivers alerts this often."""
    timeout_seconds: float = 10.0
    """Each request to a webhook, Teams or the mail server gives up after this long."""
    max_attempts: int = 10
    """After this many failed attempts on one channel an alert is marked failed."""
    backoff_base_seconds: float = 30.0
    """Wait before the second attempt (at most; random, "full jitter"); doubles each time."""
    backoff_cap_seconds: float = 3600.0
    """The longest wait between two attempts (unless the receiver asks for longer)."""
    lease_seconds: float = 300.0
    """How long a sync process holds the alerts it is sending before another may take them."""
    batch_size: int = 64
    """Alerts taken (claimed) at once by one sync process."""
    workers: int = 4
    """Alerts sent at the same time (alerts about one loan still go one after another)."""
    channels: dict[str, Channel] = field(default_factory=dict)
    """Named places alerts go: [sync.channels.slt_teams] type = "teams", url = ..."""
    routes: dict[str, list[str]] = field(default_factory=dict)
    """Channel names per audience (office, slt, it) or per alert kind (a kind's list wins)."""
    smtp: Smtp = field(default_factory=Smtp)
    """The mail server used by every email channel."""

    def check(self, where: str) -> None:
        """Refuse routes to missing channels and channels missing what they need."""
        for key in ("interval_seconds", "timeout_seconds", "backoff_base_seconds", "lease_seconds"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"{where}: [sync] {key}: must be more than 0")
        for key in ("max_attempts", "batch_size", "workers"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{where}: [sync] {key}: must be at least 1")
        if self.backoff_cap_seconds < self.backoff_base_seconds:
            raise ConfigError(
                f"{where}: [sync] backoff_cap_seconds: must not be less than backoff_base_seconds"
            )
        for name, ch in self.channels.items():
            at = f"{where}: [sync.channels.{name}]"
            if ch.type not in CHANNEL_TYPES:
                raise ConfigError(
                    f"{at} type: expected one of {', '.join(CHANNEL_TYPES)}, got {ch.type!r}"
                )
            if ch.type in ("webhook", "teams") and not ch.url.startswith(("https://", "http://")):
                raise ConfigError(
                    f"{at} url: expected an address starting https://, got {ch.url!r}"
                )
            if ch.type == "webhook" and not _is_webhook_secret(ch.secret):
                raise ConfigError(
                    f'{at} secret: expected a signing secret like "whsec_" followed by base64 '
                    "(make one with: kiosk sync --new-secret)"
                )
            if ch.type == "email":
                if not ch.to:
                    raise ConfigError(f"{at} to: expected a list of email addresses, got {ch.to!r}")
                for address in ch.to:
                    if why := email_address_problem(address):
                        raise ConfigError(f"{at} to: {address!r} is not an email address: {why}")
                if not self.smtp.host:
                    raise ConfigError(
                        f"{where}: [sync.smtp] host: needed by email channel {name!r}"
                    )
                if not self.smtp.from_address:
                    raise ConfigError(
                        f"{where}: [sync.smtp] from_address: needed by email channel {name!r}"
                    )
                if why := email_address_problem(self.smtp.from_address):
                    raise ConfigError(
                        f"{where}: [sync.smtp] from_address: {self.smtp.from_address!r} is not "
                        f"an email address: {why}"
                    )
        self.smtp.check(where)
        for key, names in self.routes.items():
            if key not in AUDIENCES and key not in ALERT_KINDS:
                raise ConfigError(
                    f"{where}: [sync.routes] {key}: unknown; expected an audience "
                    f"({', '.join(AUDIENCES)}) or an alert kind ({', '.join(ALERT_KINDS)})"
                )
            for name in names:
                if name not in self.channels:
                    known = ", ".join(self.channels) or "none defined yet"
                    raise ConfigError(
                        f"{where}: [sync.routes] {key}: {name!r} is not a channel "
                        f"(channels: {known})"
                    )

    def channels_for(self, kind: str, audience: str) -> list[str]:
        """The channel names an alert goes to: its kind's route, else its audience's."""
        return list(self.routes.get(kind) or self.routes.get(audience) or [])


def _is_webhook_secret(secret: str) -> bool:
    import base64
    import binascii

    raw = secret.removeprefix("whsec_")
    try:
        return len(base64.b64decode(raw, validate=True)) >= 16
    except (binascii.Error, ValueError):
        return False


@dataclass
class Backup:
    dir: Path | None = None
    """Where ``kiosk backup`` keeps its copies (default: ``backups`` beside the database)."""
    keep_daily: int = 7
    """Keep the newest backup of each of this many days."""
    keep_weekly: int = 4
    """And the newest backup of each of this many weeks."""
    copy_to: Path | None = None
    """A mounted network share or USB drive to copy each backup to as well (optional)."""


@dataclass
class Settings:
    school: School = field(default_factory=School)
    kiosk: Kiosk = field(default_factory=Kiosk)
    kinds: dict[str, KindRule] = field(default_factory=_default_kinds)
    alerts: Alerts = field(default_factory=Alerts)
    retention: Retention = field(default_factory=Retention)
    hardware: HardwareConfig = field(default_factory=HardwareConfig)
    backup: Backup = field(default_factory=Backup)
    sync: Sync = field(default_factory=Sync)
    source: str = "defaults"
    """Where the settings came from (file path), for messages. Not a TOML key."""

    def kind(self, name: str) -> KindRule:
        return self.kinds.get(name) or self.kinds.get("other") or KindRule()


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NOT_KEYS = {"source"}


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
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return str(tp)


def _where(file: str, keys: tuple[str, ...]) -> str:
    """``kiosk.toml: [school] day_ends`` for the keys ("school", "day_ends")."""
    if not keys:
        return f"{file}:"
    if len(keys) == 1:
        return f"{file}: {keys[0]}"
    return f"{file}: [{'.'.join(keys[:-1])}] {keys[-1]}"


def _convert(value: Any, tp: Any, file: str, keys: tuple[str, ...]) -> Any:
    """Check ``value`` against ``tp`` and convert it; raise ConfigError naming the key."""
    where = _where(file, keys)
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], file, keys)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return _build(tp, value, file, keys)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
        (inner,) = typing.get_args(tp)
        return [
            _convert(v, inner, file, (*keys[:-1], f"{keys[-1]}[{i}]")) for i, v in enumerate(value)
        ]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        _, inner = typing.get_args(tp)
        return {str(k): _convert(v, inner, file, (*keys, str(k))) for k, v in value.items()}
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
            with contextlib.suppress(ValueError):  # falls through to the error below
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
            with contextlib.suppress(ValueError):  # falls through to the error below
                return time.fromisoformat(value)
    elif tp is date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # falls through to the error below
                return date.fromisoformat(value)
    raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")


def _build(cls: type, data: Mapping[str, Any], file: str, keys: tuple[str, ...] = ()) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name not in _NOT_KEYS]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            raise ConfigError(
                f"{_where(file, (*keys, key))}: unknown key; expected one of: {', '.join(names)}"
            )
        kwargs[key] = _convert(value, hints[key], file, (*keys, key))
    return cls(**kwargs)


def _validate(s: Settings, where: str) -> None:
    for day in s.school.school_days:
        if day not in _WEEKDAYS:
            raise ConfigError(
                f"{where}: [school] school_days: {day!r} is not one of {', '.join(_WEEKDAYS)}"
            )
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(s.school.timezone)
    except (KeyError, ValueError, OSError) as exc:
        raise ConfigError(
            f"{where}: [school] timezone: unknown time zone {s.school.timezone!r}"
        ) from exc
    for term in s.school.terms:
        if term.end < term.start:
            raise ConfigError(f"{where}: [school] terms: a term ends ({term.end}) before it starts")
    for name, rule in s.kinds.items():
        if rule.due not in DUE_RULES:
            raise ConfigError(
                f"{where}: [kinds.{name}] due: expected one of {', '.join(DUE_RULES)}, "
                f"got {rule.due!r}"
            )
        for check in rule.checklist:
            if check not in CHECKS:
                raise ConfigError(
                    f"{where}: [kinds.{name}] checklist: {check!r} is not one of "
                    f"{', '.join(CHECKS)}"
                )
    for key in ("session_seconds", "double_tap_seconds", "undo_seconds"):
        if getattr(s.kiosk, key) <= 0:
            raise ConfigError(f"{where}: [kiosk] {key}: must be more than 0")
    for key, problem in s.hardware.problems():
        section, _, name = f"hardware.{key}".rpartition(".")
        raise ConfigError(f"{where}: [{section}] {name}: {problem}")
    if s.alerts.escalate_after_minutes < s.alerts.overdue_grace_minutes:
        raise ConfigError(
            f"{where}: [alerts] escalate_after_minutes: must not be less than overdue_grace_minutes"
        )
    s.sync.check(where)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith("KIOSK_"):
            continue
        if name == "KIOSK_DB":
            out.setdefault("kiosk", {})["db"] = value
            continue
        rest = name[len("KIOSK_") :]
        if "__" not in rest:
            continue  # other KIOSK_ variables (KIOSK_CONFIG, ...) are not settings
        section, key = rest.lower().split("__", 1)
        out.setdefault(section, {})[key] = value
    return out


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    required: bool = False,
) -> Settings:
    """Build the settings: defaults, then the TOML file at ``path``, then ``env``.

    A missing file is fine unless ``required`` (the user named it); an unreadable
    or invalid one is a ConfigError naming the file.
    """
    env = os.environ if env is None else env
    if path is None and env.get("KIOSK_CONFIG"):
        path, required = Path(env["KIOSK_CONFIG"]), True
    path = path or DEFAULT_CONFIG
    where = path.name
    data: dict[str, Any] = {}
    if path.exists() or required:
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: the settings file does not exist") from exc
        except PermissionError as exc:
            raise ConfigError(f"{path}: cannot read the settings file (permission denied)") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the settings file: {exc.strerror}") from exc
    else:
        where = "defaults"
    # Kinds in the file replace or add to the defaults kind by kind.
    defaults_kinds = {k: dataclasses.asdict(v) for k, v in _default_kinds().items()}
    merged = _merge({"kinds": defaults_kinds}, data)
    settings: Settings = _build(Settings, merged, where)
    overrides = _env_overrides(env)
    if overrides:
        where = "KIOSK_* environment"
        settings = _build(Settings, _merge(merged, overrides), where)
    settings.source = str(path) if data else "defaults"
    _validate(settings, where)
    return settings

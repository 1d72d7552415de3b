"""What the settings are: every section and key, its type, its default and what it does.

Sections and keys are the named tuples below; each field's docstring is the
documentation that ``deploy/kiosk.toml`` repeats as comments (a test keeps them in
step). Objects are frozen and their lists are tuples: settings are read once, at
start, and never changed afterwards (``section._replace`` makes a changed copy,
``kiosk.settings.evolve`` a checked one).

Named tuples, not frozen dataclasses: every command loads these sections before it does
anything, and Python 3.11 compiles six methods for each frozen dataclass as its module
loads (about 0.6 ms a class here, four times that at a Raspberry Pi's speed); a named
tuple's class compiles one small constructor. A section is still not a
list: nothing iterates over one or counts its length.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import NamedTuple, NoReturn, TypeVar

from hardware.config import HardwareConfig

V = TypeVar("V")

DEFAULT_CONFIG = Path("/etc/kiosk/kiosk.toml")
DEFAULT_DB = Path("/var/lib/kiosk/kiosk.db")

#: The checks a kind's return checklist can ask, in the order they are asked.
CHECKS = ("count", "images", "charged", "personal_calls", "damage")

#: How a kind's due time is set.
DUE_RULES = ("end_of_day", "choose", "none")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Alert kinds the rules and the loan service raise; a [sync.routes] key may name one.
ALERT_KINDS = (
    "overdue",
    "overdue_escalated",
    "lost",
    "damaged",
    "images_not_erased",
    "leaver_with_items",
    "summary",
    "admin_locked",
    "database_damaged",
    "stock_take",
    "reminder",
    "reminder_overdue",
)
#: Who an alert is for; every alert has one, and [sync.routes] maps each to channels.
#: "borrower" is the member of staff who has the item: reminders, to their own address.
AUDIENCES = ("office", "slt", "it", "borrower")
#: The alert kinds that go to the borrower themselves (audience "borrower").
BORROWER_KINDS = ("reminder", "reminder_overdue")
CHANNEL_TYPES = ("webhook", "teams", "email")


class FrozenDict(dict[str, V]):
    """A table of the settings ([kinds], [sync.channels]): a dict that refuses changes.

    A dict underneath, so that it pickles (the settings cross into worker processes)
    and compares like one; every method that would change it raises TypeError.
    """

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("settings cannot be changed after loading; use kiosk.settings.evolve")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[type[FrozenDict[V]], tuple[dict[str, V]]]:
        return (type(self), (dict(self),))


def frozen_mapping(items: Mapping[str, V] | None = None) -> Mapping[str, V]:
    """A copy of ``items`` that cannot change: a table of the settings."""
    return FrozenDict(items or {})


class Term(NamedTuple):
    start: date
    """First day of the term (inclusive)."""
    end: date
    """Last day of the term (inclusive)."""


class School(NamedTuple):
    name: str = "Our Primary School"
    """Shown on the kiosk's title bar and in alerts."""
    timezone: str = "Europe/London"
    """Local time zone for due times and school days; times are stored in UTC."""
    day_ends: time = time(15, 30)
    """End of the school day: the default due time."""
    school_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    """Weekdays the school is open."""
    terms: tuple[Term, ...] = ()
    """Term dates. When empty, every school weekday counts as a school day."""
    inset_days: tuple[date, ...] = ()
    """INSET (training) days and other closures inside term: not school days."""


class KindRule(NamedTuple):
    label: str = "Item"
    """What staff call this kind of item."""
    due: str = "end_of_day"
    """end_of_day, choose (asked at sign-out, default end of day) or none."""
    off_site: bool = False
    """Whether the item may leave the school premises."""
    home_class_only: bool = False
    """Only staff who teach the item's home class may borrow it."""
    checklist: tuple[str, ...] = ("damage",)
    """Questions asked on return, from: count, images, charged, personal_calls, damage."""


def default_kinds() -> Mapping[str, KindRule]:
    return frozen_mapping(
        {
            "trolley_key": KindRule(
                label="Trolley key", due="end_of_day", checklist=("count", "damage")
            ),
            "camera": KindRule(
                label="Class camera",
                due="end_of_day",
                home_class_only=True,
                checklist=("images", "damage"),
            ),
            "trip_phone": KindRule(
                label="Trip phone",
                due="choose",
                off_site=True,
                checklist=("charged", "personal_calls", "damage"),
            ),
            "other": KindRule(label="Item", due="end_of_day", checklist=("damage",)),
        }
    )


class Kiosk(NamedTuple):
    db: Path = DEFAULT_DB
    """The SQLite database file."""
    session_seconds: float = 20.0
    """A badge session ends after this long with no tap."""
    double_tap_seconds: float = 2.0
    """The same tag again within this time is ignored (double tap, badge held)."""
    undo_seconds: float = 10.0
    """How long the last action can be undone."""
    confirm_seconds: float = 30.0
    """How long a warning (an item marked damaged) waits for Yes before nothing is lent."""
    unknown_tag_quiet_minutes: int = 10
    """An unknown tag is recorded once per this period."""
    admin_pin_attempts: int = 5
    """Wrong PINs in a row before admin is locked."""
    admin_lock_minutes: int = 5
    """How long admin stays locked after too many wrong PINs."""
    admin_idle_seconds: float = 180.0
    """Admin goes back to the start after this long with no key, touch or tap."""


class Alerts(NamedTuple):
    overdue_grace_minutes: int = 30
    """After the due time plus this, the office is told an item is overdue."""
    escalate_after_minutes: int = 120
    """After the due time plus this, SLT is told."""
    summary_at: time = time(16, 0)
    """Time of the end-of-day summary to the office, on school days."""


class Reminders(NamedTuple):
    enabled: bool = False
    """Remind borrowers who have an email address about what they have out."""
    before_minutes: int = 30
    """A reminder this many minutes before the due time (0: none before it is due)."""
    when_overdue: bool = True
    """And one when the item becomes overdue, before the office is told."""
    quiet_from: time = time(18, 0)
    """No reminder is sent from this local time..."""
    quiet_until: time = time(7, 30)
    """...until this one (the same time twice: no quiet hours)."""

    def quiet(self, at: time) -> bool:
        """Whether the local time ``at`` is in the quiet hours (they may span midnight)."""
        start, end = self.quiet_from, self.quiet_until
        if start == end:
            return False
        if start < end:
            return start <= at < end
        return at >= start or at < end


class Retention(NamedTuple):
    loans_days: int = 400
    """Closed loans older than this are anonymised (borrower removed)."""
    unknown_tags_days: int = 30
    """Unknown-tag sightings older than this are deleted."""
    delivered_alerts_days: int = 90
    """Delivered alerts older than this are deleted from the outbox."""


class Channel(NamedTuple):
    type: str = ""
    """webhook (signed JSON), teams (a Workflows webhook URL) or email."""
    url: str = ""
    """webhook and teams: the https:// address alerts are POSTed to."""
    secret: str = ""
    """webhook: the signing secret shared with the receiver, "whsec_" then base64."""
    to: tuple[str, ...] = ()
    """email: the addresses this channel writes to."""
    to_borrower: bool = False
    """email: write to the borrower's own address instead of ``to`` (reminders only)."""


#: How the connection to the mail server is protected, and the usual port for each.
SMTP_SECURITY = {"starttls": 587, "tls": 465, "none": 25}


class Smtp(NamedTuple):
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


class Sync(NamedTuple):
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
    channels: Mapping[str, Channel] = frozen_mapping()
    """Named places alerts go: [sync.channels.slt_teams] type = "teams", url = ..."""
    routes: Mapping[str, tuple[str, ...]] = frozen_mapping()
    """Channel names per audience (office, slt, it) or per alert kind (a kind's list wins)."""
    smtp: Smtp = Smtp()
    """The mail server used by every email channel."""

    def channels_for(self, kind: str, audience: str) -> list[str]:
        """The channel names an alert goes to: its kind's route, else its audience's."""
        return list(self.routes.get(kind) or self.routes.get(audience) or [])


class Backup(NamedTuple):
    dir: Path | None = None
    """Where ``kiosk backup`` keeps its copies (default: ``backups`` beside the database)."""
    keep_daily: int = 7
    """Keep the newest backup of each of this many days."""
    keep_weekly: int = 4
    """And the newest backup of each of this many weeks."""
    copy_to: Path | None = None
    """A mounted network share or USB drive to copy each backup to as well (optional)."""


class Web(NamedTuple):
    listen: str = "127.0.0.1"
    """Address ``kiosk web`` listens on: 127.0.0.1 (this Pi only, behind a reverse proxy), or
    0.0.0.0 for every network the Pi is on (then set tls_cert and tls_key)."""
    port: int = 8080
    """Its TCP port (0: any free port, which it prints at start)."""
    tls_cert: Path | None = None
    """A certificate file (PEM) to serve https:// with; ``install.sh --web-tls`` makes one."""
    tls_key: Path | None = None
    """The private key (PEM) of tls_cert. Keep it readable by root and the kiosk user only."""
    secure_cookies: bool = False
    """Mark the sign-in cookie Secure without tls_cert: set this when the school's reverse
    proxy serves the board over https:// (it always is with tls_cert)."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses of the school's reverse proxy, whose X-Forwarded-For header is believed (the
    sign-in lockout counts per address). Empty: no proxy."""
    idle_minutes: int = 30
    """A signed-in browser is signed out after this many minutes without a page being opened."""
    signin_attempts: int = 5
    """Wrong passwords in a row for one account before it is locked for signin_lock_minutes."""
    signin_lock_minutes: int = 15
    """How long sign-in stays locked after too many wrong passwords."""
    accounts: Path | None = None
    """The file of web accounts and sessions (default: web.db beside the kiosk database).
    Only ``kiosk web`` and ``kiosk web add-user`` write it; the kiosk database stays read-only."""
    trust_credentials: Path | None = None
    """Serve the trust's board (every school, from the trust's PostgreSQL) instead of this
    kiosk's: the credentials file of a ``kiosk trust add-reader NAME --web`` login (owner
    root, group kiosk, mode 640). Accounts then need ``--school ID`` or ``--trust``."""
    trust_timeout_seconds: float = 3.0
    """How long a trust page waits for PostgreSQL before it shows the last figures it had,
    with their time, and says the server is not answering."""


class Trust(NamedTuple):
    credentials: Path | None = None
    """The file holding the connection to the trust's PostgreSQL (``kiosk trust add-kiosk``
    prints it). Replication is on when this is set. Readable only by root and the kiosk
    user (``chmod 640``, owner root, group kiosk): ``kiosk sync`` refuses it otherwise."""
    connect_timeout_seconds: int = 5
    """Give up connecting after this long (PostgreSQL down or unreachable); tried again
    at the next pass."""
    statement_timeout_seconds: float = 10.0
    """Each statement on the trust's server gives up after this long (server slow)."""
    batch_size: int = 500
    """Journal entries sent in one transaction."""


class Settings(NamedTuple):
    school: School = School()
    kiosk: Kiosk = Kiosk()
    kinds: Mapping[str, KindRule] = default_kinds()
    alerts: Alerts = Alerts()
    reminders: Reminders = Reminders()
    retention: Retention = Retention()
    hardware: HardwareConfig = HardwareConfig()
    backup: Backup = Backup()
    sync: Sync = Sync()
    web: Web = Web()
    trust: Trust = Trust()
    source: str = "defaults"
    """Where the settings came from (file path), for messages. Not a TOML key."""

    def kind(self, name: str) -> KindRule:
        return self.kinds.get(name) or self.kinds.get("other") or KindRule()


#: Fields of ``Settings`` that are not TOML keys.
NOT_KEYS = frozenset({"source"})

"""Web accounts: who may open the office board in a browser (``kiosk web``), from the kiosk.

The same accounts file and the same rules as ``kiosk web add-user`` / ``remove-user``
(``kiosk.accounts``: argon2id, at least 10 characters, not a common password), so an
account made here signs in to ``kiosk web`` at once. The password is typed twice and
never shown; hashing it takes a moment, so every call runs on the service thread.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from kiosk.accounts import (
    MIN_PASSWORD,
    ROLE_LABELS,
    Account,
    AccountError,
    Accounts,
    normalise_username,
    open_accounts,
)
from kiosk.clock import Clock
from kiosk.settings import Settings
from kiosk.tui.screens.admin.page import AdminPage


class _Opener:
    """Opens the accounts file once, on the service thread, and keeps it for the visit."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._accounts: Accounts | None = None

    def __call__(self) -> Accounts:
        if self._accounts is None:
            self._accounts = open_accounts(self._settings, self._clock)
        return self._accounts


class WebAccountsScreen(AdminPage):
    """The web accounts, and Add / Remove; removing one asks first."""

    def __init__(self, until: float | None) -> None:
        super().__init__(until)
        self.accounts: list[Account] = []
        self.removing: Account | None = None  # asked: remove this one?
        self._open: _Opener | None = None

    @property
    def opener(self) -> _Opener:
        if self._open is None:
            self._open = _Opener(self.host.settings, self.host.clock)
        return self._open

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: web accounts")
        yield Static(
            "Who may see the board in a browser (kiosk web): office, SLT and IT.",
            classes="heading",
        )
        yield DataTable(cursor_type="row", id="web-accounts")
        yield Static("", id="result", classes="prompt")
        with Horizontal(classes="buttons"):
            yield Button("Add an account", id="add", variant="primary")
            yield Button("Remove", id="remove")
            yield Button("Yes, remove it", id="confirm-remove", variant="error")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.query_one("#web-accounts", DataTable).add_columns(
            "Account", "Name", "Role", "Password set"
        )
        self.query_one("#confirm-remove").display = False
        self.say("result", "")
        self.load()
        self.query_one("#add", Button).focus()

    def resumed(self) -> None:
        super().resumed()
        self.load()

    def load(self) -> None:
        opener = self.opener
        self.host.call(lambda: opener().users(), self._loaded, self._failed)

    def _loaded(self, accounts: list[Account]) -> None:
        self.accounts = accounts
        table = self.query_one("#web-accounts", DataTable)
        table.clear()
        for a in accounts:
            table.add_row(
                a.username, a.name, a.role_label, self.host.local_time(a.password_changed_at)
            )
        if not accounts:
            self.say("result", "No web accounts yet: Add an account makes the first.")
        self.query_one("#remove", Button).disabled = not accounts

    def _failed(self, error: Exception) -> None:
        self._not_removing()
        self.say("result", str(error))

    def _form_closed(self, said: object) -> None:
        if isinstance(said, str):
            self.say("result", said)

    @on(Button.Pressed, "#add")
    def _add(self) -> None:
        self._not_removing()
        self.host.open(AddWebAccountScreen(self.opener, self.deadline), self._form_closed)

    @on(Button.Pressed, "#remove")
    def _remove(self) -> None:
        table = self.query_one("#web-accounts", DataTable)
        if not self.accounts or table.cursor_row >= len(self.accounts):
            self.say("result", "Choose an account first.")
            return
        self.removing = self.accounts[table.cursor_row]
        self.say(
            "result",
            f"Remove {self.removing.username} ({self.removing.name})? They are signed out "
            "of every browser and cannot sign in again.",
        )
        self.query_one("#confirm-remove").display = True
        self.query_one("#confirm-remove", Button).focus()

    @on(DataTable.RowHighlighted, "#web-accounts")
    def _moved(self) -> None:
        if self.removing is not None:  # what was asked about is no longer what is chosen
            self._not_removing()
            self.say("result", "")

    def _not_removing(self) -> None:
        self.removing = None
        self.query_one("#confirm-remove").display = False

    @on(Button.Pressed, "#confirm-remove")
    def _confirmed(self) -> None:
        account, opener = self.removing, self.opener
        if account is None:
            return
        self._not_removing()

        def removed(_: None) -> None:
            self.say("result", f"Web account {account.username} removed; it is signed out.")
            self.load()

        self.host.call(lambda: opener().remove_user(account.username), removed, self._failed)


class AddWebAccountScreen(AdminPage):
    """A new web account: its name, the person's name, the role and a first password twice."""

    def __init__(self, opener: _Opener, until: float | None) -> None:
        super().__init__(until)
        self.opener = opener
        self.saving = False

    def compose(self) -> ComposeResult:
        yield self.title_bar("Admin: add a web account")
        with VerticalScroll(id="form"):
            with Horizontal(classes="fields"):
                yield Label("Account name:", classes="field-label form-label")
                yield Input(placeholder="e.g. s.evans", id="username")
            with Horizontal(classes="fields"):
                yield Label("Full name:", classes="field-label form-label")
                yield Input(placeholder="as the office knows them", id="name")
            with Horizontal(classes="fields"):
                yield Label("Role:", classes="field-label form-label")
                yield Select(
                    [(label, role) for role, label in ROLE_LABELS.items()],
                    value="office",
                    allow_blank=False,
                    id="role",
                )
            with Horizontal(classes="fields"):
                yield Label("Password:", classes="field-label form-label")
                yield Input(password=True, id="password")
            with Horizontal(classes="fields"):
                yield Label("Again:", classes="field-label form-label")
                yield Input(password=True, id="again")
        yield Static(
            f"At least {MIN_PASSWORD} characters, not a common one: three or four words.",
            classes="hint",
        )
        yield Static("", id="result", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Add the account", id="save", variant="success")
            yield Button("Back", id="back")
        yield self.status_line()

    def on_mount(self) -> None:
        self.say("result", "")
        self.query_one("#username", Input).focus()

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def _clear_passwords(self) -> None:
        for widget_id in ("password", "again"):
            self.query_one(f"#{widget_id}", Input).value = ""

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; on the last one it adds the account."""
        if event.input.id == "again":
            self._save()
        else:
            self.focus_next()

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        if self.saving:
            return
        password, again = self._value("password"), self._value("again")
        if password != again:
            self._clear_passwords()
            self.say("result", "The two passwords differ: type the password twice again.")
            self.query_one("#password", Input).focus()
            return
        try:
            username = normalise_username(self._value("username"))
        except AccountError as exc:
            self.say("result", str(exc))
            self.query_one("#username", Input).focus()
            return
        name, opener = self._value("name"), self.opener
        role = str(self.query_one("#role", Select).value)
        self.saving = True
        self.say("result", "")
        self.host.call(
            lambda: opener().add_user(username, name, role, password), self._added, self._refused
        )

    def _added(self, account: Account) -> None:
        self.saving = False
        self._clear_passwords()
        self.dismiss(
            f"Web account {account.username} made for {account.name} ({account.role_label}): "
            "they can sign in to the board in a browser now."
        )

    def _refused(self, error: Exception) -> None:
        self.saving = False
        self._clear_passwords()
        self.say("result", f"{error} Nothing was saved.")
        self.query_one("#password", Input).focus()

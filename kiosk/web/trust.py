"""The trust's board: ``kiosk web`` with ``[web] trust_credentials``, reading PostgreSQL only.

Two pages, each one section (one template, one call of ``sync.trust.view.TrustView``):

- ``/``: all schools (overdue across the trust, the trust's trip phones out now, per school
  what is out and when its kiosks were last heard from), for accounts of the whole trust;
- ``/schools/{id}``: one school's board, for that school's accounts and the trust's.

Who sees what, twice over: each account has a scope (``kiosk.accounts.Account.scope``: a
school, or the whole trust); a page outside it is refused here (403) before anything is
read. And every read names the account's scope to PostgreSQL, whose policies for the web's
login (``trust_web``, migration 0002) give a transaction no loans or borrowers of another
school, so a mistake in this file could still show no more than the account may see.

Live as the school board is: the hub asks the server a cheap question once a second (how
far every kiosk's changes are applied, ``TrustView.changes``) and pushes the pages again
when the answer moves, when the minute turns, and when the server stops or starts
answering. When it does not answer (down, or slower than ``[web] trust_timeout_seconds``)
a page keeps the last figures it read, says so, and says from when.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from kiosk.accounts import Account, Accounts, WebSession
from kiosk.clock import Clock
from kiosk.errors import NotFound
from kiosk.settings import Settings
from kiosk.web.app import (
    KEEPALIVE_SECONDS,
    SESSION_CHECK_SECONDS,
    Pages,
    SecurityHeaders,
    _http_error,
    _not_found,
    account_routes,
    event_stream,
    serving,
    sse_event,
)
from kiosk.web.auth import Auth, signed_in
from kiosk.web.live import LiveHub
from sync.trust.view import SchoolBoard, TrustOverview, TrustView

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How often the hub asks the trust's server whether a kiosk has sent changes.
TRUST_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Figures(Generic[T]):
    """What a trust page shows: the data, when it was read, and why it may be old."""

    data: T | None
    """None only when the server has not answered once since ``kiosk web`` started."""
    read_at: datetime | None
    problem: str = ""
    """Why these are not fresh figures (the server's answer in words); "" when they are."""


class TrustBoard:
    """Reads through ``TrustView`` off the event loop, keeping each page's last good figures."""

    def __init__(self, view: TrustView, clock: Clock) -> None:
        self.view = view
        self._clock = clock
        # TrustView keeps one connection and one lock: more threads would only queue.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-web-trust")
        self._last: dict[Hashable, tuple[Any, datetime]] = {}

    async def read(self, key: Hashable, fn: Callable[[TrustView], T]) -> Figures[T]:
        try:
            data = await asyncio.get_running_loop().run_in_executor(self._pool, fn, self.view)
        except ConnectionError as exc:  # TrustUnavailable: down, slow, refused
            log.warning("trust board: %s", exc)
            last = self._last.get(key)
            if last is None:
                return Figures(None, None, str(exc))
            return Figures(last[0], last[1], str(exc))
        read_at = self._clock.now()
        self._last[key] = (data, read_at)
        return Figures(data, read_at)

    def changes(self) -> Hashable:
        return self.view.changes()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.view.close()


def _account(request: Request) -> Account:
    session: WebSession = request.state.session
    return session.account


def _refused(request: Request, text: str) -> Response:
    pages: Pages = request.app.state.pages
    return pages.render(
        request, "message.html", {"title": "Not for your account", "text": text}, status_code=403
    )


_NO_SCOPE = (
    "This account is for one kiosk's board, not the trust's. Ask trust IT for an account "
    "of your school (kiosk web add-user NAME --school ID) or of the whole trust (--trust)."
)


def _school_refusal(account: Account, school_id: str) -> str | None:
    """Why ``account`` may not see ``school_id``'s page; None when it may."""
    if not account.scope:
        return _NO_SCOPE
    if not account.may_see(school_id):
        return (
            f"Your account shows your own school's board only ({account.scope}), not "
            f"{school_id}'s. Ask trust IT if you need to see other schools."
        )
    return None


def _overview(now: datetime, scope: str, view: TrustView) -> TrustOverview:
    return view.overview(now, scope=scope)


def _school(school_id: str, now: datetime, scope: str, view: TrustView) -> SchoolBoard:
    return view.school_board(school_id, now, scope=scope)


async def _section(request: Request, name: str, school_id: str) -> tuple[str, Figures[Any]]:
    """The page's one section: its fragment, and the figures it drew (for the title)."""
    board: TrustBoard = request.app.state.board
    pages: Pages = request.app.state.pages
    account = _account(request)
    now = pages.clock.now()
    if name == "trust":
        figures: Figures[Any] = await board.read(
            ("trust", account.scope), partial(_overview, now, account.scope)
        )
        template = "trust/overview.html"
    else:
        read = partial(_school, school_id, now, account.scope)
        figures = await board.read(("school", school_id), read)
        template = "trust/school.html"
    html = pages.fragment(template, {"figures": figures, "account": account})
    return html, figures


def _live_url(request: Request, page: str, school_id: str = "") -> str:
    hub: LiveHub = request.app.state.hub
    school = f"&school={school_id}" if school_id else ""
    return f"/live?page={page}{school}&since={hub.generation}"


@signed_in()
async def all_schools(request: Request) -> Response:
    account = _account(request)
    if not account.scope:
        return _refused(request, _NO_SCOPE)
    if account.scope != "*":  # a school's account: its own school is its board
        return RedirectResponse(f"/schools/{account.scope}", status_code=303)
    html, _ = await _section(request, "trust", "")
    return request.app.state.pages.render(
        request,
        "trust/page.html",
        {
            "title": "All schools",
            "section": "trust",
            "html": html,
            "live_url": _live_url(request, "trust"),
        },
    )


@signed_in()
async def school_page(request: Request) -> Response:
    school_id = str(request.path_params["school_id"])
    refusal = _school_refusal(_account(request), school_id)
    if refusal:
        return _refused(request, refusal)
    html, figures = await _section(request, "school", school_id)
    name = figures.data.school.name if figures.data is not None else school_id
    return request.app.state.pages.render(
        request,
        "trust/page.html",
        {
            "title": name,
            "section": "school",
            "html": html,
            "live_url": _live_url(request, "school", school_id),
        },
    )


@signed_in(touch=False)
async def trust_live(request: Request) -> Response:
    """Server-sent events: the page's section again whenever a kiosk has sent changes."""
    account = _account(request)
    page = request.query_params.get("page", "")
    school_id = request.query_params.get("school", "")
    if page == "trust":
        if account.scope != "*":
            return _refused(request, _NO_SCOPE if not account.scope else "Not your page.")
        key: Hashable = ("trust", account.scope)
    elif page == "school":
        refusal = _school_refusal(account, school_id)
        if refusal:
            return _refused(request, refusal)
        key = ("school", school_id)
    else:
        raise HTTPException(404, "There is no such live page.")
    hub: LiveHub = request.app.state.hub

    async def frame() -> bytes:
        generation = hub.generation
        try:
            html, _ = await _section(request, page, school_id)
        except NotFound as exc:  # the school was removed while the page was open
            html = f"<p class='problem'>{exc}</p>"
        return sse_event(generation, page, html)

    return event_stream(request, [(key, frame)])


def create_trust_app(
    settings: Settings,
    clock: Clock,
    accounts: Accounts,
    view: TrustView,
    *,
    poll_seconds: float = TRUST_POLL_SECONDS,
    keepalive_seconds: float = KEEPALIVE_SECONDS,
    session_check_seconds: float = SESSION_CHECK_SECONDS,
) -> Starlette:
    """The trust's board on ``view`` (the web's own PostgreSQL login); no kiosk database."""
    board = TrustBoard(view, clock)
    hub = LiveHub(board.changes, clock, poll_seconds, remote=True)
    secure = settings.web.tls_cert is not None or settings.web.secure_cookies

    routes: list[Route | Mount] = [
        Route("/", all_schools, methods=["GET"], name="trust"),
        Route("/schools/{school_id}", school_page, methods=["GET"], name="school"),
        Route("/live", trust_live, methods=["GET"]),
        *account_routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=serving(hub, "kiosk-web-trust-watcher"),
        exception_handlers={404: _not_found, HTTPException: _http_error, NotFound: _not_found},
    )
    app.add_middleware(SecurityHeaders)
    app.state.board = board
    app.state.pages = Pages(settings, clock, trust=True)
    app.state.auth = Auth(accounts, secure=secure)
    app.state.hub = hub
    app.state.keepalive = keepalive_seconds
    app.state.session_check = session_check_seconds
    return app

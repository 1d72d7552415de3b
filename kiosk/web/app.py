"""The web app: ``create_app`` builds it for ``kiosk web`` and for the tests alike.

Starlette rather than FastAPI: these are server-rendered pages and one event stream, with
no JSON API to validate or document, and FastAPI's pydantic would cost memory the Pi's
80 MB budget for this process cannot spare. Handlers are thin: read through
``app.state.board`` (the loan package's queries, see ``reads``), render a template.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.accounts import (
    MIN_PASSWORD,
    AccountError,
    Accounts,
    SignInRefused,
    WebSession,
    same_token,
)
from kiosk.calendar import SchoolCalendar
from kiosk.clock import Clock
from kiosk.errors import NotFound, Refused, StorageError
from kiosk.exporter import day_csv, iter_loans_csv
from kiosk.loans.day import day_report
from kiosk.loans.queries import Queries
from kiosk.settings import Settings
from kiosk.views import LoanView, search_lists
from kiosk.web.auth import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    Auth,
    client_address,
    csrf_ok,
    form_fields,
    safe_next,
    signed_in,
)
from kiosk.web.live import POLL_SECONDS, Changes, LiveHub
from kiosk.web.reads import Reads
from kiosk.web.sections import PAGES, SECTIONS, Filters, Page

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: Seconds between keep-alives on a quiet live stream (each also re-checks the session).
KEEPALIVE_SECONDS = 15.0
#: How often an open live stream checks that its session is still signed in (and at every
#: keep-alive): a page signed out elsewhere or timed out closes within this.
SESSION_CHECK_SECONDS = 5.0
#: The longest search text looked for.
MAX_SEARCH = 100
#: People and items listed for a search; past that the page says more match.
SEARCH_LISTED = 25

OUTCOMES = {
    None: "Out now",
    "returned": "Returned",
    "handed_over": "Handed over",
    "lost": "Reported lost",
    "undone": "Undone",
}

#: What a tel: link leaves out of a phone number as people write it ("07700 900 123").
_NOT_TEL = re.compile(r"[^\d+]")

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SecurityHeaders:
    """Headers on every answer: no framing, no sniffing, no caching of pages with names in
    them, a strict content policy (scripts and styles from this site only), and
    ``Server-Timing`` (how long the server took, and the process's CPU time meanwhile,
    which tells a slow page from a busy machine; the benchmarks read both)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, cpu = time.perf_counter(), time.process_time()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = _CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if not scope["path"].startswith("/static/"):
                    headers["Cache-Control"] = "no-store"
                took = (time.perf_counter() - started) * 1000
                used = (time.process_time() - cpu) * 1000
                headers["Server-Timing"] = f"app;dur={took:.2f}, cpu;dur={used:.2f}"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Pages:
    """Templates and what every page shows (school name, who is signed in, the time)."""

    def __init__(self, settings: Settings, clock: Clock, *, trust: bool = False) -> None:
        self.settings = settings
        self.clock = clock
        self.trust = trust
        """The trust's board (``kiosk.web.trust``): its own links at the top of each page."""
        self.calendar = SchoolCalendar(settings.school)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["when"] = self._when
        self.env.filters["local"] = self._local
        self.env.filters["outcome"] = lambda v: OUTCOMES.get(v, str(v))
        self.env.filters["tel"] = lambda n: _NOT_TEL.sub("", str(n))
        self.kinds = {name: rule.label for name, rule in settings.kinds.items()}

    def _when(self, value: datetime | None, now: datetime) -> str:
        return self.calendar.describe(value, now) if value else ""

    def _local(self, value: datetime | None) -> str:
        return self.calendar.local(value).strftime("%a %d %b %Y, %H:%M") if value else ""

    def fragment(self, template: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(template).render(
            now=self.clock.now(), kinds=self.kinds, **context
        )

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        session: WebSession | None = getattr(request.state, "session", None)
        html = self.env.get_template(template).render(
            school=self.settings.school.name,
            account=session.account if session else None,
            csrf=session.csrf if session else "",
            now=self.clock.now(),
            kinds=self.kinds,
            pages=PAGES,
            trust=self.trust,
            path=request.url.path,
            **(context or {}),
        )
        return HTMLResponse(html, status_code=status_code)


# --- board pages --------------------------------------------------------------------------


async def _sections(request: Request, page: Page, filters: Filters) -> list[dict[str, Any]]:
    board: Reads = request.app.state.board
    out = []
    for name in page.sections:
        section = SECTIONS[name]
        data = await board(section.bind(filters))
        out.append(
            {
                "section": section,
                "html": request.app.state.pages.fragment(section.template, data),
            }
        )
    return out


def _board_page(page: Page) -> Route:
    @signed_in()
    async def show(request: Request) -> Response:
        pages: Pages = request.app.state.pages
        hub: LiveHub = request.app.state.hub
        filters = Filters.from_query(request.query_params, pages.kinds)
        generation = hub.generation
        sections = await _sections(request, page, filters)
        query = {"page": page.name, **filters.query(), "since": str(generation)}
        live_url = "/live?" + "&".join(f"{k}={v}" for k, v in query.items())
        return pages.render(
            request,
            "board.html",
            {"page": page, "sections": sections, "filters": filters, "live_url": live_url},
        )

    show.__name__ = f"page_{page.name}"
    return Route(page.path, show, methods=["GET"], name=page.name)


def sse_event(generation: int, name: str, html: str) -> bytes:
    """One server-sent event: a section's new HTML, named after the section."""
    lines = "".join(f"data: {line}\n" for line in html.replace("\r", "").split("\n"))
    return f"id: {generation}\nevent: {name}\n{lines}\n".encode()


def last_seen(request: Request) -> int:
    """The generation the page already shows (its reconnect header, or its ``since``)."""
    text = request.headers.get("last-event-id") or request.query_params.get("since", "")
    return int(text) if text.isdigit() else -1


Frames = list[tuple[Hashable, Callable[[], Awaitable[bytes]]]]


def event_stream(request: Request, frames: Frames) -> StreamingResponse:
    """The live stream of a page: ``frames`` (each section's cache key and renderer) again
    whenever the hub says the data changed; keep-alives, and the session checked meanwhile."""
    app = request.app
    hub: LiveHub = app.state.hub
    auth: Auth = app.state.auth
    keepalive: float = app.state.keepalive
    recheck: float = app.state.session_check
    seen = last_seen(request)

    async def events() -> AsyncIterator[bytes]:
        nonlocal seen
        yield b"retry: 2000\n\n"
        checked = time.monotonic()
        while True:
            generation = await hub.wait(seen, keepalive)
            # The session is looked at again every few seconds, not at every change: twenty
            # open pages on a busy morning need not ask the accounts file twenty times a tap.
            if time.monotonic() - checked >= recheck or generation == seen:
                if await auth.session(request, touch=False) is None:
                    yield b"event: signed-out\ndata: \n\n"
                    return
                checked = time.monotonic()
            if generation == seen:
                yield b": still here\n\n"
                continue
            seen = generation
            for key, render in frames:
                yield await hub.fragment(key, render)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},  # nginx: pass each event on at once
    )


@signed_in(touch=False)
async def live(request: Request) -> Response:
    """Server-sent events: each of the page's sections again whenever the data changes."""
    app = request.app
    page = PAGES.get(request.query_params.get("page", ""))
    if page is None:
        raise HTTPException(404, "There is no such live page.")
    filters = Filters.from_query(request.query_params, app.state.pages.kinds)
    hub: LiveHub = app.state.hub

    async def frame(name: str) -> bytes:
        """The section's event as sent: rendered and framed once per change for every page."""
        generation = hub.generation
        section = SECTIONS[name]
        data = await app.state.board(section.bind(filters))
        return sse_event(generation, name, str(app.state.pages.fragment(section.template, data)))

    return event_stream(
        request, [((name, filters), partial(frame, name)) for name in page.sections]
    )


@signed_in()
async def search(request: Request) -> Response:
    text = request.query_params.get("q", "").strip()[:MAX_SEARCH]
    found: dict[str, Any] = {"q": text, "people": [], "items": [], "loans": [], "more": {}}
    if text:
        board: Reads = request.app.state.board
        # One more than is listed: whether the list is all there is, or it must say so.
        people = await board(lambda q: q.find_staff(text, limit=SEARCH_LISTED + 1))
        items = await board(lambda q: q.find_items(text, limit=SEARCH_LISTED + 1))
        found["people"], found["items"], found["more"] = search_lists(SEARCH_LISTED, people, items)
        found["loans"] = await board(lambda q: q.board(search=text))
    return request.app.state.pages.render(request, "search.html", found)


def _pk(request: Request) -> int:
    return int(request.path_params["pk"])


@signed_in()
async def person(request: Request) -> Response:
    pk = _pk(request)
    board: Reads = request.app.state.board
    staff = await board(lambda q: q.staff(pk))
    out_now = await board(lambda q: q.loans_for(pk))
    history = await board(lambda q: q.staff_history(pk))
    return request.app.state.pages.render(
        request, "person.html", {"person": staff, "out_now": out_now, "history": history}
    )


@signed_in()
async def item(request: Request) -> Response:
    pk = _pk(request)
    board: Reads = request.app.state.board
    thing = await board(lambda q: q.item(pk))
    history: list[LoanView] = await board(lambda q: q.item_history(pk))
    current = history[0] if history and history[0].is_open else None
    return request.app.state.pages.render(
        request, "item.html", {"item": thing, "current": current, "history": history}
    )


# --- downloads ----------------------------------------------------------------------------


@signed_in()
async def export_form(request: Request) -> Response:
    return request.app.state.pages.render(request, "export.html", _EXPORT_FORM)


#: The download page's fields, empty: a date for loans since, a day for the day's report.
_EXPORT_FORM = {"since": "", "problem": "", "day": "", "day_problem": ""}


@signed_in()
async def export_loans(request: Request) -> Response:
    """All loans (or those out since a date) as the same spreadsheet-safe CSV as the CLI."""
    pages: Pages = request.app.state.pages
    since_text = request.query_params.get("since", "").strip()
    since: datetime | None = None
    if since_text:
        try:
            since = pages.calendar.at(date.fromisoformat(since_text), datetime.min.time())
        except ValueError:
            return pages.render(
                request,
                "export.html",
                {
                    **_EXPORT_FORM,
                    "since": since_text,
                    "problem": f"{since_text!r} is not a date. Give one like 2026-09-01, "
                    "or leave it empty for every loan.",
                },
                status_code=400,
            )
    board: Reads = request.app.state.board

    async def body() -> AsyncIterator[bytes]:
        first = True
        async for piece in board.stream(lambda q: iter_loans_csv(pages.calendar, since)):
            # Excel reads a UTF-8 CSV correctly only with a byte order mark, as the CLI writes.
            yield (("\ufeff" if first else "") + piece).encode("utf-8")
            first = False

    today = pages.calendar.local(pages.clock.now()).date().isoformat()
    name = f"loans-since-{since_text}-{today}.csv" if since else f"loans-{today}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@signed_in()
async def export_day(request: Request) -> Response:
    """One school day (today when none is given) as the same CSV as ``kiosk export day``."""
    pages: Pages = request.app.state.pages
    day_text = request.query_params.get("day", "").strip()

    def refused(problem: str) -> Response:
        fields = {**_EXPORT_FORM, "day": day_text, "day_problem": problem}
        return pages.render(request, "export.html", fields, status_code=400)

    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        return refused(
            f"{day_text!r} is not a date. Give one like 2026-11-23, or leave it empty for today."
        )
    board: Reads = request.app.state.board
    try:
        report = await board(lambda q: day_report(q, day))
    except Refused as exc:
        return refused(str(exc))
    # Excel reads a UTF-8 CSV correctly only with a byte order mark, as the CLI writes.
    body = ("\ufeff" + day_csv(report, pages.calendar)).encode("utf-8")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="day-{report.day.isoformat()}.csv"'},
    )


# --- signing in and out -------------------------------------------------------------------

_WHY = {
    "expired": "You were signed out because the board was not used for a while. Sign in again.",
    "signedout": "You are signed out.",
    "password": "Your password was changed. Sign in with the new one.",
}


def _signin_page(
    request: Request, *, message: str = "", problem: str = "", status_code: int = 200
) -> Response:
    auth: Auth = request.app.state.auth
    token = auth.signin_token(request)
    response = request.app.state.pages.render(
        request,
        "signin.html",
        {
            "signin_csrf": token,
            "next": safe_next(request.query_params.get("next", "/")),
            "message": message or _WHY.get(request.query_params.get("why", ""), ""),
            "problem": problem,
            "username": "",
        },
        status_code=status_code,
    )
    auth.set_signin_cookie(response, token)
    return response


async def signin_form(request: Request) -> Response:
    auth: Auth = request.app.state.auth
    if await auth.session(request, touch=False) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next", "/")), 303)
    return _signin_page(request)


async def signin(request: Request) -> Response:
    auth: Auth = request.app.state.auth
    form = await form_fields(request)
    token = form.get("csrf")
    if not (isinstance(token, str) and same_token(token, request.cookies.get(SIGNIN_COOKIE, ""))):
        request.cookies.pop(SIGNIN_COOKIE, None)
        return _signin_page(
            request,
            problem="The sign-in form had expired (or came from another site). "
            "It has been reloaded: sign in again.",
            status_code=403,
        )
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    try:
        session = await auth.run(auth.accounts.sign_in, username, password, client_address(request))
    except SignInRefused as exc:
        locked = "locked" in str(exc)
        return _signin_page(request, problem=str(exc), status_code=429 if locked else 401)
    response = RedirectResponse(target, status_code=303)
    auth.set_session_cookie(response, session.token)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@signed_in()
async def signout(request: Request) -> Response:
    auth: Auth = request.app.state.auth
    form = await form_fields(request)
    if not csrf_ok(request, form.get("csrf")):
        return _forbidden(request)
    await auth.run(auth.accounts.sign_out, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/signin?why=signedout", status_code=303)
    auth.clear_session_cookie(response)
    return response


def _forbidden(request: Request) -> Response:
    return request.app.state.pages.render(
        request,
        "message.html",
        {
            "title": "That form has expired",
            "text": "The form was older than your sign-in, or came from another site, so "
            "nothing was done. Go back, reload the page and try again.",
        },
        status_code=403,
    )


@signed_in()
async def password_form(request: Request) -> Response:
    return request.app.state.pages.render(
        request, "password.html", {"problem": "", "done": False, "min_length": MIN_PASSWORD}
    )


@signed_in()
async def change_password(request: Request) -> Response:
    auth: Auth = request.app.state.auth
    session: WebSession = request.state.session
    form = await form_fields(request)
    if not csrf_ok(request, form.get("csrf")):
        return _forbidden(request)
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    problem, status = "", 200
    if new != again:
        problem, status = "The two new passwords are not the same. Nothing was changed.", 400
    else:
        try:
            await auth.run(
                auth.accounts.change_own_password,
                session,
                request.cookies.get(SESSION_COOKIE, ""),
                current,
                new,
                client_address(request),
            )
        except AccountError as exc:
            problem, status = str(exc), 400
        except SignInRefused as exc:
            problem, status = str(exc), 429
    return request.app.state.pages.render(
        request,
        "password.html",
        {"problem": problem, "done": not problem, "min_length": MIN_PASSWORD},
        status_code=status,
    )


# --- errors -------------------------------------------------------------------------------


async def _not_found(request: Request, exc: Exception) -> Response:
    text = str(exc) if isinstance(exc, NotFound) else "There is no such page on the board."
    if isinstance(exc, HTTPException) and exc.detail and exc.status_code == 404:
        text = str(exc.detail) if exc.detail != "Not Found" else text
    return request.app.state.pages.render(
        request, "message.html", {"title": "Not found", "text": text}, status_code=404
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    code = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = str(exc.detail) if isinstance(exc, HTTPException) else ""
    return request.app.state.pages.render(
        request,
        "message.html",
        {"title": "That did not work", "text": detail or "Something went wrong."},
        status_code=code,
    )


async def _storage(request: Request, exc: Exception) -> Response:
    log.error("web: %s", exc)
    return request.app.state.pages.render(
        request,
        "message.html",
        {
            "title": "The kiosk's records cannot be read just now",
            "text": f"{exc} Try again in a minute; if it lasts, tell the IT lead.",
        },
        status_code=503,
    )


# --- the app ------------------------------------------------------------------------------


def account_routes() -> list[Route | Mount]:
    """What every board serves besides its pages: signing in and out, one's own password,
    and the static files."""
    return [
        Route("/signin", signin_form, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/password", password_form, methods=["GET"]),
        Route("/password", change_password, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def serving(
    hub: LiveHub, name: str, *closers: Callable[[], None]
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """A board's life: its live hub's one watcher runs while it serves; when it stops, the
    watcher ends, then what it reads (``app.state.board``), the accounts file and
    ``closers`` are closed."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        import asyncio

        watcher = asyncio.create_task(hub.run(), name=name)
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            app.state.board.close()
            app.state.auth.close()
            for close in closers:
                close()

    return lifespan


def create_app(
    settings: Settings,
    clock: Clock,
    accounts: Accounts,
    queries: Queries,
    changes: Changes,
    *,
    keepalive_seconds: float = KEEPALIVE_SECONDS,
    poll_seconds: float = POLL_SECONDS,
    session_check_seconds: float = SESSION_CHECK_SECONDS,
) -> Starlette:
    """The board: ``queries`` is the loan package's query object (``kiosk web`` makes it on
    a read-only connection; tests on the database they write to), ``changes`` says when the
    database has changed (``kiosk.db.ChangeWatch``); the app closes it when it stops."""
    watch = changes
    hub = LiveHub(watch.version, clock, poll_seconds)
    secure = settings.web.tls_cert is not None or settings.web.secure_cookies

    routes: list[Route | Mount] = [
        *(_board_page(p) for p in PAGES.values()),
        Route("/live", live, methods=["GET"]),
        Route("/search", search, methods=["GET"]),
        Route("/people/{pk:int}", person, methods=["GET"]),
        Route("/items/{pk:int}", item, methods=["GET"]),
        Route("/export", export_form, methods=["GET"]),
        Route("/export/loans.csv", export_loans, methods=["GET"]),
        Route("/export/day.csv", export_day, methods=["GET"]),
        *account_routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=serving(hub, "kiosk-web-watcher", watch.close),
        exception_handlers={
            404: _not_found,
            HTTPException: _http_error,
            NotFound: _not_found,
            StorageError: _storage,
        },
    )
    app.add_middleware(SecurityHeaders)
    # The one object the pages read through (see reads.py): re-point it here.
    app.state.board = Reads(queries)
    app.state.pages = Pages(settings, clock)
    app.state.auth = Auth(accounts, secure=secure)
    app.state.hub = hub
    app.state.keepalive = keepalive_seconds
    app.state.session_check = session_check_seconds
    return app

"""Who is signed in: the session cookie, CSRF tokens, and the ``signed_in`` guard.

- The session cookie holds a random token (``kiosk.accounts``); HttpOnly, SameSite=Lax,
  Secure when served over TLS or behind a proxy that does (``[web] secure_cookies``).
- Every form carries a CSRF token: the session's own once signed in; on the sign-in form
  (no session yet) a random value that must equal the one in a short-lived cookie.
- Every page but sign-in needs a session; without one a page redirects to sign-in (saying
  why, when a session has just timed out) and the live stream answers 401.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import parse_qs, quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from kiosk.accounts import Accounts, WebSession, same_token

SESSION_COOKIE = "kiosk_session"
SIGNIN_COOKIE = "kiosk_signin"

T = TypeVar("T")
Handler = Callable[[Request], Awaitable[Response]]


class Auth:
    """The accounts file, used off the event loop (hashing a password takes tens of ms)."""

    def __init__(self, accounts: Accounts, *, secure: bool) -> None:
        self.accounts = accounts
        self.secure = secure
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kiosk-web-auth")

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def session(self, request: Request, *, touch: bool = True) -> WebSession | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            return None
        return await self.run(lambda: self.accounts.session(token, touch=touch))

    def set_session_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="lax", secure=self.secure, path="/"
        )

    def clear_session_cookie(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, httponly=True, samesite="lax", secure=self.secure, path="/"
        )

    def signin_token(self, request: Request) -> str:
        """The sign-in form's CSRF value: the cookie's, or a new one (set by ``set_signin``)."""
        return request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(32)

    def set_signin_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            SIGNIN_COOKIE,
            token,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/signin",
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def safe_next(target: str) -> str:
    """Only a path on this site may follow sign-in (never another site's address)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return "/"


def signed_in(*, touch: bool = True) -> Callable[[Handler], Handler]:
    """Guard a handler: it runs with ``request.state.session`` set, or is refused."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            auth: Auth = request.app.state.auth
            session = await auth.session(request, touch=touch)
            if session is None:
                had = bool(request.cookies.get(SESSION_COOKIE))
                if request.url.path == "/live":
                    return PlainTextResponse("Not signed in.", status_code=401)
                if request.method != "GET":
                    return PlainTextResponse(
                        "You are not signed in (or were signed out). Sign in and try again.",
                        status_code=403,
                    )
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                why = "&why=expired" if had else ""
                response = RedirectResponse(
                    f"/signin?next={quote(target, safe='')}{why}", status_code=303
                )
                if had:
                    auth.clear_session_cookie(response)
                return response
            request.state.session = session
            return await handler(request)

        guarded.__name__ = handler.__name__
        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap


#: The largest form body read (sign-in, password): a few fields, never a file.
MAX_FORM_BYTES = 16 * 1024


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form's fields (urlencoded, as the board's forms send them).

    Read here rather than with Starlette's ``request.form()``, which needs python-multipart
    for what these small forms never send; a body over ``MAX_FORM_BYTES`` is refused.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "That form is far too large.")
    if kind != "application/x-www-form-urlencoded" and (body or kind):
        raise HTTPException(415, "Send the form from the board's own page.")
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def csrf_ok(request: Request, form_token: object) -> bool:
    session: WebSession = request.state.session
    return isinstance(form_token, str) and same_token(form_token, session.csrf)

"""Who may use the console and how a state change proves it came from the console's own page.

Without ``password_file`` or ``token_file`` the console is open to whoever reaches it, which ``app.py``
allows on loopback only. With a password: a login form sets an HttpOnly, SameSite=Strict session cookie;
with a token: ``Authorization: Bearer <token>`` (feed readers, scripts). Every POST from a browser must
carry the ``X-CSRF-Token`` header equal to the ``newsmon_csrf`` cookie (double submit: another site can
neither read the cookie nor set the header) and, when the browser sends one, a same-origin ``Origin``.
The login form (a plain form POST, no header) is the exception: its ``Origin`` must be the console's, or
``null`` with ``Sec-Fetch-Site: same-origin`` (what a browser sends under a strict referrer policy).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from monitor.web.security import Handler, refused

SESSION_COOKIE = "newsmon_session"
CSRF_COOKIE = "newsmon_csrf"
CSRF_HEADER = "X-CSRF-Token"
#: what a logged-out browser may fetch: the login page and what it needs
PUBLIC = frozenset({"/login", "/static/console.css", "/static/login.js"})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_SESSIONS = 1000
LOGIN = "/login"
#: failed logins from one address within ``WINDOW_S`` before it is answered 429 for ``WINDOW_S``
MAX_FAILURES = 5
WINDOW_S = 60.0
#: addresses remembered by the throttle (beyond this, the quietest are forgotten)
MAX_CLIENTS = 10_000


class SecretFileError(ValueError):
    """A password or token file that cannot be used; the message names the file, never its content."""


def read_secret(setting: str, path: Path | None) -> str | None:
    """The first line of a secret file, read once at start."""
    if path is None:
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SecretFileError(f"{setting} {path}: cannot read: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise SecretFileError(f"{setting} {path}: not UTF-8 text") from None
    if not lines or not lines[0].strip():
        raise SecretFileError(f"{setting} {path}: empty first line")
    return lines[0].strip()


def _same(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class Throttle:
    """Failed logins per client address, in memory: a password cannot be guessed faster than five a minute."""

    failures: dict[str, deque[float]] = field(default_factory=dict)
    blocked: dict[str, float] = field(default_factory=dict)

    def refused(self, client: str, now: float | None = None) -> bool:
        """This address is answered 429 until its minute is over."""
        now = time.monotonic() if now is None else now
        until = self.blocked.get(client)
        if until is not None and until <= now:
            del self.blocked[client]
            return False
        return until is not None

    def passed(self, client: str) -> None:
        """A right password clears the address's earlier failures."""
        self.failures.pop(client, None)

    def failed(self, client: str, now: float | None = None) -> bool:
        """Count a failure; True when this one starts the address's block (the moment worth a log line)."""
        now = time.monotonic() if now is None else now
        if len(self.failures) >= MAX_CLIENTS and client not in self.failures:
            oldest = min(self.failures, key=lambda key: self.failures[key][-1])
            del self.failures[oldest]
        recent = self.failures.setdefault(client, deque(maxlen=MAX_FAILURES))
        recent.append(now)
        if len(recent) == MAX_FAILURES and now - recent[0] <= WINDOW_S:
            del self.failures[client]
            if len(self.blocked) >= MAX_CLIENTS:
                self.blocked.pop(next(iter(self.blocked)))
            self.blocked[client] = now + WINDOW_S
            return True
        return False


@dataclass
class Auth:
    password: str | None = None
    token: str | None = None
    #: ``Secure`` on every cookie, whatever the request's scheme (``[web] secure_cookies``)
    secure_cookies: bool = False
    sessions: set[str] = field(default_factory=set)
    throttle: Throttle = field(default_factory=Throttle)

    @property
    def required(self) -> bool:
        return self.password is not None or self.token is not None

    def by_token(self, request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and _same(given.strip(), self.token)

    def by_session(self, request: web.Request) -> bool:
        sid = request.cookies.get(SESSION_COOKIE)
        return bool(sid) and any(_same(sid, known) for known in self.sessions)

    def new_session(self) -> str:
        if len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop()
        sid = secrets.token_urlsafe(32)
        self.sessions.add(sid)
        return sid

    def end_session(self, request: web.Request) -> None:
        self.sessions.discard(request.cookies.get(SESSION_COOKIE, ""))

    def secure(self, request: web.Request) -> bool:
        """Cookies are ``Secure`` over https (as the trusted proxy says, when there is one) or when told."""
        return self.secure_cookies or request.secure

    def who(self, request: web.Request) -> str:
        """Recorded with a review change."""
        if self.by_token(request):
            return "token"
        return "session" if self.required else "console"


def same_origin(request: web.Request) -> bool:
    """The browser's ``Origin`` (when it sends one) names this very console. ``Origin: null`` passes only for
    the login form and only with ``Sec-Fetch-Site: same-origin`` (set by the browser, never by a page):
    every other state change has the CSRF header too, and a null origin is never enough for it."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return request.path == LOGIN and request.headers.get("Sec-Fetch-Site") == "same-origin"
    return origin == f"{request.scheme}://{request.host}"


def csrf_ok(request: web.Request) -> bool:
    return _same(request.headers.get(CSRF_HEADER), request.cookies.get(CSRF_COOKIE))


def make_gate(auth: Auth) -> Middleware:
    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = auth.by_token(request)
        if auth.required and request.path not in PUBLIC and not (token or auth.by_session(request)):
            if request.method == "GET" and not request.path.startswith(("/api/", "/feeds/")):
                return web.Response(status=303, headers={"Location": "/login"})
            return refused(request, 401, "authentication required (log in, or Authorization: Bearer)")
        if request.method in UNSAFE and not token:
            if not same_origin(request):
                return refused(request, 403, "cross-origin request refused")
            if request.path != LOGIN and not csrf_ok(request):
                return refused(request, 403, f"missing or wrong {CSRF_HEADER} header")
        response = await handler(request)
        if CSRF_COOKIE not in request.cookies and not response.prepared:
            response.set_cookie(
                CSRF_COOKIE, secrets.token_urlsafe(24), samesite="Strict", path="/", secure=auth.secure(request)
            )
        return response

    return gate

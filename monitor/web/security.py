"""What every response carries and what every request must pass: the strict headers, the size and Host
checks, and one JSON error (with one log line) for whatever the console turns away, never a 500 for bad input."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

from monitor import events
from monitor.web.params import BadRequest

log = structlog.get_logger("monitor.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer Chromium sends ``Origin: null`` on the login form's POST
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
#: longer query strings are refused with 414 (the page's longest search is far shorter)
MAX_QUERY = 4096
#: aiohttp's own parser refuses request lines past this (plain 400, before any handler)
MAX_LINE = 16384
LOOPBACK_NAMES = ("localhost",)


def json_error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status, text=json.dumps({"error": message, "status": status}), content_type="application/json"
    )


def is_loopback(host: str) -> bool:
    """A host (an address or a name) that only this machine reaches."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def refused(request: web.Request, status: int, message: str) -> web.Response:
    """One log line and one JSON answer for a request turned away."""
    log.warning(events.WEB_BAD_REQUEST, status=status, method=request.method, path=request.path[:200], reason=message)
    return json_error(status, message)


def _forwarded(value: str | None, last: bool = False) -> str | None:
    """One value of a forwarded header: the first (proxies set Proto and Host), or the last (the address the
    proxy next to the console appended to ``X-Forwarded-For``; earlier ones are the client's own claim)."""
    parts = (value or "").split(",")
    chosen = (parts[-1] if last else parts[0]).strip()
    return chosen or None


def make_forwarded() -> Middleware:
    """``[web] trusted_proxy``: the request as the proxy's client made it (scheme, host, address), so that the
    Origin check, the feed's links, ``Secure`` cookies and the login throttle see the browser's view."""

    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        proto = (_forwarded(request.headers.get("X-Forwarded-Proto")) or "").lower()
        host = _forwarded(request.headers.get("X-Forwarded-Host"))
        if host is None or len(host) > 255 or not host.isascii() or not host.isprintable():
            host = request.host
        remote = _forwarded(request.headers.get("X-Forwarded-For"), last=True)
        seen = request.clone(
            scheme=proto if proto in ("http", "https") else request.scheme,
            host=host,
            remote=remote if remote is not None and len(remote) <= 64 else request.remote or "",
        )
        return await handler(seen)

    return forwarded


def make_guard(loopback_only: bool) -> Middleware:
    """``loopback_only`` (no authentication): requests must name a loopback Host, so that a web page whose
    name was rebound to 127.0.0.1 (DNS rebinding) cannot read the console through the analyst's browser."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await _answer(request, handler, loopback_only)
        if not response.prepared:
            response.headers.update(HEADERS)
        return response

    return guard


async def _answer(request: web.Request, handler: Handler, loopback_only: bool) -> web.StreamResponse:
    if len(request.query_string) > MAX_QUERY:
        return refused(request, 414, f"query string longer than {MAX_QUERY} characters")
    if loopback_only and not is_loopback(_host_name(request.host)):
        return refused(request, 421, "this console answers only to a loopback host name")
    try:
        return await handler(request)
    except BadRequest as exc:
        return refused(request, 400, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return refused(request, exc.status, exc.reason)
    except Exception:
        log.exception("console request failed", method=request.method, path=request.path[:200])
        return json_error(500, "internal error; the daemon's log has the details")

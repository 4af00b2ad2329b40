"""The page shells and static files: every page is a fixed HTML file whose script fetches the API and
builds the DOM with ``textContent`` (no server-side templating of article text at all). Static files are
a fixed list read at start, so no request path ever reaches the file system (no traversal to guard)."""

from __future__ import annotations

import hmac
from importlib import resources
from urllib.parse import urlencode

import structlog
from aiohttp import web

from monitor import events
from monitor.web.auth import SESSION_COOKIE, WINDOW_S, Auth
from monitor.web.params import digits, ident
from monitor.web.security import json_error

log = structlog.get_logger("monitor.web")

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
#: a login attempt with a password longer than this is not one
MAX_PASSWORD = 1024


def load_static() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, content type) of the shipped ``static/`` files."""
    folder = resources.files("monitor.web").joinpath("static")
    files: dict[str, tuple[bytes, str]] = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1]
        if item.is_file() and suffix in TYPES:
            files[item.name] = (item.read_bytes(), TYPES[suffix])
    return files


class Pages:
    def __init__(self, auth: Auth) -> None:
        self.auth = auth
        self.files = load_static()

    def _file(self, name: str, cache: bool = False) -> web.Response:
        found = self.files.get(name)
        if found is None:
            raise web.HTTPNotFound(reason="no such file")
        body, content_type = found
        headers = {"Cache-Control": "max-age=300" if cache else "no-store"}
        return web.Response(body=body, headers=headers, content_type=content_type.split(";")[0], charset="utf-8")

    async def static(self, request: web.Request) -> web.Response:
        return self._file(request.match_info["name"], cache=True)

    async def index(self, _request: web.Request) -> web.Response:
        return self._file("index.html")

    async def story(self, request: web.Request) -> web.Response:
        ident("story id", request.match_info["id"])
        return self._file("story.html")

    async def article(self, request: web.Request) -> web.Response:
        if not digits(request.match_info["id"]):
            raise web.HTTPNotFound(reason="no such article")
        return self._file("article.html")

    async def digest(self, _request: web.Request) -> web.Response:
        return self._file("digest.html")

    async def retro(self, _request: web.Request) -> web.Response:
        return self._file("retro.html")

    async def login_page(self, _request: web.Request) -> web.Response:
        return self._file("login.html")

    async def login(self, request: web.Request) -> web.Response:
        """The login form's POST: a session cookie for the right password, back to the form otherwise; an
        address with five failures in a minute is answered 429 for a minute (one log line when it starts)."""
        client = request.remote or "unknown"
        if self.auth.throttle.refused(client):  # logged once, when the block began
            return json_error(429, "too many failed logins; try again in a minute")
        form = await request.post()
        given = form.get("password")
        right = self.auth.password is not None and isinstance(given, str) and len(given) <= MAX_PASSWORD
        if not right or not hmac.compare_digest(str(given).encode(), str(self.auth.password).encode()):
            if self.auth.throttle.failed(client):
                log.warning(events.WEB_LOGIN_THROTTLED, client=client[:64], seconds=int(WINDOW_S))
            else:
                log.warning(events.WEB_BAD_REQUEST, status=303, method="POST", path="/login", reason="wrong password")
            return _see("/login?" + urlencode({"failed": "1"}))
        self.auth.throttle.passed(client)
        response = _see("/")
        response.set_cookie(
            SESSION_COOKIE,
            self.auth.new_session(),
            httponly=True,
            samesite="Strict",
            path="/",
            secure=self.auth.secure(request),
        )
        return response

    async def logout(self, request: web.Request) -> web.Response:
        self.auth.end_session(request)
        response = _see("/login")
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.index),
            web.get("/stories/{id}", self.story),
            web.get("/articles/{id}", self.article),
            web.get("/digest", self.digest),
            web.get("/retro", self.retro),
            web.get("/login", self.login_page),
            web.post("/login", self.login),
            web.post("/logout", self.logout),
            web.get("/static/{name}", self.static),
        ]


def _see(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})

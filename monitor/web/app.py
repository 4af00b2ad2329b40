"""The console's aiohttp app and its life inside the daemon: started on the daemon's own event loop with
``AppRunner``/``TCPSite`` (signal handling stays the daemon's), stopped with it. A port that cannot be had,
or a non-loopback address without authentication, is one log line: the daemon tags and publishes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from aiohttp import web

from monitor import events
from monitor.config import Settings, WebSettings
from monitor.store import DB_NAME
from monitor.web import api
from monitor.web.archive import Archive
from monitor.web.auth import Auth, SecretFileError, make_gate, read_secret
from monitor.web.feeds import atom_feed
from monitor.web.pages import Pages
from monitor.web.params import ident
from monitor.web.retro import Retro, RetroSetup
from monitor.web.security import MAX_LINE, is_loopback, make_forwarded, make_guard
from monitor.web.sse import Broadcaster, stream

log = structlog.get_logger("monitor.web")

BROADCASTER = web.AppKey("broadcaster", Broadcaster)


async def events_stream(request: web.Request) -> web.StreamResponse:
    return await stream(request, request.app[BROADCASTER])


async def feed(request: web.Request) -> web.Response:
    rule = ident("rule", request.match_info["rule"])
    if rule not in await api.known_rules(request):
        raise web.HTTPNotFound(reason="no such rule")
    entries = await api.feed_entries(request.app[api.ARCHIVE], rule)
    title = entries[0].rule_title if entries else rule
    body = atom_feed(rule, title, entries, f"{request.scheme}://{request.host}")
    return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")


def make_app(
    archive: Archive,
    auth: Auth,
    *,
    loopback_only: bool,
    retro: RetroSetup | None = None,
    trusted_proxy: bool = False,
    rules: api.Rules = frozenset,
) -> web.Application:
    middlewares = [make_guard(loopback_only), make_gate(auth)]
    if trusted_proxy:  # first: every later check sees the request as the proxy's client made it
        middlewares.insert(0, make_forwarded())
    app = web.Application(middlewares=middlewares, client_max_size=api.RETRO_BODY)
    app[api.ARCHIVE] = archive
    app[api.AUTH] = auth
    app[api.FACETS] = api.FacetCache()
    app[api.RULES] = rules
    if retro is not None:
        app[api.RETRO] = Retro(retro)
    app[BROADCASTER] = broadcaster = Broadcaster(archive)
    app.add_routes(
        [
            *api.routes(with_retro=retro is not None),
            web.get("/api/events", events_stream),
            web.get("/feeds/{rule}.atom", feed),
        ]
    )
    app.add_routes(Pages(auth).routes())

    async def life(_app: web.Application) -> AsyncIterator[None]:
        await broadcaster.start()
        yield
        await broadcaster.stop()

    app.cleanup_ctx.append(life)
    return app


def load_auth(settings: WebSettings) -> Auth:
    return Auth(
        password=read_secret("web.password_file", settings.password_file),
        token=read_secret("web.token_file", settings.token_file),
        secure_cookies=settings.secure_cookies,
    )


class Console:
    """The console of one daemon run; ``start`` never raises: a console that cannot start is logged."""

    @classmethod
    def of(cls, settings: Settings, rules: api.Rules = frozenset) -> Console:
        """The daemon's console: its ``[web]`` settings, the state folder, what a retro run needs, and the rule
        ids of the engine in use (asked on each request, so a reload's new rules count at once)."""
        retro = RetroSetup(
            settings.state.dir,
            settings.watchlists.paths,
            settings.mqtt.topic_prefix,
            settings.mqtt.max_payload_bytes,
            settings.stories,
        )
        return cls(settings.web, settings.state.dir, retro, rules)

    def __init__(
        self, settings: WebSettings, state_dir: Path, retro: RetroSetup | None = None, rules: api.Rules = frozenset
    ) -> None:
        self.settings = settings
        self.db_path = state_dir / DB_NAME
        self.retro = retro
        self.rules = rules
        self.runner: web.AppRunner | None = None
        self.archive: Archive | None = None
        self.url: str | None = None

    async def start(self) -> bool:
        conf = self.settings
        if not conf.enabled:
            return False
        address = f"{conf.host}:{conf.port}"
        try:
            auth = load_auth(conf)
        except SecretFileError as exc:
            log.error(events.WEB_UNAVAILABLE, address=address, error=str(exc))
            return False
        loopback = is_loopback(conf.host)
        if not loopback and not auth.required:
            log.error(events.WEB_REFUSED, address=address)
            return False
        self.archive = Archive(self.db_path)
        try:
            self.runner = await self._serve(auth)
        except Exception as exc:  # a taken port, no permission, an unreadable archive: the daemon runs on
            error = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            log.error(events.WEB_UNAVAILABLE, address=address, error=error)
            await asyncio.to_thread(self.archive.close)
            self.archive = None
            return False
        host = f"[{conf.host}]" if ":" in conf.host else conf.host
        self.url = f"http://{host}:{conf.port}/"
        log.info(events.WEB_LISTENING, url=self.url, auth="on" if auth.required else "off (loopback only)")
        return True

    async def _serve(self, auth: Auth) -> web.AppRunner:
        assert self.archive is not None
        runner = web.AppRunner(
            make_app(
                self.archive,
                auth,
                loopback_only=not auth.required,
                retro=self.retro,
                trusted_proxy=self.settings.trusted_proxy,
                rules=self.rules,
            ),
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
            access_log=None,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.settings.host, self.settings.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        return runner

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if self.archive is not None:
            await asyncio.to_thread(self.archive.close)
            self.archive = None

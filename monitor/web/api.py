"""The JSON API under ``/api/`` (the page's own, documented in the README): reads and review actions,
each one archive call on the console's threads. Unknown ids are 404, bad parameters 400 (``security.py``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from monitor.history import AlertEntry, AlertQuery, History
from monitor.web.archive import Archive
from monitor.web.auth import Auth
from monitor.web.params import (
    BadRequest,
    alert_query,
    body_object,
    day_param,
    digits,
    flag_field,
    ident,
    snooze_until,
)
from monitor.web.retro import Retro
from monitor.web.views import json_response

#: a review body is a few ids; anything bigger is not the page's
MAX_BODY = 16_384

#: a retro run's body may carry a whole watchlist file
RETRO_BODY = 256_000

ARCHIVE = web.AppKey("archive", Archive)
RETRO = web.AppKey("retro", Retro)
AUTH = web.AppKey("auth", Auth)


def _archive(request: web.Request) -> Archive:
    return request.app[ARCHIVE]


def _found(record: object, what: str) -> object:
    if record is None:
        raise web.HTTPNotFound(reason=f"no such {what}")
    return record


def _number(name: str, value: str) -> int:
    if not digits(value) or len(value) > 18:
        raise BadRequest(f"{name}: not a valid id")
    return int(value)


async def alerts(request: web.Request) -> web.Response:
    query = alert_query(request.query)
    page = await _archive(request).call(History.alerts, query)
    return json_response(page)


async def alert(request: web.Request) -> web.Response:
    alert_id = ident("alert id", request.match_info["id"])
    return json_response(_found(await _archive(request).call(History.alert, alert_id), "alert"))


async def story(request: web.Request) -> web.Response:
    story_id = ident("story id", request.match_info["id"])
    return json_response(_found(await _archive(request).call(History.story, story_id), "story"))


async def article(request: web.Request) -> web.Response:
    article_id = _number("article id", request.match_info["id"])
    return json_response(_found(await _archive(request).call(History.article, article_id), "article"))


class FacetCache:
    """The filter menus' values, asked of the archive again only when an alert arrived since: every page
    load wants them, and fifty pages opening at once cost one query."""

    def __init__(self) -> None:
        self._value: dict[str, list[str]] = {}
        self._seq = -1
        self._lock = asyncio.Lock()

    async def get(self, archive: Archive) -> dict[str, list[str]]:
        async with self._lock:
            seq = await archive.call(History.last_seq)
            if seq != self._seq:
                self._value = await archive.call(History.facets)
                self._seq = seq
            return self._value


FACETS = web.AppKey("facets", FacetCache)


#: the rule ids of the daemon's engine in use (a shipped rule that has not fired yet is still a rule)
Rules = Callable[[], frozenset[str]]
RULES: web.AppKey[Rules] = web.AppKey("rules")


async def known_rules(request: web.Request) -> frozenset[str]:
    """The loaded watchlists' rules and those of the archive's alerts (a rule removed since keeps its feed)."""
    archived = (await request.app[FACETS].get(_archive(request))).get("rule", [])
    return request.app[RULES]() | frozenset(archived)


async def facets(request: web.Request) -> web.Response:
    values = await request.app[FACETS].get(_archive(request))
    snoozed = await _archive(request).call(History.snoozes)
    return json_response({**values, "snoozed": {rule: until.isoformat() for rule, until in snoozed.items()}})


async def digest(request: web.Request) -> web.Response:
    day = day_param(request.query.get("date"))
    return json_response(await _archive(request).call(History.digest, day))


async def _body(request: web.Request, limit: int = MAX_BODY) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(reason="send application/json")
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(raw))
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("body: not valid JSON") from None
    return body_object(doc)


def _who(request: web.Request) -> str:
    return request.app[AUTH].who(request)


async def review(request: web.Request) -> web.Response:
    """``{"alert": id}`` or ``{"story": id}``, with ``"reviewed": false`` to undo."""
    doc = await _body(request)
    reviewed = flag_field(doc, "reviewed")
    if ("alert" in doc) == ("story" in doc):
        raise BadRequest("body: give one of alert or story")
    key, name = ("alert_id", "alert") if "alert" in doc else ("story_id", "story")
    target = {key: ident(name, doc[name])}
    done = await _archive(request).call(History.set_reviewed, **target, reviewed=reviewed, by=_who(request))
    _found(done or None, "alert" if "alert" in doc else "story")
    return json_response({"ok": True, "reviewed": reviewed, **{k.removesuffix("_id"): v for k, v in target.items()}})


async def mute(request: web.Request) -> web.Response:
    """``{"story": id, "muted": true | false}``"""
    doc = await _body(request)
    story_id = ident("story", doc.get("story"))
    muted = flag_field(doc, "muted")
    done = await _archive(request).call(History.set_muted, story_id, muted, by=_who(request))
    _found(done or None, "story")
    return json_response({"ok": True, "story": story_id, "muted": muted})


async def snooze(request: web.Request) -> web.Response:
    """``{"rule": id, "hours": 1 | 8 | 24}``; ``"hours": 0`` lifts the snooze."""
    doc = await _body(request)
    rule = ident("rule", doc.get("rule"))
    if rule not in await known_rules(request):
        raise web.HTTPNotFound(reason="no such rule")
    until = snooze_until(doc, datetime.now(UTC))
    await _archive(request).call(History.snooze, rule, until, by=_who(request))
    return json_response({"ok": True, "rule": rule, "until": None if until is None else until.isoformat()})


async def retro(request: web.Request) -> web.Response:
    """``{"since": D, "until": D?, "watchlist": YAML?, "publish": false}``: what the watchlist fires over
    the archive of those days (``retro.py``)."""
    doc = await _body(request, RETRO_BODY)
    return json_response(await request.app[RETRO].handle(request, doc))


#: a feed's entries
FEED_SIZE = 50


async def feed_entries(archive: Archive, rule: str) -> list[AlertEntry]:
    """The rule's newest alerts that went to the broker: what was held back from it is held back here too."""
    page = await archive.call(History.alerts, AlertQuery(rule=rule, delivered=True, limit=FEED_SIZE))
    return page.entries


def routes(with_retro: bool) -> list[web.RouteDef]:
    return [
        *([web.post("/api/retro", retro)] if with_retro else []),
        web.get("/api/alerts", alerts),
        web.get("/api/alerts/{id}", alert),
        web.get("/api/stories/{id}", story),
        web.get("/api/articles/{id}", article),
        web.get("/api/facets", facets),
        web.get("/api/digest", digest),
        web.post("/api/review", review),
        web.post("/api/mute", mute),
        web.post("/api/snooze", snooze),
    ]

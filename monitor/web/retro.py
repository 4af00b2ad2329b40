"""``POST /api/retro``: a watchlist run over the archived articles of a date range, from the console.

The watchlist is the daemon's own (the files on disk, edited since the start or not) or a self-contained
YAML file sent in the body (written to a private temporary folder under ``state.dir``, removed when compiled,
never a path the caller names; its problems are told without the server's paths). One
run at a time, on its own thread. With stories on (and no ``"every_mention": true``) the run's articles are
grouped into stories as ``monitor retro`` groups them (``retro_stories``): each result names its story and
its kind there, and only openings and follow-ups are published. With ``"publish": true`` what fired goes
through the outbox as retro alerts (``monitor/retro.py``: never an alert twice, nothing held back sent),
which the daemon's publisher delivers.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from monitor.config import StoriesSettings
from monitor.engine import Engine, WatchlistError, load_engine
from monitor.problems import Problem
from monitor.retro import RetroResult, publish_retro, retro_run
from monitor.retro_stories import in_stories
from monitor.store import DB_NAME, Store
from monitor.stories import StoryBook
from monitor.tagging import story_json
from monitor.web.params import BadRequest, day, flag_field

#: what one answer lists (the counts cover everything)
MAX_SHOWN = 200
MAX_WATCHLIST = 200_000


@dataclass(frozen=True, slots=True)
class RetroSetup:
    """What a retro run needs of the daemon's settings."""

    state_dir: Path
    watchlists: list[Path]
    topic_prefix: str
    max_payload_bytes: int
    #: ``[stories]``: how the run groups its articles, as ``monitor retro`` does
    stories: StoriesSettings = field(default_factory=StoriesSettings)


def _days(doc: dict[str, Any]) -> tuple[date, date | None]:
    if doc.get("since") in (None, ""):
        raise BadRequest("since: required (YYYY-MM-DD)")
    since = day("since", str(doc["since"]))
    until = None if doc.get("until") in (None, "") else day("until", str(doc["until"]))
    if until is not None and until < since:
        raise BadRequest("since: after until")
    return since, until


#: how a pasted watchlist's problems name it (never the temporary file's path)
PASTED = "pasted watchlist"
PASTED_FILE = "retro.yaml"


def _told(problems: list[Problem], folder: Path | None) -> str:
    """The problems as the caller may read them: a file by its name only, the pasted one as ``PASTED``."""
    told = []
    for problem in problems:
        name = PASTED if folder is not None else Path(problem.file).name
        message = problem.message if folder is None else problem.message.replace(str(folder / PASTED_FILE), PASTED)
        told.append(str(replace(problem, file=name, message=message)))
    return "watchlist: " + "; ".join(told)[:2000]


def _engine(setup: RetroSetup, yaml_text: object) -> Engine:
    if yaml_text is None or yaml_text == "":
        try:
            return load_engine(setup.watchlists)
        except WatchlistError as exc:
            raise BadRequest(_told(exc.problems, None)) from None
    if not isinstance(yaml_text, str) or len(yaml_text) > MAX_WATCHLIST:
        raise BadRequest(f"watchlist: YAML text of at most {MAX_WATCHLIST} characters")
    # under state.dir, the one folder the daemon writes (README: Security), not the system's temporary folder
    with tempfile.TemporaryDirectory(prefix="retro-watchlist-", dir=setup.state_dir) as name:
        folder = Path(name)
        (folder / PASTED_FILE).write_text(yaml_text, encoding="utf-8")
        try:
            return load_engine([folder])
        except WatchlistError as exc:
            raise BadRequest(_told(exc.problems, folder)) from None


def _shown(found: RetroResult) -> dict[str, Any]:
    return {
        "article_id": found.article_id,
        "title": found.article.title,
        "source": found.article.source,
        "day": found.day,
        "lang": found.lang,
        "story": story_json(found.placement),
        "rules": [
            {"rule": hit.rule, "title": hit.title, "severity": hit.severity, "novelty": hit.novelty}
            for hit in found.result.rules
        ],
    }


def run(setup: RetroSetup, doc: dict[str, Any]) -> dict[str, Any]:
    """The whole run, on a worker thread: tag, list, and publish when asked."""
    since, until = _days(doc)
    publish = flag_field(doc, "publish", default=False)
    book = None if flag_field(doc, "every_mention", default=False) else StoryBook.from_settings(setup.stories)
    engine = _engine(setup, doc.get("watchlist"))
    articles = [0]

    def counted() -> Iterator[RetroResult]:
        for found in retro_run(setup.state_dir / DB_NAME, engine, since, until):
            articles[0] += 1
            yield found

    found = counted()
    fired = [one for one in found if one.result.rules] if book is None else in_stories(found, book)
    answer: dict[str, Any] = {
        "watchlist_version": engine.version,
        "articles": articles[0],
        "fired": len(fired),
        "alerts": sum(len(found.result.rules) for found in fired),
        "results": [_shown(found) for found in fired[:MAX_SHOWN]],
        "truncated": len(fired) > MAX_SHOWN,
    }
    if publish:
        store = Store.in_dir(setup.state_dir)
        try:
            done = publish_retro(store, fired, engine, setup.topic_prefix, setup.max_payload_bytes)
        finally:
            store.close()
        answer.update(published=done.sent, already_sent=done.already, held=done.held)
    return answer


class Retro:
    def __init__(self, setup: RetroSetup) -> None:
        self.setup = setup
        self._lock = asyncio.Lock()

    async def handle(self, request: web.Request, doc: dict[str, Any]) -> dict[str, Any]:
        if self._lock.locked():
            raise web.HTTPConflict(reason="a retro run is under way; try again when it is done")
        async with self._lock:
            return await asyncio.to_thread(run, self.setup, doc)

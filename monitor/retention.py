"""Keeping the state bounded: history older than ``state.retention_days`` is pruned by itself (off the hot
path, on the store's thread) and the database file shrinks; the outbox is capped at ``state.outbox_max``
by pausing intake, never by dropping a message."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from monitor.history_retention import prune_archive
from monitor.keys import loaded
from monitor.metrics import Metrics
from monitor.sources import ArticleStore
from monitor.store import Store, StoreThread

log = structlog.get_logger("monitor.retention")

#: intake resumes once the outbox is below this share of its cap (not at the first message out: no flapping)
RESUME_AT = 0.9


#: what pruning by age needs (made on first use, whatever layout the database was created with)
RETENTION_INDEXES = """
CREATE INDEX IF NOT EXISTS articles_by_time ON articles (seen_at);
CREATE INDEX IF NOT EXISTS contents_by_time ON contents (processed_at);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (created_at);
CREATE INDEX IF NOT EXISTS errors_by_time ON errors (at);
"""


@dataclass(frozen=True, slots=True)
class Pruned:
    """What one pruning forgot (rows), kept (old article rows whose file is still there) and freed."""

    articles: int
    alerts: int
    contents: int
    errors: int
    #: stories whose last article is dated before the cutoff (their articles' rows go with them)
    stories: int
    kept: int
    bytes_before: int
    bytes_after: int
    #: archived articles and alerts (the console's history) received before the history cutoff
    archived: int = 0
    archived_alerts: int = 0


def prune(
    store: Store,
    cutoff: float,
    still_there: Callable[[str, str], bool],
    batch: int = 5000,
    history_cutoff: float | None = None,
) -> Pruned:
    """Forget the history older than ``cutoff``, then give the freed pages back to the file system.

    An article row whose file is still there at the same version is kept (and its time refreshed): without
    it the file would be read, and alerted, again. Alerts are kept while their article row is (a correction
    still supersedes), contents while an article row names them (a copy is still a duplicate). The outbox
    is never pruned: what waits for the broker is not history. A story goes once its last article is dated
    before the cutoff (the book has long closed it). The history archive has its own cutoff
    (``history_retention.prune_archive``; None: the same)."""
    db = store._db  # the store's upkeep, on its thread, apart from store.py's hot path
    db.executescript(RETENTION_INDEXES)
    before = _db_bytes(db)
    kept = forgotten = 0
    while rows := db.execute(
        "SELECT article_key, version FROM articles WHERE seen_at < ? LIMIT ?", (cutoff, batch)
    ).fetchall():
        here = [key for key, version in rows if still_there(loaded(key), version)]
        away = [key for key, _version in rows if key not in set(here)]
        with store._transaction():
            db.executemany("UPDATE articles SET seen_at = ? WHERE article_key = ?", [(time.time(), k) for k in here])
            db.executemany("DELETE FROM articles WHERE article_key = ?", [(k,) for k in away])
        kept, forgotten = kept + len(here), forgotten + len(away)
    with store._transaction():
        alerts = db.execute(
            "DELETE FROM alerts WHERE created_at < ? AND article_key NOT IN (SELECT article_key FROM articles)",
            (cutoff,),
        ).rowcount
        contents = db.execute(
            "DELETE FROM contents WHERE processed_at < ?"
            " AND sha256 NOT IN (SELECT sha256 FROM articles WHERE sha256 IS NOT NULL)",
            (cutoff,),
        ).rowcount
        errors = db.execute("DELETE FROM errors WHERE at < ?", (cutoff,)).rowcount
        stories = _prune_stories(db, cutoff)
    archived = prune_archive(db, cutoff if history_cutoff is None else history_cutoff, store._transaction)
    _shrink(db)
    return Pruned(forgotten, alerts, contents, errors, stories, kept, before, _db_bytes(db), *archived)


def _prune_stories(db: sqlite3.Connection, cutoff: float) -> int:
    """Inside the caller's transaction; stories' times are ISO (UTC) article dates."""
    horizon = datetime.fromtimestamp(cutoff, UTC).isoformat()
    db.execute(
        "DELETE FROM story_articles WHERE story_id IN (SELECT story_id FROM stories WHERE last_at < ?)", (horizon,)
    )
    return int(db.execute("DELETE FROM stories WHERE last_at < ?", (horizon,)).rowcount)


def _shrink(db: sqlite3.Connection) -> None:
    """Free pages go back to the file system: incremental vacuum (the first time, one VACUUM turns it on,
    since a database made without it cannot start it otherwise), then the WAL is truncated."""
    if int(db.execute("PRAGMA auto_vacuum").fetchone()[0]) != 2:
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        db.execute("VACUUM")
    else:
        db.executescript("PRAGMA incremental_vacuum;")  # executescript: runs it to the end, not one page
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _db_bytes(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA page_count").fetchone()[0]) * int(db.execute("PRAGMA page_size").fetchone()[0])


async def prune_loop(store: StoreThread, source: ArticleStore, days: float, history_days: float | None = None) -> None:
    """Prune now and then (every hour; a twenty-fourth of the shorter retention when that is shorter)."""
    keep_s = days * 86400
    history_s = keep_s if history_days is None else history_days * 86400

    def still_there(key: str, version: str) -> bool:
        return source.version(key) == version

    while True:
        await asyncio.sleep(min(3600.0, max(1.0, min(keep_s, history_s) / 24)))
        now = time.time()
        try:
            pruned = await store.call(prune, now - keep_s, still_there, history_cutoff=now - history_s)
        except sqlite3.Error as exc:
            log.error("pruning old state failed; trying again later", error=str(exc))
            continue
        if any((pruned.articles, pruned.alerts, pruned.contents, pruned.errors, pruned.stories, pruned.archived)):
            log.info(
                "old state pruned",
                retention_days=days,
                articles=pruned.articles,
                alerts=pruned.alerts,
                contents=pruned.contents,
                errors=pruned.errors,
                stories=pruned.stories,
                archived_articles=pruned.archived,
                archived_alerts=pruned.archived_alerts,
                kept_still_in_inbox=pruned.kept,
                bytes_before=pruned.bytes_before,
                bytes_after=pruned.bytes_after,
            )


class OutboxCap:
    """While the outbox holds ``limit`` messages (the broker is away, or refuses), intake pauses: new articles
    wait in the inbox, unread, and everything already in the outbox is kept. Said once when reached and once
    when cleared; ``newsmon_intake_paused`` shows it."""

    def __init__(self, store: StoreThread, limit: int, metrics: Metrics, poll_s: float = 1.0) -> None:
        self.store = store
        self.limit = limit
        self.metrics = metrics
        self.poll_s = poll_s
        self.paused = False

    async def room(self) -> None:
        """Return when there is room for another batch (a batch may take the outbox past the cap)."""
        while True:
            depth = await self.store.call(Store.outbox_depth)
            if depth < (self.limit * RESUME_AT if self.paused else self.limit):
                if self.paused:
                    self._set(paused=False)
                    log.info("outbox below its cap; intake resumes", outbox=depth, outbox_max=self.limit)
                return
            if not self.paused:
                self._set(paused=True)
                log.warning(
                    "outbox full; intake paused, new articles wait in the inbox (nothing is dropped)",
                    outbox=depth,
                    outbox_max=self.limit,
                )
            await asyncio.sleep(self.poll_s)

    def _set(self, *, paused: bool) -> None:
        self.paused = paused
        self.metrics.intake_paused.set(1 if paused else 0)

"""Retro runs: a watchlist (an edited one, or a new file) run over the archived article texts of a date
range, by the same engine path as tagging (the parsed text, read against the day the article was tagged
against). ``retro_run`` only reads; ``publish_retro`` puts what fired in the outbox as retro alerts
(``"retro": true``), recorded in the archive as ``retro-sent`` in the same transaction, so that no alert is
sent twice: an alert already sent, live or by an earlier retro run, is passed over."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from monitor.alerts import Alert, build_alert, encode_alert
from monitor.articles import Article
from monitor.engine import Engine
from monitor.engine.result import TagResult
from monitor.history_schema import alert_row, insert_alerts
from monitor.keys import loaded
from monitor.report import result_json
from monitor.store import Store
from monitor.topics import alert_topic

#: archived articles read per query (the read transaction is not held across the whole run)
CHUNK = 500


@dataclass(frozen=True, slots=True)
class RetroResult:
    """One archived article as the watchlist tags it now."""

    article_id: int
    article: Article
    #: the article's day in the archive (ISO), its outlet and language
    day: str
    lang: str
    result: TagResult

    def json(self, watchlist_version: str) -> dict[str, Any]:
        """The object ``monitor tag --json`` prints for an article, with its archive id."""
        doc = result_json(self.article, self.result, watchlist_version)
        doc["story"] = None  # a retro run groups nothing: the shape of `tag --json` with stories off
        doc["article_id"] = self.article_id
        return doc


def retro_run(history_db: Path, engine: Engine, since: date, until: date | None = None) -> Iterator[RetroResult]:
    """Every archived article of the days ``since`` to ``until`` (inclusive; None: to the newest), tagged by
    ``engine``, in archive order. Read-only: opens its own connection, a chunk at a time."""
    db = sqlite3.connect(f"{history_db.absolute().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        last = 0
        while True:
            rows = db.execute(
                "SELECT article_id, article_key, sha256, title, source, url, published_at, day, tag_day, lang, text"
                " FROM archive_articles WHERE day >= ? AND day <= ? AND article_id > ? ORDER BY article_id LIMIT ?",
                (since.isoformat(), (until or date.max).isoformat(), last, CHUNK),
            ).fetchall()
            if not rows:
                return
            for article_id, key, sha, title, source, url, published, day, tag_day, lang, text in rows:
                article = Article(loaded(key), sha, title, text or title, url, published, source)
                tagged_on = None if tag_day is None else date.fromisoformat(tag_day)
                yield RetroResult(article_id, article, day, lang, engine.tag(article.text, published=tagged_on))
            last = rows[-1][0]
    finally:
        db.close()


@dataclass(frozen=True, slots=True)
class RetroSent:
    """What ``publish_retro`` put in the outbox, and what it passed over as sent before."""

    sent: int
    already: int


def retro_alerts(found: RetroResult, engine: Engine, topic_prefix: str) -> list[tuple[Alert, str]]:
    """The alerts an article's retro result makes (``"retro": true``, no story), with their topics."""
    return [
        (
            build_alert(found.article, found.result, hit, watchlist_version=engine.version).model_copy(
                update={"retro": True}
            ),
            alert_topic(topic_prefix, hit.rule, hit.topic_suffix),
        )
        for hit in found.result.rules
    ]


def publish_retro(
    store: Store, results: Iterable[RetroResult], engine: Engine, topic_prefix: str, max_bytes: int
) -> RetroSent:
    """Put the alerts of ``results`` in the outbox as retro alerts, a chunk per transaction (the store's
    upkeep, as pruning is)."""
    sent = already = 0
    batch: list[tuple[RetroResult, Alert, str]] = []
    for found in results:
        batch.extend((found, alert, topic) for alert, topic in retro_alerts(found, engine, topic_prefix))
        if len(batch) >= CHUNK:
            counts = _enqueue(store, batch, max_bytes)
            sent, already, batch = sent + counts[0], already + counts[1], []
    counts = _enqueue(store, batch, max_bytes)
    return RetroSent(sent + counts[0], already + counts[1])


def _enqueue(store: Store, batch: list[tuple[RetroResult, Alert, str]], max_bytes: int) -> tuple[int, int]:
    if not batch:
        return 0, 0
    db, now, sent = store._db, time.time(), 0
    with store._transaction():
        for found, alert, topic in batch:
            if db.execute(
                "SELECT 1 FROM archive_alerts WHERE alert_id = ? AND delivery IN ('sent', 'retro-sent')", (alert.id,)
            ).fetchone():
                continue
            payload = encode_alert(alert, max_bytes)
            db.execute(
                "DELETE FROM archive_payloads WHERE seq IN"
                " (SELECT seq FROM archive_alerts WHERE alert_id = ? AND retro = 1)",
                (alert.id,),
            )
            db.execute("DELETE FROM archive_alerts WHERE alert_id = ? AND retro = 1", (alert.id,))
            db.execute(
                "INSERT INTO outbox (message_id, topic, payload, created_at) VALUES (?, ?, ?, ?)",
                (alert.id, topic, payload, now),
            )
            row = alert_row(
                alert.id,
                payload,
                json.loads(payload),
                found.article_id,
                "retro-sent",
                found.day,
                found.article.source,
                found.lang,
                now,
            )
            insert_alerts(db, [row])
            sent += 1
    return sent, len(batch) - sent

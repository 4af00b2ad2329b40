"""Retro runs: a watchlist (an edited one, or a new file) run over the archived article texts of a date
range, by the same engine path as tagging (the parsed text, read against the day the article was tagged
against). ``retro_run`` only reads; ``publish_retro`` puts what fired in the outbox as retro alerts
(``"retro": true``), recorded in the archive as ``retro-sent`` in the same transaction, so that no alert is
sent twice: an alert already sent, live or by an earlier retro run, is passed over. An alert the live
daemon archived and held back (snoozed, muted, silent in its story) was decided live and is not published
either, nor one that review state holds now (a snoozed rule, a muted story) or that the run's own story
grouping (``retro_stories``) finds silent."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from monitor.alerts import Alert, build_alert, encode_alert, story_info
from monitor.articles import Article
from monitor.engine import Engine
from monitor.engine.result import TagResult
from monitor.history_schema import Holds, alert_row, current_holds, insert_alerts
from monitor.keys import loaded
from monitor.report import result_json
from monitor.store import Store
from monitor.story_features import TextFeatures
from monitor.story_model import Placement
from monitor.tagging import story_json
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
    #: the article's own date (else when it was received): the order stories are grouped in
    at: datetime
    #: the story the live daemon placed it in
    live_story: str | None = None
    #: alert id -> how the live daemon archived it (sent, snoozed, muted; silent: held by its story)
    live: Mapping[str, str] = field(default_factory=dict)
    #: its story in the run's own grouping (None: stories off, or it names no entity)
    placement: Placement | None = None
    #: what story grouping reads of its text, as archived (None: not archived, read from the text)
    story_text: TextFeatures | None = None

    def json(self, watchlist_version: str) -> dict[str, Any]:
        """The object ``monitor tag --json`` prints for an article, with its archive id."""
        doc = result_json(self.article, self.result, watchlist_version)
        doc["story"] = story_json(self.placement)  # null with stories off, as `tag --json`
        doc["article_id"] = self.article_id
        return doc


def retro_run(history_db: Path, engine: Engine, since: date, until: date | None = None) -> Iterator[RetroResult]:
    """Every archived article of the days ``since`` to ``until`` (inclusive; None: to the newest), tagged by
    ``engine``, in archive order. Read-only: opens its own connection, a chunk at a time."""
    db = sqlite3.connect(f"{history_db.absolute().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        last = 0
        features = _FEATURES if _has_table(db, "archive_story_text") else _NO_FEATURES  # layout 4: none kept
        while True:
            rows = db.execute(
                "SELECT a.article_id, article_key, sha256, title, source, url, published_at, day, tag_day, lang, text,"
                f" received_at, story_id, held, {features}"
                " WHERE day >= ? AND day <= ? AND a.article_id > ? ORDER BY a.article_id LIMIT ?",
                (since.isoformat(), (until or date.max).isoformat(), last, CHUNK),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _tagged(db, engine, row)
            last = rows[-1][0]
    finally:
        db.close()


#: the archived story features beside each article (none in a layout 4 database, not yet migrated)
_FEATURES = "f.signature, f.words, f.weekday FROM archive_articles a LEFT JOIN archive_story_text f USING (article_id)"
_NO_FEATURES = "NULL, NULL, NULL FROM archive_articles a"


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _text_features(signature: bytes | None, words: str | None, weekday: int | None) -> TextFeatures | None:
    if signature is None or words is None:
        return None
    return TextFeatures(bytes(signature), frozenset(json.loads(words)), weekday)


def _tagged(db: sqlite3.Connection, engine: Engine, row: tuple[Any, ...]) -> RetroResult:
    article_id, key, sha, title, source, url, published, day, tag_day, lang, text, received, story, held = row[:14]
    article = Article(loaded(key), sha, title, text or title, url, published, source)
    tagged_on = None if tag_day is None else date.fromisoformat(tag_day)
    result = engine.tag(article.text, published=tagged_on)
    live: dict[str, str] = {}
    if result.rules:
        docs = json.loads(held or "[]")
        live.update((doc["id"], "silent") for doc in docs if isinstance(doc, dict) and isinstance(doc.get("id"), str))
        live.update(
            db.execute(
                "SELECT alert_id, delivery FROM archive_alerts WHERE article_id = ? AND retro = 0", (article_id,)
            )
        )
    at = _when(published, received)
    features = _text_features(*row[14:]) if text else None  # the title alone: read from it, as before
    return RetroResult(article_id, article, day, lang, result, at, story, live, story_text=features)


def _when(published: str | None, received: float) -> datetime:
    try:
        when = datetime.fromisoformat(published or "")
    except ValueError:
        return datetime.fromtimestamp(received, UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def review_holds(history_db: Path) -> Holds:
    """The mutes and snoozes in force now, read-only (what a run shows as held)."""
    db = sqlite3.connect(f"{history_db.absolute().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return current_holds(db, time.time())
    finally:
        db.close()


def held(found: RetroResult, alert_id: str, rule: str, holds: Holds) -> str | None:
    """Why an alert of a retro run is not published (None: it is): ``sent live``, ``held live: <delivery>``
    (decided by the live daemon), ``silent`` (the run's story grouping), ``snoozed``, ``muted``."""
    live = found.live.get(alert_id)
    if live == "sent":
        return "sent live"
    if live is not None:
        return f"held live: {live}"
    if found.placement is not None and found.placement.kind == "silent":
        return "silent"
    if rule in holds.snoozed:
        return "snoozed"
    story = None if found.placement is None else found.placement.story.id
    if {found.live_story, story} & holds.muted:
        return "muted"
    return None


@dataclass(frozen=True, slots=True)
class RetroSent:
    """What ``publish_retro`` put in the outbox, what it passed over as sent before (live or by a retro
    run), and what it held back (``held``)."""

    sent: int
    already: int
    held: int = 0


def retro_alerts(found: RetroResult, engine: Engine, topic_prefix: str) -> list[tuple[Alert, str]]:
    """The alerts an article's retro result makes (``"retro": true``, its story in the run's grouping),
    with their topics."""
    info = None if found.placement is None or found.placement.kind == "silent" else story_info(found.placement)
    return [
        (
            build_alert(found.article, found.result, hit, watchlist_version=engine.version).model_copy(
                update={"retro": True, "story": info}
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
    counts = [0, 0, 0]
    batch: list[tuple[RetroResult, Alert, str]] = []
    for found in results:
        batch.extend((found, alert, topic) for alert, topic in retro_alerts(found, engine, topic_prefix))
        if len(batch) >= CHUNK:
            counts, batch = [a + b for a, b in zip(counts, _enqueue(store, batch, max_bytes), strict=True)], []
    counts = [a + b for a, b in zip(counts, _enqueue(store, batch, max_bytes), strict=True)]
    return RetroSent(*counts)


def _enqueue(store: Store, batch: list[tuple[RetroResult, Alert, str]], max_bytes: int) -> tuple[int, int, int]:
    """(queued, sent before, held back), the review state read in the same transaction."""
    if not batch:
        return 0, 0, 0
    db, now, sent, kept = store._db, time.time(), 0, 0
    with store._transaction():
        holds = current_holds(db, now)
        for found, alert, topic in batch:
            deliveries = {
                row[0] for row in db.execute("SELECT delivery FROM archive_alerts WHERE alert_id = ?", (alert.id,))
            }
            if deliveries & {"sent", "retro-sent"}:
                continue
            live = dict(found.live)
            live.update((alert.id, d) for d in deliveries if d != "retro")  # archived live since the run read it
            if held(replace(found, live=live), alert.id, alert.rule.id, holds) is not None:
                kept += 1
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
    return sent, len(batch) - sent - kept, kept

"""The archive's tables (state database layouts 4 and 5) and its write side: each freshly processed article, its
alerts with their payloads as published, and its words for full-text search, written inside
``Store.commit``'s transaction, so that nothing is published that the archive does not have. Review state
(muted stories, snoozed rules) is read in that same transaction and decides which alerts go out."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.keys import stored
from monitor.story_features import TextFeatures

#: the archive and review tables (layout 4); also what earlier layouts gain when migrated
HISTORY_SCHEMA = """
CREATE TABLE archive_articles (
    article_id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL UNIQUE,
    article_key TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT,
    url TEXT,
    lang TEXT NOT NULL,            -- hi | en | mixed
    published_at TEXT,             -- ISO, the article's own date
    day TEXT NOT NULL,             -- its own calendar day (as it wrote it), else the day it was received (UTC)
    tag_day TEXT,                  -- the day the engine read its text against (NULL: none known)
    received_at REAL NOT NULL,
    text TEXT NOT NULL,            -- empty with [history] keep_text = false
    story_id TEXT,
    story_kind TEXT,               -- opening | follow-up | silent | NULL (in no story)
    story_adds TEXT NOT NULL,      -- JSON list: what a follow-up added
    held TEXT NOT NULL             -- JSON list: the alerts of a silent article, as built (never sent)
);
CREATE INDEX archive_articles_by_day ON archive_articles (day);
CREATE INDEX archive_articles_by_story ON archive_articles (story_id);
CREATE INDEX archive_articles_by_time ON archive_articles (received_at);
CREATE TABLE archive_alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    article_id INTEGER NOT NULL,
    rule TEXT NOT NULL,
    rule_title TEXT NOT NULL,
    severity TEXT NOT NULL,
    novelty TEXT NOT NULL,
    story_id TEXT,
    story_kind TEXT,               -- new | follow-up | NULL
    story_outlets INTEGER NOT NULL,
    delivery TEXT NOT NULL,        -- sent | snoozed | muted | retro | retro-sent
    retro INTEGER NOT NULL,
    reviewed INTEGER NOT NULL DEFAULT 0,
    day TEXT NOT NULL,             -- the article's day, source and language, for filters without a join
    source TEXT,
    lang TEXT NOT NULL,
    created_at REAL NOT NULL
);
-- the alert JSON as published (or as built, when not sent): apart, so that the alert rows stay small and
-- counting and filtering them reads few pages
CREATE TABLE archive_payloads (
    seq INTEGER PRIMARY KEY,
    payload TEXT NOT NULL
);
CREATE UNIQUE INDEX archive_alerts_by_id ON archive_alerts (alert_id, retro);
CREATE INDEX archive_alerts_by_article ON archive_alerts (article_id, retro, seq);  -- covers a search's join
-- one per filter, led by retro (every query names it) and ending in seq: a filter's count reads its index
-- alone, and its newest page walks it backwards
CREATE INDEX archive_alerts_by_seq ON archive_alerts (retro, seq);
CREATE INDEX archive_alerts_by_rule ON archive_alerts (retro, rule, seq);
CREATE INDEX archive_alerts_by_severity ON archive_alerts (retro, severity, seq);
CREATE INDEX archive_alerts_by_novelty ON archive_alerts (retro, novelty, seq);
CREATE INDEX archive_alerts_by_source ON archive_alerts (retro, source, seq);
CREATE INDEX archive_alerts_by_lang ON archive_alerts (retro, lang, day, seq);
CREATE INDEX archive_alerts_by_day ON archive_alerts (retro, day, seq);
CREATE INDEX archive_alerts_by_reviewed ON archive_alerts (retro, reviewed, seq);
CREATE INDEX archive_alerts_by_story ON archive_alerts (story_id);
CREATE TABLE archive_entities (
    entity TEXT NOT NULL,
    article_id INTEGER NOT NULL,
    PRIMARY KEY (entity, article_id)
) WITHOUT ROWID;
CREATE INDEX archive_entities_by_article ON archive_entities (article_id);
CREATE VIRTUAL TABLE archive_fts USING fts5 (
    title, text, tokenize = "unicode61 categories 'L* N* Co M*'", detail = column
);
-- the values present, per filter (rule, severity, novelty, source, lang, entity): the console's menus in one
-- small read, added to as alerts are archived, rebuilt when pruning
CREATE TABLE archive_facets (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, value)
) WITHOUT ROWID;
CREATE TABLE review_stories (
    story_id TEXT PRIMARY KEY,
    reviewed INTEGER NOT NULL DEFAULT 0,
    muted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE review_snoozes (
    rule TEXT PRIMARY KEY,
    until REAL NOT NULL
);
-- every review change: who, when, what (the tables above hold the state it led to)
CREATE TABLE review_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,          -- reviewed | unreviewed | muted | unmuted | snoozed | unsnoozed
    kind TEXT NOT NULL,            -- alert | story | rule
    target TEXT NOT NULL,
    until REAL,
    by TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX review_log_by_target ON review_log (kind, target);
"""

#: what story grouping reads of an archived article's text (layout 5; ``story_features.TextFeatures``), kept
#: when stories are on and the text is kept: a retro run groups its articles without reading their texts
#: again (the MinHash signature and the word skeletons cost more than tagging)
ARCHIVE_TEXT_SCHEMA = """
CREATE TABLE archive_story_text (
    article_id INTEGER PRIMARY KEY,
    signature BLOB NOT NULL,
    words TEXT NOT NULL,           -- JSON list
    weekday INTEGER                -- the first weekday the text names (Monday = 0), NULL: none
);
"""


@dataclass(frozen=True, slots=True)
class ArchivedAlert:
    alert_id: str
    #: the alert JSON: as published when it goes out, as built otherwise
    payload: bytes


@dataclass(frozen=True, slots=True)
class ArchiveRecord:
    """What the archive keeps of one freshly processed article (built on the store thread)."""

    title: str
    source: str | None
    url: str | None
    lang: str
    published_at: str | None
    #: the article's own calendar day (ISO; what the engine read its time cues against), None: unknown
    day: str | None
    #: the parsed text (empty with keep_text off), and title and text as the search index holds them
    text: str
    search_title: str
    search_text: str
    story_id: str | None = None
    #: opening | follow-up | silent | None
    story_kind: str | None = None
    story_adds: tuple[str, ...] = ()
    #: the entity ids the engine found in it (alerted or not)
    entities: tuple[str, ...] = ()
    #: the article's alerts: those that go out (muting and snoozing permitting), or, silent, those held back
    alerts: tuple[ArchivedAlert, ...] = ()
    #: what story grouping read of its text (None: stories off, or the text is not kept)
    story_text: TextFeatures | None = None


@dataclass(frozen=True, slots=True)
class Holds:
    """Review state that keeps alerts from the outbox, read once per commit."""

    muted: frozenset[str]
    snoozed: frozenset[str]


def current_holds(db: sqlite3.Connection, now: float) -> Holds:
    muted = frozenset(row[0] for row in db.execute("SELECT story_id FROM review_stories WHERE muted = 1"))
    snoozed = frozenset(row[0] for row in db.execute("SELECT rule FROM review_snoozes WHERE until > ?", (now,)))
    return Holds(muted, snoozed)


def archive_article(
    db: sqlite3.Connection, key: str, sha256: str, record: ArchiveRecord, holds: Holds, now: float
) -> frozenset[str]:
    """Inside the caller's transaction: archive the article and its alerts; the ids of the alerts that
    review state holds back (a muted story's follow-ups, a snoozed rule's alerts: not to be enqueued)."""
    day = record.day or datetime.fromtimestamp(now, UTC).date().isoformat()
    silent = record.story_kind == "silent"
    held_json = [json.loads(alert.payload) for alert in record.alerts] if silent else []
    cursor = db.execute(
        "INSERT INTO archive_articles (sha256, article_key, title, source, url, lang, published_at, day, tag_day,"
        " received_at, text, story_id, story_kind, story_adds, held)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (sha256) DO NOTHING",
        (
            sha256,
            stored(key),
            record.title,
            record.source,
            record.url,
            record.lang,
            record.published_at,
            day,
            record.day,
            now,
            record.text,
            record.story_id,
            record.story_kind,
            json.dumps(list(record.story_adds), ensure_ascii=False),
            json.dumps(held_json, ensure_ascii=False),
        ),
    )
    if cursor.rowcount != 1 or cursor.lastrowid is None:
        return frozenset()  # archived before (a state rebuilt from scratch sees its articles again)
    article_id = cursor.lastrowid
    db.execute(
        "INSERT INTO archive_fts (rowid, title, text) VALUES (?, ?, ?)",
        (article_id, record.search_title, record.search_text),
    )
    if record.story_text is not None:
        features = record.story_text
        words = json.dumps(sorted(features.words), ensure_ascii=False)
        db.execute(
            "INSERT INTO archive_story_text VALUES (?, ?, ?, ?)",
            (article_id, features.signature, words, features.weekday),
        )
    entities = set(record.entities)
    db.executemany(
        "INSERT OR IGNORE INTO archive_entities (entity, article_id) VALUES (?, ?)",
        [(entity, article_id) for entity in entities],
    )
    db.executemany("INSERT OR IGNORE INTO archive_facets (name, value) VALUES ('entity', ?)", [(e,) for e in entities])
    if silent:
        return frozenset()
    docs = [json.loads(alert.payload) for alert in record.alerts]
    held: set[str] = set()
    rows = []
    for alert, doc in zip(record.alerts, docs, strict=True):
        delivery = _delivery(doc, record.story_id, holds)
        if delivery != "sent":
            held.add(alert.alert_id)
        rows.append(_alert_row(alert, doc, article_id, delivery, day, record, now))
    insert_alerts(db, rows)
    return frozenset(held)


def _delivery(doc: dict[str, object], story_id: str | None, holds: Holds) -> str:
    story = doc.get("story")
    follow_up = isinstance(story, dict) and story.get("kind") == "follow-up"
    if follow_up and story_id in holds.muted:
        return "muted"
    rule = doc.get("rule")
    if isinstance(rule, dict) and rule.get("id") in holds.snoozed:
        return "snoozed"
    return "sent"


AlertRow = tuple[object, ...]


def _alert_row(
    alert: ArchivedAlert,
    doc: dict[str, object],
    article_id: int,
    delivery: str,
    day: str,
    record: ArchiveRecord,
    now: float,
) -> AlertRow:
    return alert_row(alert.alert_id, alert.payload, doc, article_id, delivery, day, record.source, record.lang, now)


def alert_row(
    alert_id: str,
    payload: bytes,
    doc: dict[str, object],
    article_id: int,
    delivery: str,
    day: str,
    source: str | None,
    lang: str,
    now: float,
) -> AlertRow:
    """One archive_alerts row from an alert's JSON (shared with retro runs)."""
    rule = doc["rule"]
    story = doc.get("story")
    assert isinstance(rule, dict)
    story_info = story if isinstance(story, dict) else {}
    outlets = story_info.get("outlets")
    return (
        alert_id,
        article_id,
        rule["id"],
        rule["title"],
        rule["severity"],
        doc.get("novelty", "new"),
        story_info.get("id"),
        story_info.get("kind"),
        len(outlets) if isinstance(outlets, list) and outlets else 1,
        delivery,
        int(delivery.startswith("retro")),
        day,
        source,
        lang,
        payload.decode(),
        now,
    )


def insert_alerts(db: sqlite3.Connection, rows: Iterable[AlertRow]) -> None:
    """Each alert row, and its payload under the sequence number it got (an alert archived before: neither)."""
    for row in rows:
        *columns, payload, created = row
        cursor = db.execute(
            "INSERT OR IGNORE INTO archive_alerts (alert_id, article_id, rule, rule_title, severity, novelty, story_id,"
            " story_kind, story_outlets, delivery, retro, day, source, lang, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*columns, created),
        )
        if cursor.rowcount == 1:
            db.execute("INSERT INTO archive_payloads (seq, payload) VALUES (?, ?)", (cursor.lastrowid, payload))
            rule, _title, severity, novelty = columns[2:6]
            source, lang = columns[12:14]
            add_facets(db, rule=rule, severity=severity, novelty=novelty, source=source, lang=lang)


def add_facets(db: sqlite3.Connection, **values: object) -> None:
    db.executemany(
        "INSERT OR IGNORE INTO archive_facets (name, value) VALUES (?, ?)",
        [(name, str(value)) for name, value in values.items() if value is not None],
    )


#: the facets as the tables have them (after pruning, values no alert has any more are gone)
REBUILD_FACETS = """
DELETE FROM archive_facets;
INSERT INTO archive_facets SELECT 'rule', rule FROM archive_alerts GROUP BY rule;
INSERT INTO archive_facets SELECT 'severity', severity FROM archive_alerts GROUP BY severity;
INSERT INTO archive_facets SELECT 'novelty', novelty FROM archive_alerts GROUP BY novelty;
INSERT INTO archive_facets SELECT 'source', source FROM archive_alerts WHERE source IS NOT NULL GROUP BY source;
INSERT INTO archive_facets SELECT 'lang', lang FROM archive_alerts GROUP BY lang;
INSERT INTO archive_facets SELECT 'entity', entity FROM archive_entities GROUP BY entity;
"""

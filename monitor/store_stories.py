"""Story state in the SQLite store (layout 3): a story's row is rewritten with each article it gains, in the
transaction that commits that article and its outbox messages, so the state and the alerts it decided
never part (a kill -9 cannot produce a second opening alert for a story). On start the open stories of
the window are read back into a ``StoryBook``, signatures included."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from json.encoder import encode_basestring, encode_basestring_ascii

from monitor.engine.result import Novelty
from monitor.stories import StoryBook
from monitor.story_features import StoryArticle
from monitor.story_model import Story

#: the story tables (layout 3); also what layout 2 gains when migrated
STORY_SCHEMA = """
CREATE TABLE stories (
    story_id TEXT PRIMARY KEY,
    opened_at TEXT NOT NULL,       -- ISO times, the articles' own dates
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    articles INTEGER NOT NULL,
    outlets TEXT NOT NULL,         -- JSON lists
    entities TEXT NOT NULL,
    terms TEXT NOT NULL,
    rules TEXT NOT NULL,           -- JSON object: rule -> best novelty
    alerted INTEGER NOT NULL,
    words TEXT NOT NULL            -- JSON list of word skeletons
);
CREATE INDEX stories_by_last_at ON stories (last_at);
CREATE TABLE story_articles (
    sha256 TEXT PRIMARY KEY,
    story_id TEXT NOT NULL,
    at TEXT NOT NULL,
    outlet TEXT NOT NULL,
    entities TEXT NOT NULL,
    terms TEXT NOT NULL,
    rules TEXT NOT NULL,           -- JSON list of [rule, novelty]
    signature BLOB NOT NULL,
    words TEXT NOT NULL
);
CREATE INDEX story_articles_by_story ON story_articles (story_id);
"""


@dataclass(frozen=True, slots=True)
class StoryRecord:
    """What one article changed: its story's new state and its own membership."""

    story: Story
    article: StoryArticle


@lru_cache(maxsize=4096)
def _listed(items: frozenset[str]) -> str:
    """A set as a sorted JSON list, remembered: a story's row is rewritten with each article it gains, and a
    long story's terms (hundreds) mostly gain nothing (the book then keeps the same set object)."""
    return _json_strings(sorted(items))


def _json_strings(items: Iterable[str], ascii_only: bool = False) -> str:
    """``json.dumps`` of a list of strings, the same text: without the encoder object ``dumps`` builds for
    each call with an argument (six calls an article)."""
    quoted = encode_basestring_ascii if ascii_only else encode_basestring
    return "[" + ", ".join(map(quoted, items)) + "]"


def _json_rules(rules: dict[str, Novelty]) -> str:
    """``json.dumps`` of a story's rules (rule -> novelty), the same text."""
    quoted = encode_basestring_ascii
    return "{" + ", ".join(f"{quoted(rule)}: {quoted(novelty)}" for rule, novelty in rules.items()) + "}"


def save_story(db: sqlite3.Connection, record: StoryRecord) -> None:
    """Inside the caller's transaction."""
    story, art = record.story, record.article
    db.execute(
        "INSERT OR REPLACE INTO stories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            story.id,
            story.opened_at.isoformat(),
            story.first_at.isoformat(),
            story.last_at.isoformat(),
            story.articles,
            _listed(story.outlets),
            _listed(story.entities),
            _listed(story.terms),
            _json_rules(story.rules),
            int(story.alerted),
            _listed(story.words),
        ),
    )
    db.execute(
        "INSERT OR REPLACE INTO story_articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            art.key,
            story.id,
            art.at.isoformat(),
            art.outlet,
            _json_strings(sorted(art.entities), ascii_only=True),
            _json_strings(sorted(art.terms)),
            "[" + ", ".join(_json_strings(pair, ascii_only=True) for pair in art.rules) + "]",
            art.signature,
            _json_strings(sorted(art.words)),
        ),
    )


def load_stories(db: sqlite3.Connection, book: StoryBook) -> int:
    """Read into ``book`` the stories open in the window before the newest article, and those of the
    book's last ``keep_placements`` articles (arrival order: a late feed's copies find their originals);
    how many."""
    (newest,) = db.execute("SELECT max(last_at) FROM stories").fetchone()
    if newest is None:
        return 0
    horizon = (datetime.fromisoformat(newest) - book.window - timedelta(seconds=1)).isoformat()
    rows = db.execute(
        "SELECT * FROM stories WHERE last_at >= ? OR story_id IN"
        " (SELECT story_id FROM story_articles ORDER BY rowid DESC LIMIT ?)",  # rowid: the order they came in
        (horizon, book.keep_placements),
    ).fetchall()
    for sid, opened, first, last, articles, outlets, entities, terms, rules, alerted, words in rows:
        story = Story(
            sid,
            datetime.fromisoformat(opened),
            datetime.fromisoformat(first),
            datetime.fromisoformat(last),
            articles=int(articles),
            outlets=frozenset(json.loads(outlets)),
            entities=frozenset(json.loads(entities)),
            terms=frozenset(json.loads(terms)),
            rules=dict(json.loads(rules)),
            alerted=bool(alerted),
            words=frozenset(json.loads(words)),
        )
        members = [
            _member(row)
            for row in db.execute(
                "SELECT sha256, at, outlet, entities, terms, rules, signature, words FROM story_articles"
                " WHERE story_id = ?",
                (sid,),
            )
        ]
        book.restore(story, members)
    return len(rows)


def _member(row: tuple[str, str, str, str, str, str, bytes, str]) -> StoryArticle:
    key, at, outlet, entities, terms, rules, signature, words = row
    pairs: list[tuple[str, Novelty]] = [(str(rule), novelty) for rule, novelty in json.loads(rules)]
    return StoryArticle(
        key=key,
        at=datetime.fromisoformat(at),
        outlet=outlet,
        entities=frozenset(json.loads(entities)),
        rules=tuple(pairs),
        terms=frozenset(json.loads(terms)),
        signature=bytes(signature),
        words=frozenset(json.loads(words)),
    )

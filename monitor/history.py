"""The read and review side of the history archive (``history_schema`` writes it, inside ``Store.commit``):
alerts with filters and full-text search, paged newest first by sequence number; what came after a
sequence number (the console's live stream); stories, articles, facets and the daily digest; review state.

Each ``History`` opens its own connection to the state database (WAL: readers run beside the daemon's
writer); one instance per thread."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from monitor import history_review, history_stories
from monitor.history_query import ALERT_COLUMNS, ALERT_TABLES, MATCHES_TABLE, alert_conditions
from monitor.history_search import live_search
from monitor.history_stories import StoryNow
from monitor.history_text import match_expression
from monitor.keys import loaded
from monitor.store import SCHEMA_VERSION, Store

#: the most alerts one page holds
MAX_LIMIT = 200
#: a page's total is counted up to this many matches (``AlertPage.total_capped``): counting every one of
#: a common word's 20,000 matches would cost more than the page itself
COUNT_CAP = 2000


@dataclass(frozen=True, slots=True)
class AlertQuery:
    text: str = ""
    rule: str | None = None
    severity: str | None = None
    novelty: str | None = None
    entity: str | None = None
    source: str | None = None
    lang: str | None = None
    #: the article's day (published day, else received day), inclusive
    since: date | None = None
    until: date | None = None
    reviewed: bool | None = None
    story: str | None = None
    #: False: live alerts only; True: retro only; None: both
    retro: bool | None = False
    #: True: only alerts that went to the broker (``DELIVERED``); False: only those held back; None: all
    delivered: bool | None = None
    #: paging: only alerts with seq < before (newest first)
    before: int | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class AlertEntry:
    seq: int
    alert_id: str
    rule: str
    rule_title: str
    severity: str
    novelty: str
    story_id: str | None
    story_kind: str | None
    story_outlets: int
    article_id: int
    title: str
    source: str | None
    url: str | None
    lang: str
    published_at: str | None
    received_at: float
    delivery: str
    reviewed: bool
    payload: dict[str, Any]
    #: the alert's story as it stands now (None: in no story, or not looked up)
    story_now: StoryNow | None = None
    #: ``payload`` as archived (JSON text): the event stream sends it as it is (not part of the record's JSON)
    payload_json: str = dataclasses.field(default="", repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class AlertPage:
    entries: list[AlertEntry]
    next_before: int | None
    #: matches of the query over all pages, counted up to ``COUNT_CAP``
    total: int
    #: there are more than ``total`` matches
    total_capped: bool = False


@dataclass(frozen=True, slots=True)
class StoryArticleEntry:
    article_id: int
    title: str
    source: str | None
    url: str | None
    lang: str
    published_at: str | None
    received_at: float
    #: opening | follow-up | silent (joined, no alert)
    kind: str
    adds: list[str]
    alerts: list[AlertEntry]


@dataclass(frozen=True, slots=True)
class StoryEntry:
    id: str
    opened_at: str
    first_seen: float
    last_seen: float
    outlets: list[str]
    languages: list[str]
    rules: list[str]
    muted: bool
    reviewed: bool
    articles: list[StoryArticleEntry]


@dataclass(frozen=True, slots=True)
class ArticleEntry:
    article_id: int
    key: str
    title: str
    source: str | None
    url: str | None
    lang: str
    published_at: str | None
    received_at: float
    text: str
    story_id: str | None
    alerts: list[AlertEntry]


@dataclass(frozen=True, slots=True)
class DigestStory:
    story_id: str | None
    rule: str
    rule_title: str
    severity: str
    novelty: str
    articles: int
    outlets: int
    opening: AlertEntry


@dataclass(frozen=True, slots=True)
class Digest:
    day: date
    alerts: int
    stories: int
    #: rule id -> stories, most severe first
    by_rule: dict[str, list[DigestStory]]


def entry(row: tuple[Any, ...], parse: bool = True) -> AlertEntry:
    """An AlertEntry from a row of ``ALERT_COLUMNS``; ``parse`` False leaves ``payload`` empty beside its
    archived text ``payload_json`` (what the event stream sends as it is)."""
    (seq, alert_id, rule, title, severity, novelty, story_id, story_kind, outlets, article_id) = row[:10]
    (art_title, source, url, lang, published, received, delivery, reviewed, payload) = row[10:]
    return AlertEntry(
        seq=int(seq),
        alert_id=alert_id,
        rule=rule,
        rule_title=title,
        severity=severity,
        novelty=novelty,
        story_id=story_id,
        story_kind=story_kind,
        story_outlets=int(outlets),
        article_id=int(article_id),
        title=art_title,
        source=source,
        url=url,
        lang=lang,
        published_at=published,
        received_at=float(received),
        delivery=delivery,
        reviewed=bool(reviewed),
        payload=json.loads(payload) if parse else {},
        payload_json=payload,
    )


_SELECT = f"SELECT {ALERT_COLUMNS} FROM {ALERT_TABLES}"


class History:
    """Read and review side of the archive; one connection per instance (not shared across threads)."""

    def __init__(self, db_path: Path) -> None:
        self._db = sqlite3.connect(db_path, isolation_level=None, timeout=30)
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version < SCHEMA_VERSION:  # a database of an older daemon, or none yet: bring it to this layout
            Store(db_path).close()
        self._db.execute("PRAGMA busy_timeout = 30000")
        # filters and counts read many small rows: a larger cache and memory-mapped reads keep them off the disk
        self._db.execute("PRAGMA cache_size = -32768")
        self._db.execute("PRAGMA mmap_size = 268435456")

    def close(self) -> None:
        self._db.close()

    # -- alerts -------------------------------------------------------------------------------

    def alerts(self, query: AlertQuery) -> AlertPage:
        """Newest first; ``next_before`` pages on by sequence number (stable while new alerts arrive)."""
        limit = max(1, min(query.limit, MAX_LIMIT))
        if query.retro is False and match_expression(query.text) is not None:
            seqs, total = live_search(self._db, query, limit, COUNT_CAP)
        else:
            seqs, total = self._page(query, limit)
        marks = ",".join("?" * len(seqs[:limit]))
        rows = self._db.execute(f"{_SELECT} WHERE a.seq IN ({marks}) ORDER BY a.seq DESC", seqs[:limit]).fetchall()
        entries = self._with_story_now([entry(row) for row in rows])
        more = len(seqs) > limit
        capped = total > COUNT_CAP
        return AlertPage(entries, entries[-1].seq if more and entries else None, min(total, COUNT_CAP), capped)

    def _page(self, query: AlertQuery, limit: int) -> tuple[list[int], int]:
        """The page's sequence numbers (one more than ``limit``: a next page) and the count, up to the cap,
        of a query that is no live search (a retro search finds its matches once, for both)."""
        matched = self._match(query.text)
        where, params = alert_conditions(query, matches_table=matched)
        paged = list(params)
        page_where = where
        if query.before is not None:
            page_where = f"{where} AND {'+' if query.text.strip() else ''}a.seq < ?"  # as alert_conditions says
            paged.append(query.before)
        # the page's sequence numbers from the small alert rows first, then only those alerts' articles and
        # payloads (joining every match's article before the LIMIT would read each matching article's text)
        page_sql = f"SELECT a.seq FROM archive_alerts a WHERE {page_where} ORDER BY a.seq DESC LIMIT ?"
        seqs = [int(row[0]) for row in self._db.execute(page_sql, (*paged, limit + 1))]
        (total,) = self._db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM archive_alerts a WHERE {where} LIMIT ?)", (*params, COUNT_CAP + 1)
        ).fetchone()
        return seqs, int(total)

    def _match(self, text: str) -> bool:
        """The articles a search's words match, into this connection's ``MATCHES_TABLE`` (False: no words)."""
        expression = match_expression(text) if text.strip() else None
        if expression is None:
            return False
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {MATCHES_TABLE} (article_id INTEGER PRIMARY KEY)")
        self._db.execute(f"DELETE FROM {MATCHES_TABLE}")
        self._db.execute(
            f"INSERT INTO {MATCHES_TABLE} SELECT rowid FROM archive_fts WHERE archive_fts MATCH ?", (expression,)
        )
        return True

    def after(self, seq: int, limit: int = 200) -> list[AlertEntry]:
        """Live alerts (not retro) with a sequence number above ``seq``, oldest first: what a stream missed.
        Their payloads stay as archived (``payload_json``; ``payload`` empty): the stream splices the text in,
        and parsing it was a third of an event's cost."""
        rows = self._db.execute(
            f"{_SELECT} WHERE a.seq > ? AND a.retro = 0 ORDER BY a.seq LIMIT ?", (seq, max(1, limit))
        ).fetchall()
        return self._with_story_now([entry(row, parse=False) for row in rows])

    def last_seq(self) -> int:
        """The newest sequence number (0: none); one index lookup."""
        (seq,) = self._db.execute("SELECT max(seq) FROM archive_alerts").fetchone()
        return 0 if seq is None else int(seq)

    def alert(self, alert_id: str) -> AlertEntry | None:
        """The live alert of this id, else its retro one."""
        row = self._db.execute(f"{_SELECT} WHERE a.alert_id = ? ORDER BY a.retro LIMIT 1", (alert_id,)).fetchone()
        return None if row is None else entry(row)

    def _alerts_of(self, where: str, params: tuple[Any, ...]) -> list[AlertEntry]:
        rows = self._db.execute(f"{_SELECT} WHERE {where} ORDER BY a.seq", params).fetchall()
        return [entry(row) for row in rows]

    # -- articles and stories -----------------------------------------------------------------

    def _with_story_now(self, entries: list[AlertEntry]) -> list[AlertEntry]:
        now = history_stories.stories_now(self._db, (e.story_id for e in entries if e.story_id))
        return [dataclasses.replace(e, story_now=now[e.story_id]) if e.story_id in now else e for e in entries]

    def last_article_id(self) -> int:
        """The newest archived article's id (0: none); one index lookup."""
        (article_id,) = self._db.execute("SELECT max(article_id) FROM archive_articles").fetchone()
        return 0 if article_id is None else int(article_id)

    def silent_joins_after(self, article_id: int, limit: int = 500) -> tuple[int, list[StoryNow]]:
        """The stories that articles archived after ``article_id`` joined without an alert (as they stand
        now), and the last article id read."""
        return history_stories.silent_joins_after(self._db, article_id, limit)

    def article(self, article_id: int) -> ArticleEntry | None:
        row = self._db.execute(
            "SELECT article_id, article_key, title, source, url, lang, published_at, received_at, text, story_id"
            " FROM archive_articles WHERE article_id = ?",
            (article_id,),
        ).fetchone()
        if row is None:
            return None
        alerts = self._alerts_of("a.article_id = ?", (article_id,))
        aid, key, title, source, url, lang, published, received, text, story = row
        return ArticleEntry(aid, loaded(key), title, source, url, lang, published, float(received), text, story, alerts)

    def story(self, story_id: str) -> StoryEntry | None:
        """The story's timeline, oldest first, from the archive (None: no archived article is in it)."""
        rows = self._db.execute(
            "SELECT article_id, title, source, url, lang, published_at, received_at, story_kind, story_adds"
            " FROM archive_articles WHERE story_id = ? ORDER BY received_at, article_id",
            (story_id,),
        ).fetchall()
        if not rows:
            return None
        alerts: dict[int, list[AlertEntry]] = {}
        ids = tuple(row[0] for row in rows)
        for alert in self._alerts_of(f"a.article_id IN ({','.join('?' * len(ids))})", ids):
            alerts.setdefault(alert.article_id, []).append(alert)
        articles = [
            StoryArticleEntry(
                aid,
                title,
                source,
                url,
                lang,
                published,
                float(received),
                kind or "silent",
                json.loads(adds),
                alerts.get(aid, []),
            )
            for aid, title, source, url, lang, published, received, kind, adds in rows
        ]
        opened = self._db.execute("SELECT opened_at FROM stories WHERE story_id = ?", (story_id,)).fetchone()
        reviewed, muted = history_review.story_state(self._db, story_id)
        return StoryEntry(
            id=story_id,
            opened_at=opened[0] if opened else (articles[0].published_at or _iso(articles[0].received_at)),
            first_seen=min(a.received_at for a in articles),
            last_seen=max(a.received_at for a in articles),
            outlets=sorted({a.source for a in articles if a.source}),
            languages=sorted({a.lang for a in articles}),
            rules=sorted({alert.rule for group in alerts.values() for alert in group}),
            muted=muted,
            reviewed=reviewed,
            articles=articles,
        )

    def facets(self) -> dict[str, list[str]]:
        """The values present, for the console's filter menus (kept as alerts are archived: one small read)."""
        result: dict[str, list[str]] = {
            name: [] for name in ("rule", "severity", "novelty", "source", "lang", "entity")
        }
        for name, value in self._db.execute("SELECT name, value FROM archive_facets ORDER BY name, value"):
            result.setdefault(name, []).append(value)
        return result

    def digest(self, day: date) -> Digest:
        from monitor.history_digest import day_digest

        return day_digest(self._db, day)

    # -- review -------------------------------------------------------------------------------

    def set_reviewed(
        self, *, alert_id: str | None = None, story_id: str | None = None, reviewed: bool = True, by: str = ""
    ) -> bool:
        """Mark an alert, or every alert of a story, reviewed (or not); False: no such alert or story."""
        return history_review.set_reviewed(self._db, alert_id=alert_id, story_id=story_id, reviewed=reviewed, by=by)

    def set_muted(self, story_id: str, muted: bool, *, by: str = "") -> bool:
        """A muted story's later follow-ups are archived, not sent; False: no such story."""
        return history_review.set_muted(self._db, story_id, muted, by=by)

    def snooze(self, rule: str, until: datetime | None, *, by: str = "") -> None:
        """The rule's alerts are archived, not sent, until then (None lifts the snooze)."""
        history_review.snooze(self._db, rule, until, by=by)

    def snoozes(self) -> dict[str, datetime]:
        return history_review.snoozes(self._db)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()

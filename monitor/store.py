"""SQLite state: which files and contents were processed, and the outbox of messages awaiting a PUBACK.

An article is marked done in the same durable transaction that puts its alerts in the outbox, and a
message leaves the outbox only after the broker acknowledged it: delivery is at-least-once across
crashes. The store is synchronous; the daemon calls it from one dedicated thread.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from monitor.history_schema import ARCHIVE_TEXT_SCHEMA, HISTORY_SCHEMA, ArchiveRecord, archive_article, current_holds
from monitor.keys import loaded, stored
from monitor.store_stories import STORY_SCHEMA, StoryRecord, load_stories, save_story
from monitor.stories import StoryBook

#: the database file in ``state.dir``
DB_NAME = "monitor.sqlite3"

P = ParamSpec("P")
T = TypeVar("T")

#: the current layout; ``user_version`` says which layout a database has (0: the first, keyed by file path;
#: 2: source-neutral keys; 3: with story state; 4: with the history archive and review state; 5: with the
#: archived articles' story features)
SCHEMA_VERSION = 5
SCHEMA = (
    STORY_SCHEMA
    + HISTORY_SCHEMA
    + ARCHIVE_TEXT_SCHEMA
    + """
CREATE TABLE contents (
    sha256 TEXT PRIMARY KEY,
    first_key TEXT NOT NULL,
    processed_at REAL NOT NULL
);
-- one row per article key (a folder's key is the file's path): the version last handled and how
CREATE TABLE articles (
    article_key TEXT PRIMARY KEY,
    version TEXT NOT NULL,         -- the source's cheap identity of a version (a file: size:mtime:ctime)
    sha256 TEXT,
    status TEXT NOT NULL,          -- 'done', 'duplicate' or 'error'
    seen_at REAL NOT NULL
);
CREATE TABLE alerts (
    alert_id TEXT PRIMARY KEY,
    article_key TEXT NOT NULL,
    rule TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX alerts_by_path_rule ON alerts (article_key, rule);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    at REAL NOT NULL
);
"""
)

#: layout 0 (files keyed by path, with size/mtime/ctime columns) to layout 2 (source-neutral keys)
MIGRATE_FROM_0 = """
ALTER TABLE contents RENAME COLUMN first_path TO first_key;
CREATE TABLE articles (
    article_key TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    sha256 TEXT,
    status TEXT NOT NULL,
    seen_at REAL NOT NULL
);
INSERT INTO articles (article_key, version, sha256, status, seen_at)
    SELECT path, size || ':' || mtime_ns || ':' || ctime_ns, sha256, status, seen_at FROM files;
DROP TABLE files;
ALTER TABLE alerts RENAME COLUMN path TO article_key;
ALTER TABLE errors RENAME COLUMN path TO article_key;
"""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    message_id: str
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class PendingMessage:
    seq: int
    message_id: str
    topic: str
    payload: bytes
    created_at: float


@dataclass(frozen=True, slots=True)
class ProcessedArticle:
    """One article's outcome, committed atomically with its outbox messages."""

    key: str
    version: str
    sha256: str
    alerts: Sequence[tuple[str, str]]  # (alert_id, rule)
    messages: Sequence[OutboxMessage]
    #: the story it joined or opened (None: stories off, or it names no entity)
    story: StoryRecord | None = None
    #: what the history archive keeps of it (None: nothing, a duplicate)
    archive: ArchiveRecord | None = None


@dataclass(frozen=True, slots=True)
class FailedArticle:
    """An input that could not be an article, with the error record that reports it."""

    key: str
    #: empty when the source could not say (it vanished before its version was taken)
    version: str
    reason: str
    message: str
    messages: Sequence[OutboxMessage]


class Store:
    def __init__(self, path: Path | None) -> None:
        """``path`` None: a private in-memory store (a dry run with no state folder yet)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(
            ":memory:" if path is None else path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._migrate()

    @classmethod
    def in_dir(cls, state_dir: Path) -> Store:
        return cls(state_dir / DB_NAME)

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        """Bring any earlier layout up to this one, in one transaction (a state database never loses what
        it knew: files handled before are still skipped, corrections still supersede)."""
        with self._transaction():
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version == SCHEMA_VERSION:
                return
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version == 0 and "files" in tables:
                self._script(MIGRATE_FROM_0 + STORY_SCHEMA + HISTORY_SCHEMA + ARCHIVE_TEXT_SCHEMA)
            elif version == 0 and not tables:
                self._script(SCHEMA)
            elif version == 2:
                self._script(STORY_SCHEMA + HISTORY_SCHEMA + ARCHIVE_TEXT_SCHEMA)
            elif version == 3:
                self._script(HISTORY_SCHEMA + ARCHIVE_TEXT_SCHEMA)
            elif version == 4:
                self._script(ARCHIVE_TEXT_SCHEMA)  # articles archived before have none: retro reads their text
            else:
                raise sqlite3.DatabaseError(f"state database layout {version} is newer than this monitor knows")
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _script(self, script: str) -> None:
        for statement in script.split(";"):
            if statement.strip():
                self._db.execute(statement)

    def load_stories(self, book: StoryBook) -> int:
        """The open stories of the window into ``book`` (a restart continues them); how many."""
        return load_stories(self._db, book)

    # -- what was processed -------------------------------------------------------------------

    def is_unchanged(self, key: str, version: str) -> bool:
        """True when this article key was handled at this exact version (no need to read it again)."""
        row = self._db.execute(
            "SELECT 1 FROM articles WHERE article_key = ? AND version = ?", (stored(key), version)
        ).fetchone()
        return row is not None

    def content_seen(self, sha256: str) -> bool:
        return self._db.execute("SELECT 1 FROM contents WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def previous_alerts(self, key: str) -> dict[str, str]:
        """The latest alert id per rule for an earlier version of this article (what a correction supersedes)."""
        rows = self._db.execute(
            "SELECT rule, alert_id FROM alerts WHERE article_key = ? ORDER BY created_at, rowid", (stored(key),)
        ).fetchall()
        return {rule: alert_id for rule, alert_id in rows}

    def commit(self, processed: Iterable[ProcessedArticle], failed: Iterable[FailedArticle]) -> None:
        """One durable transaction for a batch of outcomes (group commit: one fsync for many articles)."""
        now = time.time()
        with self._transaction():
            holds = current_holds(self._db, now)
            for art in processed:
                fresh = (
                    self._db.execute(
                        "INSERT OR IGNORE INTO contents (sha256, first_key, processed_at) VALUES (?, ?, ?)",
                        (art.sha256, stored(art.key), now),
                    ).rowcount
                    == 1
                )
                self._mark(art.key, art.version, art.sha256, "done" if fresh else "duplicate", now)
                if not fresh:
                    continue  # the same content under another name, or twice in one batch
                self._db.executemany(
                    "INSERT OR IGNORE INTO alerts (alert_id, article_key, rule, created_at) VALUES (?, ?, ?, ?)",
                    [(alert_id, stored(art.key), rule, now) for alert_id, rule in art.alerts],
                )
                held = archive_article(self._db, art.key, art.sha256, art.archive, holds, now) if art.archive else ()
                self._enqueue([m for m in art.messages if m.message_id not in held], now)
                if art.story is not None:
                    save_story(self._db, art.story)
            for bad in failed:
                self._mark(bad.key, bad.version, None, "error", now)
                self._db.execute(
                    "INSERT INTO errors (article_key, reason, message, at) VALUES (?, ?, ?, ?)",
                    (stored(bad.key), bad.reason, bad.message, now),
                )
                self._enqueue(bad.messages, now)

    def _mark(self, key: str, version: str, sha256: str | None, status: str, now: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO articles (article_key, version, sha256, status, seen_at) VALUES (?, ?, ?, ?, ?)",
            (stored(key), version, sha256, status, now),
        )

    def _enqueue(self, messages: Iterable[OutboxMessage], now: float) -> None:
        self._db.executemany(
            "INSERT INTO outbox (message_id, topic, payload, created_at) VALUES (?, ?, ?, ?)",
            [(m.message_id, m.topic, m.payload, now) for m in messages],
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # -- the outbox ---------------------------------------------------------------------------

    def pending(self, limit: int, after_seq: int = 0) -> list[PendingMessage]:
        rows = self._db.execute(
            "SELECT seq, message_id, topic, payload, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        ).fetchall()
        return [PendingMessage(seq, mid, topic, bytes(payload), at) for seq, mid, topic, payload, at in rows]

    def acknowledge(self, seqs: Sequence[int]) -> None:
        """Forget messages the broker acknowledged."""
        if not seqs:
            return
        with self._transaction():
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    def outbox_depth(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def oldest_pending_at(self) -> float | None:
        row = self._db.execute("SELECT min(created_at) FROM outbox").fetchone()
        return None if row[0] is None else float(row[0])

    def counts(self) -> dict[str, int]:
        """Totals for status lines and tests: articles by status, errors and pending messages."""
        result = {status: n for status, n in self._db.execute("SELECT status, count(*) FROM articles GROUP BY status")}
        result["errors"] = int(self._db.execute("SELECT count(*) FROM errors").fetchone()[0])
        result["pending"] = self.outbox_depth()
        return result

    def errors(self) -> list[tuple[str, str, str]]:
        return [
            (loaded(key), reason, message)
            for key, reason, message in self._db.execute("SELECT article_key, reason, message FROM errors ORDER BY id")
        ]


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error (the connection runs in autocommit mode); a
    failed COMMIT leaves no transaction open behind it."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:
                self._roll_back()
                raise
        self._roll_back()

    def _roll_back(self) -> None:
        """Unless SQLite rolled back already (a full disk may): a second ROLLBACK would hide the real error."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")


class StoreThread:
    """A store used from one dedicated thread: SQLite work never blocks the event loop, and calls are
    serialised without locks. ``call`` runs a store method there; ``run`` runs other work that uses the
    store (the batch steps that read and commit) on the same thread."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    @property
    def path(self) -> Path | None:
        return self._store.path

    async def call(self, method: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``await thread.call(Store.outbox_depth)``: a store method, on the store's thread."""
        return await self.run(method, self._store, *args, **kwargs)

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(func, *args, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._store.close()


@dataclass(frozen=True, slots=True)
class StateSummary:
    """What a state database says about a daemon's work, read without writing (``monitor status``)."""

    outbox_depth: int
    #: when the oldest message waiting for the broker was queued (None: the outbox is empty)
    oldest_pending_at: float | None
    #: when an article was last handled (None: never)
    last_article_at: float | None
    #: articles by status (`done`, `duplicate`, `error`) and `errors`: the error records kept
    counts: dict[str, int]


def read_state(state_dir: Path) -> StateSummary | None:
    """A read-only look at the state database (None when there is none yet); raises sqlite3.Error or
    OSError when it cannot be read. Never creates, migrates or locks anything a daemon needs."""
    path = state_dir / DB_NAME
    if not path.is_file():
        return None
    db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        depth, oldest = db.execute("SELECT count(*), min(created_at) FROM outbox").fetchone()
        (last,) = db.execute("SELECT max(seen_at) FROM articles").fetchone()
        counts = {status: int(n) for status, n in db.execute("SELECT status, count(*) FROM articles GROUP BY status")}
        counts["errors"] = int(db.execute("SELECT count(*) FROM errors").fetchone()[0])
    finally:
        db.close()
    return StateSummary(int(depth), oldest, last, counts)

"""SQLite state: which files and contents were processed, and the outbox of messages awaiting a PUBACK.

An article is marked done in the same durable transaction that puts its alerts in the outbox, and a
message leaves the outbox only after the broker acknowledged it: delivery is at-least-once across
crashes. The store is synchronous; the daemon calls it from one dedicated thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from monitor.articles import FileStamp

P = ParamSpec("P")
T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS contents (
    sha256 TEXT PRIMARY KEY,
    first_path TEXT NOT NULL,
    processed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    sha256 TEXT,
    status TEXT NOT NULL,          -- 'done', 'duplicate' or 'error'
    seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    rule TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_path_rule ON alerts (path, rule);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    at REAL NOT NULL
);
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

    stamp: FileStamp
    sha256: str
    alerts: Sequence[tuple[str, str]]  # (alert_id, rule)
    messages: Sequence[OutboxMessage]


@dataclass(frozen=True, slots=True)
class FailedFile:
    stamp: FileStamp
    reason: str
    message: str
    messages: Sequence[OutboxMessage]


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    @classmethod
    def in_dir(cls, state_dir: Path) -> Store:
        return cls(state_dir / "monitor.sqlite3")

    def close(self) -> None:
        self._db.close()

    # -- what was processed -------------------------------------------------------------------

    def is_unchanged(self, stamp: FileStamp) -> bool:
        """True when this path was handled with this exact size and mtime (no need to read it)."""
        row = self._db.execute(
            "SELECT 1 FROM files WHERE path = ? AND size = ? AND mtime_ns = ? AND ctime_ns = ?",
            (stamp.path, stamp.size, stamp.mtime_ns, stamp.ctime_ns),
        ).fetchone()
        return row is not None

    def content_seen(self, sha256: str) -> bool:
        return self._db.execute("SELECT 1 FROM contents WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def previous_alerts(self, path: str) -> dict[str, str]:
        """The latest alert id per rule for an earlier version of this path (what a correction supersedes)."""
        rows = self._db.execute(
            "SELECT rule, alert_id FROM alerts WHERE path = ? ORDER BY created_at, rowid", (path,)
        ).fetchall()
        return {rule: alert_id for rule, alert_id in rows}

    def commit(self, processed: Iterable[ProcessedArticle], failed: Iterable[FailedFile]) -> None:
        """One durable transaction for a batch of outcomes (group commit: one fsync for many articles)."""
        now = time.time()
        with self._transaction():
            for art in processed:
                fresh = (
                    self._db.execute(
                        "INSERT OR IGNORE INTO contents (sha256, first_path, processed_at) VALUES (?, ?, ?)",
                        (art.sha256, art.stamp.path, now),
                    ).rowcount
                    == 1
                )
                self._mark_file(art.stamp, art.sha256, "done" if fresh else "duplicate", now)
                if not fresh:
                    continue  # the same content under another name, or twice in one batch
                self._db.executemany(
                    "INSERT OR IGNORE INTO alerts (alert_id, path, rule, created_at) VALUES (?, ?, ?, ?)",
                    [(alert_id, art.stamp.path, rule, now) for alert_id, rule in art.alerts],
                )
                self._enqueue(art.messages, now)
            for bad in failed:
                self._mark_file(bad.stamp, None, "error", now)
                self._db.execute(
                    "INSERT INTO errors (path, reason, message, at) VALUES (?, ?, ?, ?)",
                    (bad.stamp.path, bad.reason, bad.message, now),
                )
                self._enqueue(bad.messages, now)

    def _mark_file(self, stamp: FileStamp, sha256: str | None, status: str, now: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO files (path, size, mtime_ns, ctime_ns, sha256, status, seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (stamp.path, stamp.size, stamp.mtime_ns, stamp.ctime_ns, sha256, status, now),
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
        """Totals for status lines and tests: files by status, errors and pending messages."""
        result = {status: n for status, n in self._db.execute("SELECT status, count(*) FROM files GROUP BY status")}
        result["errors"] = int(self._db.execute("SELECT count(*) FROM errors").fetchone()[0])
        result["pending"] = self.outbox_depth()
        return result

    def errors(self) -> list[tuple[str, str, str]]:
        return [
            (path, reason, message)
            for path, reason, message in self._db.execute("SELECT path, reason, message FROM errors ORDER BY id")
        ]


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


class StoreThread:
    """Runs every store call (and the processing that commits to it) on one dedicated thread:
    SQLite work never blocks the event loop, and calls are serialised without locks."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(func, *args, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.store.close()


class StateLock:
    """One writer per state folder. Two publishers draining one outbox (a second daemon, or
    ``backfill --publish`` beside a running daemon) would send every message twice and break the
    order per rule. An advisory lock held for the process's lifetime; the kernel drops it on any exit."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "monitor.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """The pid written by the holder, for the error message."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

"""Pruning the history archive by age (``[history] retention_days``): articles received before the cutoff go
with their alerts (live and retro), entity and search index rows; review rows left without their alert or
story go too, so that review state never names what the archive no longer has. Runs on the store's thread,
in batches (each its own transaction: the daemon's commits interleave)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager

from monitor.history_schema import REBUILD_FACETS


def prune_archive(
    db: sqlite3.Connection, cutoff: float, transaction: Callable[[], AbstractContextManager[None]], batch: int = 2000
) -> tuple[int, int]:
    """Forget archived articles received before ``cutoff`` (POSIX seconds); (articles, alerts) forgotten."""
    articles = alerts = 0
    while ids := [
        row[0]
        for row in db.execute(
            "SELECT article_id FROM archive_articles WHERE received_at < ? ORDER BY received_at LIMIT ?",
            (cutoff, batch),
        )
    ]:
        marks = ",".join("?" * len(ids))
        with transaction():
            gone = [
                row[0] for row in db.execute(f"SELECT alert_id FROM archive_alerts WHERE article_id IN ({marks})", ids)
            ]
            db.execute(
                "DELETE FROM archive_payloads WHERE seq IN"
                f" (SELECT seq FROM archive_alerts WHERE article_id IN ({marks}))",
                ids,
            )
            alerts += db.execute(f"DELETE FROM archive_alerts WHERE article_id IN ({marks})", ids).rowcount
            db.execute(f"DELETE FROM archive_entities WHERE article_id IN ({marks})", ids)
            db.execute(f"DELETE FROM archive_story_text WHERE article_id IN ({marks})", ids)
            db.execute(f"DELETE FROM archive_fts WHERE rowid IN ({marks})", ids)
            articles += db.execute(f"DELETE FROM archive_articles WHERE article_id IN ({marks})", ids).rowcount
            db.executemany(
                "DELETE FROM review_log WHERE kind = 'alert' AND target = ?"
                " AND NOT EXISTS (SELECT 1 FROM archive_alerts WHERE alert_id = ?)",
                [(alert_id, alert_id) for alert_id in set(gone)],
            )
    with transaction():
        _forget_stories(db, cutoff)
        if articles:
            for statement in REBUILD_FACETS.split(";"):
                if statement.strip():
                    db.execute(statement)
    return articles, alerts


def _forget_stories(db: sqlite3.Connection, cutoff: float) -> None:
    """Review rows of stories the archive and the story state both forgot, and snoozes long ended."""
    orphan = (
        " NOT IN (SELECT story_id FROM archive_articles WHERE story_id IS NOT NULL)"
        " AND {column} NOT IN (SELECT story_id FROM stories)"
    )
    db.execute("DELETE FROM review_stories WHERE story_id" + orphan.format(column="story_id"))
    db.execute("DELETE FROM review_log WHERE kind = 'story' AND target" + orphan.format(column="target"))
    db.execute("DELETE FROM review_snoozes WHERE until < ?", (cutoff,))

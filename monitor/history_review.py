"""Review state in the state database: alerts and stories reviewed, stories muted, rules snoozed. Each
change is one transaction that updates the state and records who made it and when (``review_log``); every
change can be undone by its opposite. The daemon reads mutes and snoozes when it commits
(``history_schema.current_holds``)."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime


def _log(db: sqlite3.Connection, action: str, kind: str, target: str, by: str, until: float | None = None) -> None:
    db.execute(
        "INSERT INTO review_log (action, kind, target, until, by, at) VALUES (?, ?, ?, ?, ?, ?)",
        (action, kind, target, until, by, time.time()),
    )


def _story_known(db: sqlite3.Connection, story_id: str) -> bool:
    return (
        db.execute("SELECT 1 FROM archive_articles WHERE story_id = ? LIMIT 1", (story_id,)).fetchone() is not None
        or db.execute("SELECT 1 FROM stories WHERE story_id = ?", (story_id,)).fetchone() is not None
    )


def set_reviewed(
    db: sqlite3.Connection, *, alert_id: str | None, story_id: str | None, reviewed: bool, by: str
) -> bool:
    """One alert (all its rows: live and retro), or a story and every alert it has so far."""
    if (alert_id is None) == (story_id is None):
        raise ValueError("give either alert_id or story_id")
    action = "reviewed" if reviewed else "unreviewed"
    db.execute("BEGIN IMMEDIATE")
    try:
        if alert_id is not None:
            found = db.execute("UPDATE archive_alerts SET reviewed = ? WHERE alert_id = ?", (int(reviewed), alert_id))
            ok = found.rowcount > 0
            if ok:
                _log(db, action, "alert", alert_id, by)
        else:
            assert story_id is not None
            ok = _story_known(db, story_id)
            if ok:
                db.execute("UPDATE archive_alerts SET reviewed = ? WHERE story_id = ?", (int(reviewed), story_id))
                db.execute(
                    "INSERT INTO review_stories (story_id, reviewed) VALUES (?, ?)"
                    " ON CONFLICT (story_id) DO UPDATE SET reviewed = excluded.reviewed",
                    (story_id, int(reviewed)),
                )
                _log(db, action, "story", story_id, by)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return ok


def set_muted(db: sqlite3.Connection, story_id: str, muted: bool, *, by: str) -> bool:
    db.execute("BEGIN IMMEDIATE")
    try:
        ok = _story_known(db, story_id)
        if ok:
            db.execute(
                "INSERT INTO review_stories (story_id, muted) VALUES (?, ?)"
                " ON CONFLICT (story_id) DO UPDATE SET muted = excluded.muted",
                (story_id, int(muted)),
            )
            _log(db, "muted" if muted else "unmuted", "story", story_id, by)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return ok


def snooze(db: sqlite3.Connection, rule: str, until: datetime | None, *, by: str) -> None:
    """A naive ``until`` is taken as UTC."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if until is None:
            db.execute("DELETE FROM review_snoozes WHERE rule = ?", (rule,))
            _log(db, "unsnoozed", "rule", rule, by)
        else:
            end = (until if until.tzinfo else until.replace(tzinfo=UTC)).timestamp()
            db.execute(
                "INSERT INTO review_snoozes (rule, until) VALUES (?, ?)"
                " ON CONFLICT (rule) DO UPDATE SET until = excluded.until",
                (rule, end),
            )
            _log(db, "snoozed", "rule", rule, by, end)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def snoozes(db: sqlite3.Connection) -> dict[str, datetime]:
    """The snoozes still running, with their end (UTC)."""
    rows = db.execute("SELECT rule, until FROM review_snoozes WHERE until > ?", (time.time(),))
    return {rule: datetime.fromtimestamp(until, UTC) for rule, until in rows}


def story_state(db: sqlite3.Connection, story_id: str) -> tuple[bool, bool]:
    """(reviewed, muted)."""
    row = db.execute("SELECT reviewed, muted FROM review_stories WHERE story_id = ?", (story_id,)).fetchone()
    return (False, False) if row is None else (bool(row[0]), bool(row[1]))

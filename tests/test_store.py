from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.store import FailedArticle, OutboxMessage, ProcessedArticle, Store


def article(path: str, sha: str, *alerts: str) -> ProcessedArticle:
    return ProcessedArticle(
        path,
        "10:1:1",
        sha,
        [(a, "rule") for a in alerts],
        [OutboxMessage(a, "newsmon/alerts/rule", a.encode()) for a in alerts],
    )


def test_an_article_and_its_alerts_commit_together(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.commit([article("/in/a.txt", "sha-a", "alert-1", "alert-2")], [])
    assert store.content_seen("sha-a")
    assert store.is_unchanged("/in/a.txt", "10:1:1")
    assert not store.is_unchanged("/in/a.txt", "11:1:1")
    assert not store.is_unchanged("/in/a.txt", "10:1:2"), "a chmod (new ctime) is worth a retry"
    assert [m.message_id for m in store.pending(10)] == ["alert-1", "alert-2"]


def test_the_same_content_under_another_name_adds_no_alerts(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.commit([article("/in/a.txt", "sha-a", "alert-1")], [])
    store.commit([article("/in/copy.txt", "sha-a", "alert-1")], [])
    assert store.outbox_depth() == 1
    assert store.counts()["duplicate"] == 1


def test_only_acknowledged_messages_leave_the_outbox_in_order(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.commit([article("/in/a.txt", "a", "m1"), article("/in/b.txt", "b", "m2", "m3")], [])
    first, second, _third = store.pending(10)
    store.acknowledge([second.seq])
    assert [m.message_id for m in store.pending(10)] == ["m1", "m3"]
    assert store.pending(10, after_seq=first.seq)[0].message_id == "m3"


def test_outbox_survives_reopening(tmp_path: Path) -> None:
    Store.in_dir(tmp_path).commit([article("/in/a.txt", "a", "m1")], [])
    reopened = Store.in_dir(tmp_path)
    assert [m.message_id for m in reopened.pending(10)] == ["m1"]
    mode = sqlite3.connect(tmp_path / "monitor.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_errors_are_recorded_with_their_reason_and_message(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    failed = FailedArticle(
        "/in/bad.json", "3:2:2", "malformed-json", "line 1", [OutboxMessage("e1", "newsmon/errors", b"{}")]
    )
    store.commit([], [failed])
    assert store.errors() == [("/in/bad.json", "malformed-json", "line 1")]
    assert store.is_unchanged("/in/bad.json", "3:2:2")
    assert store.pending(10)[0].topic == "newsmon/errors"


def test_a_corrected_file_knows_the_alerts_it_supersedes(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.commit([article("/in/a.txt", "v1", "old-alert")], [])
    assert store.previous_alerts("/in/a.txt") == {"rule": "old-alert"}


#: the first layout (before article keys were source-neutral), as the first release created it
LAYOUT_0 = """
CREATE TABLE contents (sha256 TEXT PRIMARY KEY, first_path TEXT NOT NULL, processed_at REAL NOT NULL);
CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL, sha256 TEXT, status TEXT NOT NULL, seen_at REAL NOT NULL);
CREATE TABLE alerts (alert_id TEXT PRIMARY KEY, path TEXT NOT NULL, rule TEXT NOT NULL, created_at REAL NOT NULL);
CREATE INDEX alerts_by_path_rule ON alerts (path, rule);
CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, topic TEXT NOT NULL,
    payload BLOB NOT NULL, created_at REAL NOT NULL);
CREATE TABLE errors (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, reason TEXT NOT NULL,
    message TEXT NOT NULL, at REAL NOT NULL);
INSERT INTO contents VALUES ('sha-a', '/in/a.txt', 1.0);
INSERT INTO files VALUES ('/in/a.txt', 10, 1, 1, 'sha-a', 'done', 1.0);
INSERT INTO files VALUES ('/in/bad.json', 3, 2, 2, NULL, 'error', 1.0);
INSERT INTO alerts VALUES ('old-alert', '/in/a.txt', 'rule', 1.0);
INSERT INTO outbox (message_id, topic, payload, created_at) VALUES ('old-alert', 'newsmon/alerts/rule', x'7b7d', 1.0);
INSERT INTO errors (path, reason, message, at) VALUES ('/in/bad.json', 'malformed-json', 'line 1', 1.0);
"""


def test_a_state_database_of_the_first_layout_keeps_what_it_knew(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "monitor.sqlite3")
    db.executescript(LAYOUT_0)
    db.close()
    store = Store.in_dir(tmp_path)
    assert store.is_unchanged("/in/a.txt", "10:1:1"), "a file handled before the upgrade is not read again"
    assert not store.is_unchanged("/in/a.txt", "10:1:2")
    assert store.is_unchanged("/in/bad.json", "3:2:2")
    assert store.content_seen("sha-a")
    assert store.previous_alerts("/in/a.txt") == {"rule": "old-alert"}
    assert [m.message_id for m in store.pending(10)] == ["old-alert"], "what waited for the broker still waits"
    assert store.errors() == [("/in/bad.json", "malformed-json", "line 1")]
    store.commit([article("/in/b.txt", "sha-b", "new-alert")], [])
    store.close()
    assert Store.in_dir(tmp_path).counts() == {"done": 2, "error": 1, "errors": 1, "pending": 2}, "reopened as is"


def test_a_state_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "monitor.sqlite3")
    db.execute("PRAGMA user_version = 99")
    db.execute("CREATE TABLE later (x)")
    db.close()
    with pytest.raises(sqlite3.DatabaseError, match="newer"):
        Store.in_dir(tmp_path)

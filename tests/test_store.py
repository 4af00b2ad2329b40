from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.articles import FileStamp
from monitor.store import FailedFile, OutboxMessage, ProcessedArticle, Store


def article(path: str, sha: str, *alerts: str) -> ProcessedArticle:
    return ProcessedArticle(
        FileStamp(path, 10, 1, 1),
        sha,
        [(a, "rule") for a in alerts],
        [OutboxMessage(a, "newsmon/alerts/rule", a.encode()) for a in alerts],
    )


def test_an_article_and_its_alerts_commit_together(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.commit([article("/in/a.txt", "sha-a", "alert-1", "alert-2")], [])
    assert store.content_seen("sha-a")
    assert store.is_unchanged(FileStamp("/in/a.txt", 10, 1, 1))
    assert not store.is_unchanged(FileStamp("/in/a.txt", 11, 1, 1))
    assert not store.is_unchanged(FileStamp("/in/a.txt", 10, 1, 2)), "a chmod (new ctime) is worth a retry"
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
    failed = FailedFile(
        FileStamp("/in/bad.json", 3, 2, 2), "malformed-json", "line 1", [OutboxMessage("e1", "newsmon/errors", b"{}")]
    )
    store.commit([], [failed])
    assert store.errors() == [("/in/bad.json", "malformed-json", "line 1")]
    assert store.is_unchanged(FileStamp("/in/bad.json", 3, 2, 2))
    assert store.pending(10)[0].topic == "newsmon/errors"


def test_a_corrected_file_knows_the_alerts_it_supersedes(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.commit([article("/in/a.txt", "v1", "old-alert")], [])
    assert store.previous_alerts("/in/a.txt") == {"rule": "old-alert"}

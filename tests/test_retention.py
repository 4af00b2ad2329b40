"""State beyond the first month: history is pruned by itself and the file shrinks, the outbox is capped by
pausing intake (nothing dropped), and the folder source's rescan memory stays small per file."""

from __future__ import annotations

import asyncio
import gc
import os
import sqlite3
import time
import tracemalloc
from pathlib import Path

import pytest

from harness.articles import stream_articles, write_articles
from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until
from monitor.config import WatchSettings
from monitor.sources.folders import FolderSource


def rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.mark.e2e
def test_history_older_than_the_retention_is_pruned_by_itself_and_the_database_shrinks(
    tmp_path: Path, broker: Mosquitto
) -> None:
    daemon = DaemonProcess(
        tmp_path / "d",
        broker.port,
        extra_env={  # 4 seconds
            "MONITOR_STATE__RETENTION_DAYS": str(4 / 86400),
            "MONITOR_HISTORY__RETENTION_DAYS": str(4 / 86400),
        },
    )
    articles = stream_articles(300, seed=31)
    files = write_articles(daemon.inbox, articles)
    (daemon.inbox / "empty.txt").write_bytes(b"")  # an error record, history too
    db = daemon.state / "monitor.sqlite3"
    daemon.start()
    try:
        wait_until(lambda: len(daemon.events("article processed")) == 300, 60, what="all processed")
        wait_until(lambda: rows(db, "outbox") == 0, 30, what="outbox drained")
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size_full = db.stat().st_size
        alerts_full = rows(db, "alerts")
        for path in [*files[100:], daemon.inbox / "empty.txt"]:
            path.unlink()  # the analysts clear most of the inbox; a hundred files stay
        wait_until(lambda: rows(db, "articles") == 100, 30, what="history of the files that are gone pruned")
        wait_until(lambda: bool(daemon.events("old state pruned")), 10, what="the prune logged")
        wait_until(lambda: rows(db, "errors") == 0, 10, what="old error records pruned")
        wait_until(lambda: rows(db, "archive_articles") == 0, 10, what="the history archive pruned by itself")
    finally:
        assert daemon.stop() == 0
    assert 0 < rows(db, "alerts") < alerts_full, "alerts of files still there are kept (corrections supersede)"
    assert rows(db, "contents") == 100
    assert rows(db, "archive_alerts") == rows(db, "archive_fts") == 0
    assert db.stat().st_size < size_full * 0.75, "the database file shrank"
    daemon.start()  # the hundred kept files are not read, nor alerted, again
    try:
        wait_until(lambda: len(daemon.events("daemon ready")) == 2, 30, what="the second run ready")
        time.sleep(1.0)
    finally:
        assert daemon.stop() == 0
    assert len(daemon.events("article processed")) == 300


@pytest.mark.e2e
def test_a_full_outbox_pauses_intake_says_so_once_and_loses_nothing(tmp_path: Path, broker: Mosquitto) -> None:
    Collector(broker.port, "newsmon/alerts/#", client_id="cap").start().stop()  # a persistent session
    broker.stop()
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_STATE__OUTBOX_MAX": "3"})
    db = daemon.state / "monitor.sqlite3"
    articles = stream_articles(20, seed=32)
    daemon.start()
    try:
        daemon.wait_ready()
        for name, text in articles[:4]:
            daemon.drop(name, text)
        wait_until(lambda: db.exists() and rows(db, "outbox") >= 3, 30, what="the outbox at its cap")
        for name, text in articles[4:]:
            daemon.drop(name, text)
        wait_until(
            lambda: bool(
                daemon.events("outbox full; intake paused, new articles wait in the inbox (nothing is dropped)")
            ),
            30,
            what="the pause said",
        )
        processed_while_full = len(daemon.events("article processed"))
        time.sleep(1.5)
        assert len(daemon.events("article processed")) == processed_while_full, "nothing read while full"
        assert processed_while_full < len(articles)
        broker.start()
        collector = Collector(broker.port, "newsmon/alerts/#", client_id="cap").start()
        wait_until(lambda: len(daemon.events("article processed")) == len(articles), 60, what="intake resumed")
        wait_until(lambda: rows(db, "outbox") == 0, 30, what="everything delivered")
        time.sleep(0.5)
        collector.stop()
    finally:
        assert daemon.stop() == 0
    assert len(daemon.events("outbox full; intake paused, new articles wait in the inbox (nothing is dropped)")) == 1
    assert len(daemon.events("outbox below its cap; intake resumes")) == 1
    alerting = sum(1 for e in daemon.events("article processed") if e["result"] == "alerted")
    assert len({a["id"] for a in collector.payloads("newsmon/alerts/")}) >= alerting


def test_the_rescan_memory_holds_a_few_hundred_bytes_a_file(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_articles(tmp_path / "warm-up", [("a.txt", "x")])
    for desk in range(5):
        folder = inbox / f"desk{desk}"
        folder.mkdir(parents=True)
        for index in range(1000):
            (folder / f"article-{desk}-{index:05d}.txt").write_bytes(b"x")
    old = time.time() - 3600
    for path in inbox.rglob("*.txt"):
        os.utime(path, (old, old))
    source = FolderSource(WatchSettings(paths=[inbox], settle_ms=0, rescan_seconds=0))

    async def emit(key: str) -> None:
        pass

    async def scans() -> int:
        warm_up = FolderSource(WatchSettings(paths=[tmp_path / "warm-up"], settle_ms=0, rescan_seconds=0))
        await warm_up._scan_all(emit, "catch-up", skip_known=False)  # imports and caches first
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        await source._scan_all(emit, "catch-up", skip_known=False)
        await source._scan_all(emit, "periodic", skip_known=True)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        return held

    held = asyncio.run(scans())
    print(f"rescan memory: {held / 5000:.0f} bytes a file")
    assert held / 5000 < 1000, "a path object and a version string a file (2 KB) is too much for a big inbox"

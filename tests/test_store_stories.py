"""Story state in the store: committed with the outbox, undone with a failed batch, read back on start,
and a layout-2 database migrated to layout 3."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from harness.processes import WATCHLISTS
from monitor.engine import load_engine
from monitor.history_schema import ARCHIVE_TEXT_SCHEMA, HISTORY_SCHEMA
from monitor.store import DB_NAME, SCHEMA, SCHEMA_VERSION, Store
from monitor.store_stories import STORY_SCHEMA
from tests.support import BatchRunner

SIGNING = (
    "Russia and North Korea sign customs agreement\n\n"
    "MOSCOW — Russia and North Korea signed an agreement on customs cooperation on Monday, the Russian "
    "customs service said. The document sets out joint inspection of rail freight at the Khasan crossing "
    "and a shared register of traders. A deputy minister signed for Russia and the North Korean ambassador "
    "signed for Pyongyang, the service said in a statement.\n"
)
COPY = SIGNING.replace("the service said in a statement", "the service said in a statement on Monday evening")


def outbox_ids(store: Store) -> list[str]:
    return [m.message_id for m in store.pending(100)]


def story_rows(workdir: Path) -> list[tuple[str, int]]:
    db = sqlite3.connect(workdir / "state" / DB_NAME)
    try:
        return db.execute("SELECT story_id, articles FROM stories").fetchall()
    finally:
        db.close()


def test_two_copies_of_one_event_make_one_opening_alert_and_one_story_row(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS]), stories=True) as runner:
        (runner.inbox / "a.txt").write_text(SIGNING, encoding="utf-8")
        (runner.inbox / "b.txt").write_text(COPY, encoding="utf-8")
        outcomes = runner.process(runner.all_keys())
        assert [o.result for o in outcomes] == ["alerted", "silent"]
        assert len(outbox_ids(runner.store)) == len(outcomes[0].alert_ids) >= 1
    [(_, articles)] = story_rows(tmp_path)
    assert articles == 2


def test_worker_processes_hand_the_store_thread_what_stories_need(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS]), workers=1, stories=True) as runner:
        (runner.inbox / "a.txt").write_text(SIGNING, encoding="utf-8")
        (runner.inbox / "b.txt").write_text(COPY, encoding="utf-8")
        outcomes = runner.process(runner.all_keys())
        assert [o.result for o in outcomes] == ["alerted", "silent"]
        [message] = runner.store.pending(10)
        assert json.loads(message.payload)["story"]["kind"] == "new"


def test_a_restart_continues_the_open_story(tmp_path: Path) -> None:
    engine = load_engine([WATCHLISTS])
    with BatchRunner(tmp_path, engine, stories=True) as runner:
        (runner.inbox / "a.txt").write_text(SIGNING, encoding="utf-8")
        runner.process(runner.all_keys())
    with BatchRunner(tmp_path, engine, stories=True) as runner:
        assert runner.stories is not None and len(runner.stories.stories) == 1
        (runner.inbox / "b.txt").write_text(COPY, encoding="utf-8")
        [outcome] = runner.process([str(runner.inbox / "b.txt")])
        assert outcome.result == "silent"
        assert len(outbox_ids(runner.store)) == 1  # the opening alert of the first run, nothing more
    [(_, articles)] = story_rows(tmp_path)
    assert articles == 2


def test_a_batch_that_fails_to_commit_leaves_no_half_story_in_memory_or_on_disk(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS]), stories=True) as runner:
        (runner.inbox / "a.txt").write_text(SIGNING, encoding="utf-8")
        other = sqlite3.connect(tmp_path / "state" / DB_NAME)
        other.execute("ALTER TABLE outbox RENAME TO outbox_away")  # the commit's outbox insert fails
        try:
            runner.process(runner.all_keys())
        except sqlite3.Error:
            pass
        else:
            raise AssertionError("the commit should have failed")
        assert runner.stories is not None and runner.stories.stories == {}
        assert story_rows(tmp_path) == []
        other.execute("ALTER TABLE outbox_away RENAME TO outbox")
        other.close()
        [outcome] = runner.process(runner.all_keys())
        assert outcome.result == "alerted"  # its story opens now, once
        assert len(story_rows(tmp_path)) == 1


def test_stories_off_every_firing_alerts_as_before(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS]), stories=False) as runner:
        (runner.inbox / "a.txt").write_text(SIGNING, encoding="utf-8")
        (runner.inbox / "b.txt").write_text(COPY, encoding="utf-8")
        outcomes = runner.process(runner.all_keys())
        assert [o.result for o in outcomes] == ["alerted", "alerted"]
    assert story_rows(tmp_path) == []


def test_a_layout_2_database_gains_the_story_tables_and_keeps_what_it_knew(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    db = sqlite3.connect(path)
    db.executescript(SCHEMA.replace(STORY_SCHEMA, "").replace(HISTORY_SCHEMA, "").replace(ARCHIVE_TEXT_SCHEMA, ""))
    db.execute("INSERT INTO articles VALUES ('/in/a.txt', '1:1:1', 'sha-a', 'done', 1.0)")
    db.execute("INSERT INTO contents VALUES ('sha-a', '/in/a.txt', 1.0)")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    store = Store(path)
    try:
        assert store.is_unchanged("/in/a.txt", "1:1:1") and store.content_seen("sha-a")
        check = sqlite3.connect(path)
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = check.execute("PRAGMA user_version").fetchone()[0]
        check.close()
        assert {"stories", "story_articles", "archive_articles", "archive_alerts", "archive_story_text"} <= tables
        assert version == SCHEMA_VERSION == 5
    finally:
        store.close()

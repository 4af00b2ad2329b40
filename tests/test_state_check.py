"""The start-up check of the state folder, in process: what counts as corrupt, emptied or sound, and what
``--rebuild-state`` does. (The daemon and backfill meeting these states: ``test_state.py``.)"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from monitor.state import MARKER, StateError, examine, open_state
from monitor.store import DB_NAME, OutboxMessage, ProcessedArticle, Store

CORRUPT = "state database is corrupt; move it aside or restore it"
EMPTIED = "state database is empty or missing where one was; restore it, or start with --rebuild-state"


def _sound_state(folder: Path) -> Path:
    """A state folder, marked, whose database spans a few hundred pages."""
    open_state(folder)
    store = Store.in_dir(folder)
    for n in range(300):
        message = OutboxMessage(f"alert-{n}", "newsmon/alerts/rule", b"{}" * 400)
        store.commit([ProcessedArticle(f"/in/{n}.txt", "1:1:1", f"sha-{n}", [(f"alert-{n}", "rule")], [message])], [])
    store.close()
    return folder / DB_NAME


def test_a_sound_state_folder_opens_and_is_marked_as_holding_state(tmp_path: Path) -> None:
    _sound_state(tmp_path)
    assert examine(tmp_path) is None
    assert (tmp_path / MARKER).is_file()
    open_state(tmp_path)  # and again


def test_damage_deep_inside_the_database_is_found_before_anything_reads_it(tmp_path: Path) -> None:
    db = _sound_state(tmp_path)
    with db.open("r+b") as out:  # pages in the middle: the database still opens and its schema reads fine
        out.seek(db.stat().st_size // 2)
        out.write(b"\xff" * 8192)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    with pytest.raises(StateError) as caught:
        open_state(tmp_path)
    assert caught.value.event == CORRUPT
    assert str(caught.value).startswith(f"state database {db} is corrupt; move it aside or restore it")


def test_a_missing_database_next_to_the_marker_is_refused_and_rebuilt_only_when_asked(tmp_path: Path) -> None:
    db = _sound_state(tmp_path)
    db.unlink()
    with pytest.raises(StateError) as caught:
        open_state(tmp_path)
    assert caught.value.event == EMPTIED
    assert not db.exists(), "the refusal creates nothing"
    open_state(tmp_path, rebuild=True)
    assert Store.in_dir(tmp_path).counts() == {"errors": 0, "pending": 0}


def test_rebuilding_sets_a_corrupt_database_aside_with_its_wal(tmp_path: Path) -> None:
    db = _sound_state(tmp_path)
    db.write_bytes(os.urandom(8192))
    open_state(tmp_path, rebuild=True)
    [aside] = [p for p in tmp_path.iterdir() if ".broken-" in p.name]
    assert aside.read_bytes()[:100] != b"SQLite format 3\0"
    assert examine(tmp_path) is None


def test_a_first_start_in_an_empty_folder_is_not_a_lost_database(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"")  # a first start that died before its first commit
    open_state(tmp_path)
    assert examine(tmp_path) is None

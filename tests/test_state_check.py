"""The start-up check of the state folder, in process: what counts as corrupt, emptied or sound, and what
``--rebuild-state`` does. (The daemon and backfill meeting these states: ``test_state.py``.)"""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
import structlog

from harness.articles import write_articles
from harness.processes import WATCHLISTS
from monitor.analysis import Publishing
from monitor.config import WatchSettings
from monitor.engine import load_engine
from monitor.pipeline import Pipeline
from monitor.processing import Processor
from monitor.sources.archive import ArchiveSource
from monitor.state import DISK_FULL, DISK_RECOVERED, MARKER, DiskWatch, StateError, examine, open_state
from monitor.store import DB_NAME, Store, StoreThread
from monitor.workers import TaggingPool
from tests.support import fill_disk, fill_state, mount_tmpfs

CORRUPT = "state database is corrupt; move it aside or restore it"
EMPTIED = "state database is empty or missing where one was; restore it, or start with --rebuild-state"


def _schema_pages(data: bytes) -> set[int]:
    """The pages of the schema table (page 1, and its leaves when it outgrew one page)."""
    size = int.from_bytes(data[16:18], "big")
    if data[100] != 0x05:  # a leaf: the schema fits in page 1
        return {1}
    cells = int.from_bytes(data[103:105], "big")
    pointers = [int.from_bytes(data[112 + 2 * i : 114 + 2 * i], "big") for i in range(cells)]
    children = {int.from_bytes(data[p : p + 4], "big") for p in pointers}
    children.add(int.from_bytes(data[108:112], "big"))
    assert all(data[(c - 1) * size] == 0x0D for c in children), "a schema two levels deep"
    return {1, *children}


def _sound_state(folder: Path) -> Path:
    """A state folder, marked, whose database spans a few hundred pages."""
    open_state(folder)
    return fill_state(folder)


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


async def test_a_database_found_corrupt_while_running_stops_the_pipeline_with_the_same_line(tmp_path: Path) -> None:
    """Damage the start-up check could not see (it came later): every batch would fail, so none is tried."""
    db = _sound_state(tmp_path / "state")
    data = bytearray(db.read_bytes())
    keep = _schema_pages(bytes(data))
    size = int.from_bytes(data[16:18], "big")
    for page in range(1, len(data) // size + 1):  # every page but the schema's: it opens, any lookup fails
        if page not in keep:
            data[(page - 1) * size : page * size] = b"\xff" * size
    db.write_bytes(bytes(data))
    inbox = tmp_path / "inbox"
    write_articles(inbox, [("pact.txt", "Pact\n\nRussia and North Korea signed a new agreement.\n")])
    source = ArchiveSource(WatchSettings(paths=[inbox]))
    store = Store(db)
    thread = StoreThread(store)
    publishing = Publishing("newsmon", 262144)
    pool = TaggingPool(0, publishing)
    pipeline = Pipeline(source, thread, Processor(store, source, publishing), pool, load_engine([WATCHLISTS]))
    feeding = asyncio.create_task(source.run(pipeline.put))
    try:
        with pytest.raises(StateError) as caught:
            await asyncio.wait_for(pipeline.run(), 30)
    finally:
        feeding.cancel()
        await pipeline.close()
        thread.close()
    assert caught.value.event == CORRUPT
    assert caught.value.path == db


def test_a_write_that_squeezes_into_a_full_disk_is_no_recovery(tmp_path: Path) -> None:
    """One line when the disk fills and one when it has room, not a pair each time a small write fits."""
    folder = tmp_path / "state"
    folder.mkdir()
    why_not = mount_tmpfs(folder)
    if why_not is not None:
        pytest.skip(f"no tmpfs ({why_not}); the daemon's disk-full test runs under a file-size limit instead")
    try:
        fill_disk(folder / "ballast")
        watch = DiskWatch(folder)
        full = OSError(errno.ENOSPC, "No space left on device")
        with structlog.testing.capture_logs() as logs:
            watch.failed("intake", full)
            watch.failed("outbox", full)
            watch.wrote("outbox")
            watch.wrote("intake")  # squeezed into the slack: the disk is still full
            watch.failed("intake", full)
            assert watch.full
            (folder / "ballast").unlink()
            watch.wrote("intake")
        assert [entry["event"] for entry in logs] == [DISK_FULL, DISK_RECOVERED]
        assert not watch.full
    finally:
        subprocess.run(["umount", str(folder)], check=True)

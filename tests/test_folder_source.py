"""The folder source in process: ``FolderSource.run`` with its real watcher on the test's event loop, real
files in a temporary inbox, and the keys it hands on collected as they come; every watching test runs
against both backends (``backend``: inotify and watchfiles, forced).

What the daemon's pick-up promises, pinned without a daemon: a file renamed in goes at once, a file
written in place only once it has settled, ignored names never, new and recreated folders are watched,
rescans hand on only what changed (or what the pipeline asked to retry), symlinks are keys but never
walked into. (The same behaviours through a running daemon: test_watching.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import structlog

from monitor import events
from monitor.articles import ArticleError
from monitor.config import WatchSettings
from monitor.reading import version_of
from monitor.sources import RawArticle
from monitor.sources.backend import folder_source
from monitor.sources.folders import FolderSource
from tests.support import AGREEMENT_ARTICLE, wait_until_async

#: the settle time of these tests: short, so that each test stays fast
SETTLE_MS = 100
#: long enough that nothing settles while a test runs: what is handed on then did not wait to settle
NEVER_MS = 600_000
#: the rescan interval of the tests that watch rescans
RESCAN_S = 0.05


@dataclass
class Watched:
    """A running folder source and what it handed on so far, in order."""

    source: FolderSource
    inbox: Path
    keys: list[str] = field(default_factory=list)
    logs: list[MutableMapping[str, Any]] = field(default_factory=list)

    def names(self) -> list[str]:
        """The keys handed on, relative to the inbox."""
        return [str(Path(key).relative_to(self.inbox)) for key in self.keys]

    def counts(self) -> Counter[str]:
        return Counter(self.names())

    def periodic_scans(self) -> int:
        return sum(1 for e in self.logs if e["event"] == events.FOLDERS_SCANNED and e["why"] == "periodic")

    async def until_handed_on(self, name: str, times: int = 1) -> None:
        await wait_until_async(lambda: self.counts()[name] >= times, 30, what=f"{name} handed on {times}x")

    async def until_rescanned(self, scans: int = 1) -> None:
        """Until ``scans`` more periodic rescans have run (and handed on what they found)."""
        target = self.periodic_scans() + scans
        await wait_until_async(lambda: self.periodic_scans() >= target, 30, what=f"{scans} periodic rescans")


@contextlib.asynccontextmanager
async def watching(
    inbox: Path, backend: str, *, settle_ms: int = SETTLE_MS, rescan_seconds: float = 0
) -> AsyncIterator[Watched]:
    """The ``backend``'s folder source on ``inbox``, run as a task on the test's loop, ready (caught up
    and watching); cancelled at the end, as the daemon cancels it."""
    settings = WatchSettings(paths=[inbox], settle_ms=settle_ms, rescan_seconds=rescan_seconds, backend=backend)
    with structlog.testing.capture_logs() as logs:
        watched = Watched(folder_source(settings), inbox, logs=logs)
        assert watched.source.backend == backend

        async def emit(key: str) -> None:
            watched.keys.append(key)

        task = asyncio.create_task(watched.source.run(emit), name="folder source")
        try:
            await wait_until_async(lambda: watched.source.ready.is_set() or task.done(), 10, what="the source ready")
            if task.done():
                task.result()  # raises what stopped it
            yield watched
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def renamed_in(target: Path, text: str = AGREEMENT_ARTICLE) -> Path:
    """Written beside the target under an ignored name, then renamed into place, as careful writers do."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.parent / f".{target.name}.part"
    part.write_text(text)
    part.rename(target)
    return target


def backdate(path: Path, seconds: float = 3600) -> None:
    """Change a file's stamps without writing it: inotify says nothing (no attribute events are watched)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


async def a_moment(seconds: float = 2 * SETTLE_MS / 1000) -> None:
    """Long enough for anything settling to have been handed on: the time to see that something was not."""
    await asyncio.sleep(seconds)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


# -- new files --------------------------------------------------------------------------------------------


async def test_a_file_renamed_in_is_handed_on_at_once_by_inotify_and_once_settled_by_watchfiles(
    inbox: Path, backend: str
) -> None:
    # watchfiles reports a rename into place as a file added, as it reports a file being written
    settle_ms = NEVER_MS if backend == "inotify" else SETTLE_MS
    async with watching(inbox, backend, settle_ms=settle_ms) as watched:
        renamed = time.monotonic()
        renamed_in(inbox / "story.txt")
        await watched.until_handed_on("story.txt")
        waited = time.monotonic() - renamed
    assert watched.names() == ["story.txt"]
    if backend == "watchfiles":
        assert waited >= SETTLE_MS / 1000, "handed on before it stayed unchanged for the settle time"


async def test_a_file_written_in_place_is_handed_on_once_it_stayed_unchanged_for_the_settle_time(
    inbox: Path, backend: str
) -> None:
    settle_ms = 300  # the writer below pauses well under it between its chunks
    size = len(AGREEMENT_ARTICLE) // 4 + 1
    async with watching(inbox, backend, settle_ms=settle_ms) as watched:
        with (inbox / "slow.txt").open("w", encoding="utf-8") as handle:
            for start in range(0, len(AGREEMENT_ARTICLE), size):
                handle.write(AGREEMENT_ARTICLE[start : start + size])
                handle.flush()
                await asyncio.sleep(0.05)
                assert watched.keys == [], "handed on while it was still being written"
        await watched.until_handed_on("slow.txt")
        await a_moment(settle_ms / 1000)
    assert watched.names() == ["slow.txt"]


async def test_a_file_copied_in_is_handed_on_once_complete(inbox: Path, tmp_path: Path, backend: str) -> None:
    original = tmp_path / "elsewhere" / "copied.txt"
    original.parent.mkdir()
    original.write_text(AGREEMENT_ARTICLE * 50)
    backdate(original)
    async with watching(inbox, backend) as watched:
        shutil.copy2(original, inbox / "copied.txt")  # written in place, then given the old stamps
        await watched.until_handed_on("copied.txt")
        await a_moment()
    assert watched.names() == ["copied.txt"]
    assert (inbox / "copied.txt").read_bytes() == original.read_bytes()


async def test_5000_files_at_once_are_each_handed_on_once(inbox: Path, tmp_path: Path, backend: str) -> None:
    names = [f"flood/{n:04d}.txt" for n in range(5000)]
    async with watching(inbox, backend) as watched:
        (inbox / "flood").mkdir()
        for name in names:
            (inbox / name).write_text(f"Flood {name}\n\nA short article.\n")
        await wait_until_async(lambda: len(watched.counts()) == len(names), 60, what="5000 files handed on")
        await a_moment()
    assert sorted(watched.counts()) == names
    assert set(watched.counts().values()) == {1}, "a file handed on twice"


async def test_ignored_names_are_never_handed_on(inbox: Path, backend: str) -> None:
    ignored = [".hidden.txt", "draft.txt~", "x.tmp", "upload.txt.part", ".x.swp", "notes.pdf"]
    (inbox / "before").mkdir()
    for name in ignored:  # there before the start: for the catch-up scan and the rescans
        (inbox / "before" / name).write_text(AGREEMENT_ARTICLE)
        backdate(inbox / "before" / name)
    async with watching(inbox, backend, rescan_seconds=RESCAN_S) as watched:
        for name in ignored:
            (inbox / name).write_text(AGREEMENT_ARTICLE)  # written in place: they would settle
        renamed_in(inbox / "moved.tmp")  # renamed in: it would go at once
        (inbox / "real.txt").write_text(AGREEMENT_ARTICLE)  # the one article, written last
        await watched.until_handed_on("real.txt")
        await watched.until_rescanned(2)
        await a_moment()
    assert watched.names() == ["real.txt"]


# -- folders ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["created in place", "moved in"])
async def test_a_folder_filled_at_once_is_caught_without_rescans(
    inbox: Path, tmp_path: Path, how: str, backend: str
) -> None:
    async with watching(inbox, backend) as watched:
        top = inbox / "batch" if how == "created in place" else tmp_path / "staging"
        (top / "deeper").mkdir(parents=True)
        (top / "a.txt").write_text(AGREEMENT_ARTICLE)
        (top / "deeper" / "b.txt").write_text(AGREEMENT_ARTICLE)
        if how == "moved in":
            top.rename(inbox / "batch")
        await watched.until_handed_on("batch/a.txt")
        await watched.until_handed_on("batch/deeper/b.txt")
        await a_moment()
    assert sorted(watched.names()) == ["batch/a.txt", "batch/deeper/b.txt"]


async def test_a_watched_folder_deleted_and_recreated_is_watched_again(inbox: Path, backend: str) -> None:
    renamed_in(inbox / "desk" / "first.txt")
    async with watching(inbox, backend) as watched:  # no rescans: the watcher alone
        await watched.until_handed_on("desk/first.txt")
        shutil.rmtree(inbox / "desk")
        (inbox / "desk").mkdir()  # the folder comes back, and is filled at once
        (inbox / "desk" / "second.txt").write_text(AGREEMENT_ARTICLE)
        await watched.until_handed_on("desk/second.txt")
        renamed_in(inbox / "desk" / "third.txt")  # only a watch on the new folder can see this one
        await watched.until_handed_on("desk/third.txt")
    assert watched.names() == ["desk/first.txt", "desk/second.txt", "desk/third.txt"]


async def test_a_watched_root_deleted_and_recreated_is_found_again_by_the_rescan(inbox: Path, backend: str) -> None:
    async with watching(inbox, backend, rescan_seconds=RESCAN_S) as watched:
        renamed_in(inbox / "first.txt")
        await watched.until_handed_on("first.txt")
        shutil.rmtree(inbox)
        renamed_in(inbox / "second.txt")  # nothing watches the inbox's parent: only a rescan can see this
        await watched.until_handed_on("second.txt")
        renamed_in(inbox / "third.txt")
        await watched.until_handed_on("third.txt")
    assert watched.names() == ["first.txt", "second.txt", "third.txt"]


# -- rescans ----------------------------------------------------------------------------------------------


async def test_a_rescan_hands_on_only_what_changed_since(inbox: Path, backend: str) -> None:
    for n in range(5):
        (inbox / f"old-{n}.txt").write_text(AGREEMENT_ARTICLE.replace("today", f"on day {n}"))
        backdate(inbox / f"old-{n}.txt")
    async with watching(inbox, backend, rescan_seconds=RESCAN_S) as watched:
        assert sorted(watched.names()) == [f"old-{n}.txt" for n in range(5)], "the catch-up scan"
        await watched.until_rescanned(2)
        assert len(watched.keys) == 5, "unchanged files are not handed on again"
        backdate(inbox / "old-3.txt", seconds=7200)  # a change only a rescan notices
        await watched.until_handed_on("old-3.txt", times=2)
        await watched.until_rescanned()
    assert watched.counts() == {"old-0.txt": 1, "old-1.txt": 1, "old-2.txt": 1, "old-3.txt": 2, "old-4.txt": 1}


async def test_retry_makes_the_next_rescan_hand_a_key_on_again(inbox: Path, backend: str) -> None:
    for name in ("failed.txt", "done.txt"):
        (inbox / name).write_text(AGREEMENT_ARTICLE)
        backdate(inbox / name)
    async with watching(inbox, backend, rescan_seconds=RESCAN_S) as watched:
        await watched.until_rescanned()
        assert watched.counts() == {"failed.txt": 1, "done.txt": 1}
        watched.source.retry([str(inbox / "failed.txt")])  # as the pipeline does after a failed batch
        await watched.until_handed_on("failed.txt", times=2)
        await watched.until_rescanned()
    assert watched.counts() == {"failed.txt": 2, "done.txt": 1}


# -- symlinks ---------------------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the inbox, with an article of its own."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(AGREEMENT_ARTICLE)
    return folder


async def test_a_symlink_is_handed_on_as_a_key_but_never_followed(inbox: Path, outside: Path, backend: str) -> None:
    (inbox / "early-link.txt").symlink_to(outside / "secret.txt")
    (inbox / "early-folder").symlink_to(outside, target_is_directory=True)
    async with watching(inbox, backend, rescan_seconds=RESCAN_S) as watched:
        (inbox / "late-link.txt").symlink_to(outside / "secret.txt")
        (inbox / "late-folder").symlink_to(outside, target_is_directory=True)
        (inbox / "late-folder.txt").symlink_to(outside, target_is_directory=True)
        await watched.until_handed_on("late-folder.txt")
        (outside / "new.txt").write_text(AGREEMENT_ARTICLE)  # an outside folder is never watched through a link
        await watched.until_rescanned(2)
    assert sorted(watched.names()) == ["early-link.txt", "late-folder.txt", "late-link.txt"]


# -- the source interface ---------------------------------------------------------------------------------


@pytest.fixture
def source(inbox: Path) -> FolderSource:
    return FolderSource(WatchSettings(paths=[inbox]))


def test_version_is_the_files_stamp_and_none_once_it_is_gone(source: FolderSource, inbox: Path) -> None:
    path = inbox / "a.txt"
    path.write_text(AGREEMENT_ARTICLE)
    first = source.version(str(path))
    assert first is not None and first == version_of(path)
    path.write_text(AGREEMENT_ARTICLE + "Updated.\n")
    assert source.version(str(path)) not in (None, first)
    path.unlink()
    assert source.version(str(path)) is None


def test_read_gives_the_key_as_name_the_files_bytes_and_its_time(source: FolderSource, inbox: Path) -> None:
    path = inbox / "sub" / "a.txt"
    path.parent.mkdir()
    path.write_text(AGREEMENT_ARTICLE, encoding="utf-8")
    os.utime(path, (1_768_392_000, 1_768_392_000))
    assert source.read(str(path)) == RawArticle(str(path), AGREEMENT_ARTICLE.encode(), 1_768_392_000.0)


def test_read_refuses_a_symlink_leading_outside_the_watched_folders(
    source: FolderSource, inbox: Path, outside: Path
) -> None:
    (inbox / "inside.txt").write_text(AGREEMENT_ARTICLE)
    (inbox / "link-inside.txt").symlink_to(inbox / "inside.txt")
    (inbox / "link-outside.txt").symlink_to(outside / "secret.txt")
    assert source.read(str(inbox / "link-inside.txt")).data == AGREEMENT_ARTICLE.encode()
    with pytest.raises(ArticleError) as refused:
        source.read(str(inbox / "link-outside.txt"))
    assert refused.value.reason == "symlink-outside"


async def test_a_file_whose_name_is_not_utf8_arriving_while_watched_is_handed_on(inbox: Path, backend: str) -> None:
    name = os.fsdecode(b"caf\xe9.txt")  # Latin-1 bytes, as Linux allows them (watchfiles mangles such a name)
    async with watching(inbox, backend) as watched:
        renamed_in(inbox / name)
        await watched.until_handed_on(name)
        await a_moment()
    assert watched.names() == [name]

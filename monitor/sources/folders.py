"""Folder source: finds article files in watched folders and hands their paths on when they are complete.

What every folder-watching backend shares: the settle loop (a file written in place is read once its size
and mtime stayed unchanged for the settle time, ``settle.py``), the catch-up scan at start and the periodic
rescan that reconcile whatever the watcher missed, and the memory of what was handed on. The backends say
what the watcher sees: inotify (``inotify_folders.py``, Linux) tells a file renamed into place from one
being written; watchfiles (``watchfiles_folders.py``, any platform) cannot, so every file it reports waits
out the settle time. ``backend.py`` picks one. Symlinks are never followed here; the reader
(``reading.py``) judges them.

Keys are the files' paths (as strings): the folder source is one implementation of ``sources.Source``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import structlog

from monitor import events
from monitor.config import WatchSettings
from monitor.reading import version_from, version_of
from monitor.sources import Emit
from monitor.sources.files import FolderFiles
from monitor.sources.settle import Settling, Verdict, is_fresh
from monitor.sources.tree import files_below, folders_below, holds_folder

log = structlog.get_logger("monitor.sources.files")


class FolderSource(FolderFiles):
    """Emits the path of every complete article file under the watched folders (possibly more than
    once: the pipeline skips a version it has handled). A backend supplies ``run`` and ``_watch``.

    Folder walks run on a thread, so a large inbox never blocks the event loop (nor the watchdog)."""

    #: the ``[watch] backend`` this class is
    backend = ""

    def __init__(self, settings: WatchSettings) -> None:
        super().__init__(settings)
        self.settle_s = settings.settle_ms / 1000
        self.rescan_s = settings.rescan_seconds
        self._settling = Settling(self.settle_s)
        self._settle_wakeup = asyncio.Event()
        #: every path a watched folder was known by (a rename keeps the old one) -> the folder's inode
        self._folder_inodes: dict[Path, int] = {}
        self._last_move: tuple[Path, int, bool] | None = None
        #: version of each path when last handed on, both as hashes (``_memo``): rescans skip what has not
        #: changed since. Two small ints a file, not a path and a string: an inbox of a million files
        self._emitted: dict[int, int] = {}

    async def run(self, emit: Emit) -> None:
        """The backend's: watch the folders and hand on their complete files until cancelled."""
        raise NotImplementedError

    def moved(self, key: str) -> bool:
        """Gone because a folder above it is gone, and that folder (by its inode) is still in the watched
        tree under another name: the watcher hands its files on under their new paths."""
        gone = None
        for folder in Path(key).parents:
            if folder in self.roots or not any(folder.is_relative_to(root) for root in self.roots):
                break
            if os.path.lexists(folder):
                break
            gone = folder
        inode = None if gone is None else self._folder_inodes.get(gone)
        if gone is None or inode is None:
            return False
        if self._last_move is not None and self._last_move[:2] == (gone, inode):
            return self._last_move[2]  # the other files of the same renamed folder
        found = any(holds_folder(root, self.names, inode) for root in self.roots)
        self._last_move = (gone, inode, found)
        return found

    def retry(self, keys: Sequence[str]) -> None:
        """The pipeline could not process these: let the next rescan hand them on again."""
        for key in keys:
            self._emitted.pop(_memo(key), None)

    def _handed_on(self, path: Path, version: str | None) -> bool:
        """Whether this version of ``path`` was handed on already (a second event for the same write)."""
        return version is not None and self._emitted.get(_memo(str(path))) == _memo(version)

    async def _emit(self, path: Path, emit: Emit, version: str | None = None) -> None:
        self._emitted[_memo(str(path))] = _memo(version or version_of(path))
        await emit(str(path))

    async def _serve(self, emit: Emit) -> None:
        """The catch-up scan, then ready, then the settle and rescan loops until cancelled."""
        for root in self.roots:
            root.mkdir(parents=True, exist_ok=True)
        await self._scan_all(emit, "catch-up", skip_known=False)
        self.ready.set()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._settle_loop(emit))
            tasks.create_task(self._rescan_loop(emit))

    def _watch(self, folders: Iterable[Path]) -> None:
        """Watch these folders (a scan found them): the base remembers their inodes, for ``moved``."""
        for folder in folders:
            with contextlib.suppress(OSError):
                self._folder_inodes[folder] = folder.stat().st_ino

    # -- settling -----------------------------------------------------------------------------

    def _start_settling(self, path: Path, st: os.stat_result | None = None) -> None:
        stamp = None if st is None else (st.st_size, st.st_mtime_ns)
        if self._settling.start(path, time.monotonic(), stamp):
            self._settle_wakeup.set()

    async def _settle_loop(self, emit: Emit) -> None:
        while True:
            if not self._settling:
                self._settle_wakeup.clear()
                await self._settle_wakeup.wait()
            await asyncio.sleep(self._settling.tick())
            now = time.monotonic()
            for path in self._settling.paths():
                st = _lstat(path)
                stamp = None if st is None else (st.st_size, st.st_mtime_ns)
                if self._settling.look(path, stamp, now) is Verdict.SETTLED and st is not None:
                    await self._emit(path, emit, version_from(st))

    # -- scanning -----------------------------------------------------------------------------

    async def _rescan_loop(self, emit: Emit) -> None:
        if not self.rescan_s:
            return
        while True:
            await asyncio.sleep(self.rescan_s)
            await self._scan_all(emit, "periodic", skip_known=True)

    async def _scan_all(self, emit: Emit, why: str, *, skip_known: bool) -> None:
        """Walk every root (re-arming a watched folder deleted and recreated) and hand on its files."""
        started = time.monotonic()
        present: set[int] = set()
        emitted = 0
        for root in self.roots:
            emitted += await self._scan(root, emit, skip_known=skip_known, present=present)
        for gone in self._emitted.keys() - present:
            del self._emitted[gone]
        log.debug(
            events.FOLDERS_SCANNED,
            why=why,
            files=len(present),
            handed_on=emitted,
            took_s=round(time.monotonic() - started, 3),
        )

    async def _scan(self, top: Path, emit: Emit, *, skip_known: bool, present: set[int] | None = None) -> int:
        """Watch the folders below ``top`` (first, so nothing slips between) and hand on its files.
        A file still being written (fresh mtime, or settling already) is left to the settle loop."""
        folders = await asyncio.to_thread(lambda: list(folders_below(top, self.names)))
        self._watch(folders)
        due = await asyncio.to_thread(self._due, top, time.time_ns(), skip_known, present)
        emitted = 0
        for path, version, fresh in due:
            if path in self._settling:
                continue
            if fresh:
                self._start_settling(path)
                continue
            await self._emit(path, emit, version)
            emitted += 1
        return emitted

    def _due(
        self, top: Path, now_ns: int, skip_known: bool, present: set[int] | None
    ) -> list[tuple[Path, str | None, bool]]:
        """On a thread: the files below ``top`` to hand on (version, still fresh?), only those, so that a
        rescan of a large inbox holds no object per file that did not change."""
        due = []
        for path in files_below(top, self.names):
            st = _lstat(path)
            version = None if st is None else version_from(st)
            memo = _memo(str(path))
            if present is not None:
                present.add(memo)
            if skip_known and version is not None and self._emitted.get(memo) == _memo(version):
                continue
            due.append((path, version, st is not None and is_fresh(st.st_mtime_ns, now_ns, self.settle_s)))
        return due


def _memo(text: str | None) -> int:
    """A path or version as the rescan memory keeps it (64 bits: a clash among a million files has odds
    of one in ten million million, and would only leave a change to the watcher)."""
    return 0 if text is None else hash(text)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except OSError:
        return None

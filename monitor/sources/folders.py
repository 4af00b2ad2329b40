"""Folder source: finds article files in watched folders and hands their paths on when they are complete.

inotify (through asyncinotify) rather than watchfiles, because completeness needs the events that
watchfiles folds away: a file *moved into place* (IN_MOVED_TO) is complete and read at once; a file
created or written in place is read once its size and mtime stayed unchanged for the settle time.
The watcher is not trusted alone: a catch-up scan at start, a rescan after an inotify queue overflow,
and a periodic rescan reconcile anything missed (folders created and filled at once, a watched folder
deleted and recreated). Symlinks are never followed here; the reader (``reading.py``) judges them.

Keys are the files' paths (as strings): the folder source is one implementation of ``sources.Source``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
from asyncinotify import Inotify, Mask, Watch

from monitor import events
from monitor.config import WatchSettings
from monitor.reading import read_file, version_from, version_of
from monitor.sources import Emit, RawArticle, Rejected
from monitor.sources.tree import NameFilter, files_below, folders_below

log = structlog.get_logger("monitor.sources.files")

DIR_MASK = (
    Mask.CREATE
    | Mask.MOVED_TO
    | Mask.CLOSE_WRITE
    | Mask.MODIFY
    | Mask.DELETE_SELF
    | Mask.MOVE_SELF
    | Mask.ONLYDIR
    | Mask.DONT_FOLLOW
)


@dataclass
class _Settling:
    size: int
    mtime_ns: int
    since: float


#: bad inputs that are not the folder's to move: gone, or not files of the folder at all
NOT_MOVED = frozenset({"vanished", "symlink-outside", "not-a-regular-file"})


class FolderFiles:
    """Article files under some folders, as a source sees them: keys are paths, versions their stamps,
    reads go through the safe reader, bad files may be moved to the quarantine folder."""

    def __init__(self, settings: WatchSettings) -> None:
        self.roots = [p.absolute() for p in settings.paths]
        self.max_bytes = settings.max_bytes
        self.quarantine = settings.quarantine
        skip = frozenset({settings.quarantine.absolute()} if settings.quarantine else ())
        self.names = NameFilter(tuple(settings.include), tuple(settings.ignore), skip)
        self.ready = asyncio.Event()

    def version(self, key: str) -> str | None:
        return version_of(Path(key))

    def read(self, key: str) -> RawArticle:
        return RawArticle(key, read_file(Path(key), self.roots, self.max_bytes))

    def settled(self, rejected: Sequence[Rejected]) -> None:
        """Move bad files aside when configured; never files that are gone or not ours to move."""
        if self.quarantine is None:
            return
        for bad in rejected:
            if bad.reason in NOT_MOVED:
                continue
            source = Path(bad.key)
            target = self.quarantine / f"{int(time.time())}-{source.name}"
            try:
                self.quarantine.mkdir(parents=True, exist_ok=True)
                shutil.move(source, target)
            except OSError as exc:
                log.warning("could not quarantine file", path=str(source), error=exc.strerror or str(exc))


class ArchiveSource(FolderFiles):
    """The article files under a folder that was never watched (``monitor backfill``), emitted once in
    path order. What a failed batch leaves is not emitted again: a later backfill takes it."""

    def __init__(self, settings: WatchSettings) -> None:
        super().__init__(settings)
        self.files = sorted(path for root in self.roots for path in files_below(root, self.names))

    async def run(self, emit: Emit) -> None:
        self.ready.set()
        for path in self.files:
            await emit(str(path))

    def retry(self, keys: Sequence[str]) -> None:
        """Nothing to do: the walk is not repeated."""


class FolderSource(FolderFiles):
    """Emits the path of every complete article file under the watched folders (possibly more than
    once: the pipeline skips a version it has handled).

    Folder walks run on a thread, so a large inbox never blocks the event loop (nor the watchdog)."""

    def __init__(self, settings: WatchSettings) -> None:
        super().__init__(settings)
        self.settle_s = settings.settle_ms / 1000
        self.rescan_s = settings.rescan_seconds
        self._settling: dict[Path, _Settling] = {}
        self._settle_wakeup = asyncio.Event()
        self._watches: dict[Path, Watch] = {}
        self._inodes: dict[int, int] = {}  # watch descriptor -> inode of the folder it was added for
        #: version of each path when last handed on: rescans skip what has not changed since
        self._emitted: dict[Path, str | None] = {}

    def retry(self, keys: Sequence[str]) -> None:
        """The pipeline could not process these: let the next rescan hand them on again."""
        for key in keys:
            self._emitted.pop(Path(key), None)

    async def _emit(self, path: Path, emit: Emit, version: str | None = None) -> None:
        self._emitted[path] = version or version_of(path)
        await emit(str(path))

    async def run(self, emit: Emit) -> None:
        for root in self.roots:
            root.mkdir(parents=True, exist_ok=True)
        with Inotify() as inotify:
            await self._scan_all(inotify, emit, "catch-up", skip_known=False)
            self.ready.set()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._settle_loop(emit))
                tasks.create_task(self._rescan_loop(inotify, emit))
                await self._event_loop(inotify, emit)

    # -- inotify ------------------------------------------------------------------------------

    async def _event_loop(self, inotify: Inotify, emit: Emit) -> None:
        async for event in inotify:
            mask = event.mask
            if mask & Mask.Q_OVERFLOW:
                log.warning(events.INOTIFY_OVERFLOW)
                await self._scan_all(inotify, emit, "overflow", skip_known=True)
                continue
            if mask & Mask.IGNORED and event.watch is not None:
                self._forget_watch(event.watch)
                continue
            if mask & Mask.MOVE_SELF and event.watch is not None:
                self._moved_away(inotify, event.watch)
                continue
            path = event.path
            if path is None or mask & Mask.DELETE_SELF:
                continue
            if mask & Mask.ISDIR:
                if mask & (Mask.CREATE | Mask.MOVED_TO) and not self.names.skips_dir(path):
                    # a folder created, or moved in, already filled: watch it, then scan what is there
                    if mask & Mask.MOVED_TO:
                        self._repath(inotify, path)
                    await self._scan(inotify, path, emit, skip_known=False)
                continue
            if not self.names.accepts_file(path.name):
                continue
            if mask & Mask.MOVED_TO:
                self._settling.pop(path, None)
                await self._emit(path, emit)
            else:  # created, written or closed in place: read it once it has settled
                self._start_settling(path)

    def _watch(self, inotify: Inotify, folders: Iterable[Path]) -> None:
        for folder in folders:
            if folder in self._watches:
                continue
            try:
                watch = inotify.add_watch(folder, DIR_MASK)
                self._inodes[watch.wd] = folder.stat().st_ino
            except OSError as exc:
                log.error("cannot watch folder", folder=str(folder), error=exc.strerror or str(exc))
                continue
            self._watches[folder] = watch

    def _repath(self, inotify: Inotify, folder: Path) -> None:
        """A watched folder renamed within the tree keeps its watches (one per inode), which still
        carry the old path: give them, and those of its subfolders, the new one."""
        if folder in self._watches:
            return
        try:
            old = inotify.add_watch(folder, DIR_MASK).path  # the existing watch, if this inode has one
        except OSError:
            return
        if old == folder:
            return
        for known, watch in list(self._watches.items()):
            if known == old or known.is_relative_to(old):
                watch.path = folder / known.relative_to(old)
                del self._watches[known]
                self._watches[watch.path] = watch

    def _moved_away(self, inotify: Inotify, watch: Watch) -> None:
        """A watched folder moved out of the tree: stop watching it and what is below it."""
        try:
            still_here = watch.path.stat().st_ino == self._inodes.get(watch.wd)
        except OSError:
            still_here = False
        if still_here:
            return  # moved within the tree: already repathed when it arrived
        for known, other in list(self._watches.items()):
            if known == watch.path or known.is_relative_to(watch.path):
                with contextlib.suppress(OSError):
                    inotify.rm_watch(other)
                del self._watches[known]

    def _forget_watch(self, watch: Watch) -> None:
        self._inodes.pop(watch.wd, None)
        for folder, known in list(self._watches.items()):
            if known is watch:
                del self._watches[folder]

    # -- settling -----------------------------------------------------------------------------

    def _start_settling(self, path: Path) -> None:
        if path not in self._settling:
            self._settling[path] = _Settling(-1, -1, time.monotonic())
            self._settle_wakeup.set()

    async def _settle_loop(self, emit: Emit) -> None:
        tick = max(0.02, min(0.1, self.settle_s / 3))
        while True:
            if not self._settling:
                self._settle_wakeup.clear()
                await self._settle_wakeup.wait()
            await asyncio.sleep(tick)
            now = time.monotonic()
            for path, state in list(self._settling.items()):
                try:
                    st = path.lstat()
                except OSError:
                    del self._settling[path]  # gone again (a temp file): nothing to read
                    continue
                if (st.st_size, st.st_mtime_ns) != (state.size, state.mtime_ns):
                    self._settling[path] = _Settling(st.st_size, st.st_mtime_ns, now)
                elif now - state.since >= self.settle_s:
                    del self._settling[path]
                    await self._emit(path, emit, version_from(st))

    # -- scanning -----------------------------------------------------------------------------

    async def _rescan_loop(self, inotify: Inotify, emit: Emit) -> None:
        if not self.rescan_s:
            return
        while True:
            await asyncio.sleep(self.rescan_s)
            await self._scan_all(inotify, emit, "periodic", skip_known=True)

    async def _scan_all(self, inotify: Inotify, emit: Emit, why: str, *, skip_known: bool) -> None:
        """Walk every root (re-arming a watched folder deleted and recreated) and hand on its files."""
        started = time.monotonic()
        present: set[Path] = set()
        emitted = 0
        for root in self.roots:
            emitted += await self._scan(inotify, root, emit, skip_known=skip_known, present=present)
        for gone in self._emitted.keys() - present:
            del self._emitted[gone]
        log.debug(
            events.FOLDERS_SCANNED,
            why=why,
            files=len(present),
            handed_on=emitted,
            took_s=round(time.monotonic() - started, 3),
        )

    async def _scan(
        self, inotify: Inotify, top: Path, emit: Emit, *, skip_known: bool, present: set[Path] | None = None
    ) -> int:
        """Watch the folders below ``top`` (first, so nothing slips between) and hand on its files.
        A file still being written (fresh mtime, or settling already) is left to the settle loop."""
        folders = await asyncio.to_thread(lambda: list(folders_below(top, self.names)))
        self._watch(inotify, folders)
        files = await asyncio.to_thread(lambda: [(path, _lstat(path)) for path in files_below(top, self.names)])
        fresh_after = time.time_ns() - int(self.settle_s * 1e9)
        emitted = 0
        for path, st in files:
            if present is not None:
                present.add(path)
            version = None if st is None else version_from(st)
            if path in self._settling or (skip_known and version is not None and self._emitted.get(path) == version):
                continue
            if st is not None and st.st_mtime_ns > fresh_after:
                self._start_settling(path)
                continue
            await self._emit(path, emit, version)
            emitted += 1
        return emitted


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except OSError:
        return None

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
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
from asyncinotify import Inotify, Mask, Watch

from monitor import events
from monitor.config import WatchSettings
from monitor.reading import version_from, version_of
from monitor.sources import Emit
from monitor.sources.files import FolderFiles
from monitor.sources.tree import files_below, folders_below, holds_folder

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

#: on the parent of a watched root that is gone: its return
LOOKOUT_MASK = Mask.CREATE | Mask.MOVED_TO | Mask.ONLYDIR | Mask.DONT_FOLLOW


@dataclass
class _Settling:
    size: int
    mtime_ns: int
    since: float


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
        #: every path a watched folder was known by (a rename keeps the old one) -> the folder's inode
        self._folder_inodes: dict[Path, int] = {}
        #: watch descriptor on the nearest existing parent of a watched root that is gone -> those roots
        self._lookouts: dict[int, set[Path]] = {}
        self._last_move: tuple[Path, int, bool] | None = None
        #: version of each path when last handed on, both as hashes (``_memo``): rescans skip what has not
        #: changed since. Two small ints a file, not a path and a string: an inbox of a million files
        self._emitted: dict[int, int] = {}

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

    async def _emit(self, path: Path, emit: Emit, version: str | None = None) -> None:
        self._emitted[_memo(str(path))] = _memo(version or version_of(path))
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
            if event.watch is not None and event.watch.wd in self._lookouts:
                await self._lookout_event(inotify, event.watch, mask, emit)
                continue
            if mask & Mask.IGNORED and event.watch is not None:
                await self._forget_watch(inotify, event.watch, emit)
                continue
            if mask & Mask.MOVE_SELF and event.watch is not None:
                await self._moved_away(inotify, event.watch, emit)
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
            if (why_not := self.names.why_not(path.name)) is not None:
                # once per file (its last event), and not for what watch.ignore skips on purpose (temp files)
                if mask & (Mask.MOVED_TO | Mask.CLOSE_WRITE) and not self.names.ignores(path.name):
                    log.debug("file not taken", path=str(path), reason=why_not)
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
                self._inodes[watch.wd] = self._folder_inodes[folder] = folder.stat().st_ino
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
                if watch.wd in self._inodes:
                    self._folder_inodes[watch.path] = self._inodes[watch.wd]

    async def _moved_away(self, inotify: Inotify, watch: Watch, emit: Emit) -> None:
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
        if watch.path in self.roots:
            await self._look_out(inotify, watch.path, emit)

    async def _forget_watch(self, inotify: Inotify, watch: Watch, emit: Emit) -> None:
        inode = self._inodes.pop(watch.wd, None)
        for folder, known in list(self._watches.items()):
            if known is watch:
                del self._watches[folder]
        for folder, known_inode in list(self._folder_inodes.items()):
            if known_inode == inode and folder not in self._watches:
                del self._folder_inodes[folder]
        if watch.path in self.roots and watch.path not in self._watches:
            await self._look_out(inotify, watch.path, emit)  # a watched root deleted: watch for its return

    # -- a watched root deleted or moved away -------------------------------------------------

    async def _look_out(self, inotify: Inotify, root: Path, emit: Emit) -> None:
        """Watch the nearest existing parent of a root that is gone, to watch the root again the moment
        it is back (recreated, or moved into place), not at the next rescan."""
        try:
            watch = inotify.add_watch(_nearest_folder(root.parent), LOOKOUT_MASK)
        except OSError as exc:
            log.error("cannot watch for a watched folder to return", folder=str(root), error=exc.strerror or str(exc))
            return
        self._lookouts.setdefault(watch.wd, set()).add(root)
        await self._lookout_event(inotify, watch, Mask.CREATE, emit)  # back already, before the watch was in place?

    async def _lookout_event(self, inotify: Inotify, watch: Watch, mask: Mask, emit: Emit) -> None:
        """Something appeared in (or happened to) the parent a gone root is looked out for from."""
        for root in list(self._lookouts.get(watch.wd, ())):
            if _nearest_folder(root) == root:
                self._drop_lookout(inotify, watch, root)
                log.info("watched folder is back; watching it again", folder=str(root))
                await self._scan(inotify, root, emit, skip_known=False)
            elif mask & Mask.IGNORED or _nearest_folder(root.parent) != watch.path:
                self._drop_lookout(inotify, watch, root)  # the parent went (further up), or a folder on the
                await self._look_out(inotify, root, emit)  # way back appeared (closer)

    def _drop_lookout(self, inotify: Inotify, watch: Watch, root: Path) -> None:
        roots = self._lookouts.get(watch.wd, set())
        roots.discard(root)
        if not roots:
            del self._lookouts[watch.wd]
            with contextlib.suppress(OSError):
                inotify.rm_watch(watch)

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
        present: set[int] = set()
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
        self, inotify: Inotify, top: Path, emit: Emit, *, skip_known: bool, present: set[int] | None = None
    ) -> int:
        """Watch the folders below ``top`` (first, so nothing slips between) and hand on its files.
        A file still being written (fresh mtime, or settling already) is left to the settle loop."""
        folders = await asyncio.to_thread(lambda: list(folders_below(top, self.names)))
        self._watch(inotify, folders)
        fresh_after = time.time_ns() - int(self.settle_s * 1e9)
        due = await asyncio.to_thread(self._due, top, fresh_after, skip_known, present)
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
        self, top: Path, fresh_after: int, skip_known: bool, present: set[int] | None
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
            due.append((path, version, st is not None and st.st_mtime_ns > fresh_after))
        return due


def _memo(text: str | None) -> int:
    """A path or version as the rescan memory keeps it (64 bits: a clash among a million files has odds
    of one in ten million million, and would only leave a change to the watcher)."""
    return 0 if text is None else hash(text)


def _nearest_folder(path: Path) -> Path:
    """``path`` if it is a folder, else its nearest parent that is."""
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except OSError:
        return None

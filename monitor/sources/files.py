"""Folder source: finds article files in watched folders and hands their paths on when they are complete.

inotify (through asyncinotify) rather than watchfiles, because completeness needs the events that
watchfiles folds away: a file *moved into place* (IN_MOVED_TO) is complete and read at once; a file
created or written in place is read once its size and mtime stayed unchanged for the settle time.
The watcher is not trusted alone: a catch-up scan at start, a rescan after an inotify queue overflow,
and a periodic rescan reconcile anything missed (folders created and filled at once, a watched folder
deleted and recreated). Symlinks are never followed here; the reader judges them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import structlog
from asyncinotify import Inotify, Mask, Watch

from monitor.config import WatchSettings
from monitor.sources import Emit

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


@dataclass(frozen=True)
class NameFilter:
    include: tuple[str, ...]
    ignore: tuple[str, ...]

    def accepts_file(self, name: str) -> bool:
        return any(fnmatchcase(name, p) for p in self.include) and not self.ignores(name)

    def ignores(self, name: str) -> bool:
        return any(fnmatchcase(name, p) for p in self.ignore)


@dataclass
class _Settling:
    size: int
    mtime_ns: int
    since: float


#: (size, mtime, ctime) of a file: ctime changes with permissions too, so a file made readable is retried
Stamp = tuple[int, int, int]


class FolderSource:
    """Emits the path of every complete article file under the watched folders (possibly more than
    once: the consumer deduplicates against the store).

    Folder walks run on a thread, so a large inbox never blocks the event loop (nor the watchdog)."""

    def __init__(self, settings: WatchSettings) -> None:
        self.roots = [p.absolute() for p in settings.paths]
        self.names = NameFilter(tuple(settings.include), tuple(settings.ignore))
        self.settle_s = settings.settle_ms / 1000
        self.rescan_s = settings.rescan_seconds
        self.skip_dirs = {settings.quarantine.absolute()} if settings.quarantine else set()
        self._settling: dict[Path, _Settling] = {}
        self._settle_wakeup = asyncio.Event()
        self._watches: dict[Path, Watch] = {}
        self._inodes: dict[int, int] = {}  # watch descriptor -> inode of the folder it was added for
        #: stamp of each path when last handed on: rescans skip what has not changed since
        self._emitted: dict[Path, Stamp | None] = {}
        self.ready = asyncio.Event()

    def forget(self, paths: Iterable[Path]) -> None:
        """The consumer could not process these: let the next rescan hand them on again."""
        for path in paths:
            self._emitted.pop(path, None)

    async def _emit(self, path: Path, emit: Emit, stamp: Stamp | None = None) -> None:
        self._emitted[path] = stamp or _stamp(path)
        await emit(path)

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
                log.warning("inotify queue overflowed; rescanning the watched folders")
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
                if mask & (Mask.CREATE | Mask.MOVED_TO) and not self._skips_dir(path):
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
                    await self._emit(path, emit, (st.st_size, st.st_mtime_ns, st.st_ctime_ns))

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
            "scanned watched folders",
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
        folders = await asyncio.to_thread(lambda: list(self._folders(top)))
        self._watch(inotify, folders)
        files = await asyncio.to_thread(lambda: [(path, _stamp(path)) for path in self._files(top)])
        fresh_after = time.time_ns() - int(self.settle_s * 1e9)
        emitted = 0
        for path, stamp in files:
            if present is not None:
                present.add(path)
            if path in self._settling or (skip_known and stamp is not None and self._emitted.get(path) == stamp):
                continue
            if stamp is not None and stamp[1] > fresh_after:
                self._start_settling(path)
                continue
            await self._emit(path, emit, stamp)
            emitted += 1
        return emitted

    def _skips_dir(self, path: Path) -> bool:
        return self.names.ignores(path.name) or path in self.skip_dirs

    def _folders(self, top: Path) -> Iterator[Path]:
        with contextlib.suppress(OSError):
            if not top.is_dir() or top.is_symlink():
                return
        for folder, dirnames, _files in os.walk(top, followlinks=False):
            dirnames[:] = [d for d in dirnames if not self._skips_dir(Path(folder, d))]
            yield Path(folder)

    def _files(self, top: Path) -> Iterator[Path]:
        """Accepted names below ``top``; symlinks (to files or folders) are listed, never followed."""
        for folder, dirnames, filenames in os.walk(top, followlinks=False):
            base = Path(folder)
            links = [d for d in dirnames if (base / d).is_symlink()]
            dirnames[:] = [d for d in dirnames if d not in links and not self._skips_dir(base / d)]
            for name in sorted(filenames + links):
                if self.names.accepts_file(name):
                    yield base / name


def _stamp(path: Path) -> Stamp | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns

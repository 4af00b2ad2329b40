"""The inotify folder-watching backend (Linux, through asyncinotify; imported only when it is used).

inotify rather than watchfiles where it can be had, because completeness needs the events that
watchfiles folds away: a file *moved into place* (IN_MOVED_TO) is complete and read at once; a file
created or written in place is read once its size and mtime stayed unchanged for the settle time.
The watcher is not trusted alone: a catch-up scan at start, a rescan after an inotify queue overflow,
and a periodic rescan reconcile anything missed (folders created and filled at once, a watched folder
deleted and recreated). A watched root that is gone is looked out for from its nearest parent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from pathlib import Path

import structlog
from asyncinotify import Inotify, Mask, Watch

from monitor import events
from monitor.config import WatchSettings
from monitor.sources import Emit
from monitor.sources.folders import FolderSource

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


class InotifyFolderSource(FolderSource):
    """The folder source on inotify: renames into place go at once, writes in place settle first."""

    backend = "inotify"

    def __init__(self, settings: WatchSettings) -> None:
        super().__init__(settings)
        self._inotify: Inotify | None = None
        self._watches: dict[Path, Watch] = {}
        self._inodes: dict[int, int] = {}  # watch descriptor -> inode of the folder it was added for
        #: watch descriptor on the nearest existing parent of a watched root that is gone -> those roots
        self._lookouts: dict[int, set[Path]] = {}

    async def run(self, emit: Emit) -> None:
        with Inotify() as inotify:
            self._inotify = inotify
            try:
                async with asyncio.TaskGroup() as tasks:
                    tasks.create_task(self._serve(emit))
                    await self.ready.wait()  # the catch-up scan has added the watches
                    await self._event_loop(inotify, emit)
            finally:
                self._inotify = None

    # -- inotify ------------------------------------------------------------------------------

    async def _event_loop(self, inotify: Inotify, emit: Emit) -> None:
        async for event in inotify:
            mask = event.mask
            if mask & Mask.Q_OVERFLOW:
                log.warning(events.INOTIFY_OVERFLOW)
                await self._scan_all(emit, "overflow", skip_known=True)
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
                    await self._scan(path, emit, skip_known=False)
                continue
            if (why_not := self.names.why_not(path.name)) is not None:
                # once per file (its last event), and not for what watch.ignore skips on purpose (temp files)
                if mask & (Mask.MOVED_TO | Mask.CLOSE_WRITE) and not self.names.ignores(path.name):
                    log.debug("file not taken", path=str(path), reason=why_not)
                continue
            if mask & Mask.MOVED_TO:
                self._settling.drop(path)
                await self._emit(path, emit)
            else:  # created, written or closed in place: read it once it has settled
                self._start_settling(path)

    def _watch(self, folders: Iterable[Path]) -> None:
        inotify = self._inotify
        assert inotify is not None, "watches are added while running"
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
                await self._scan(root, emit, skip_known=False)
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


def _nearest_folder(path: Path) -> Path:
    """``path`` if it is a folder, else its nearest parent that is."""
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path

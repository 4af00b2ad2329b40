"""The watchfiles folder-watching backend: any platform (FSEvents on macOS, ReadDirectoryChangesW on
Windows, inotify on Linux, or polling where notifications see nothing, as on a network file system).

watchfiles folds a file renamed into place and a file being written into the same *added* event, so here
every file it reports gets the settle check: read once its size and mtime stayed unchanged for the settle
time, or at once when its mtime is older than that already (the catch-up scan's rule). A rename into place
therefore costs the settle time here, where inotify reads it at once.

One watcher per root (``watchfiles.awatch``, recursive: new folders are watched by it, and a folder that
arrives filled is scanned). watchfiles follows symlinked folders, so what it reports behind a symlink is
dropped; ignored names are dropped by its filter, through the same rules as the walks. A root deleted or
replaced is noticed by a stat every ``ROOT_CHECK_S``; its watcher is restarted when it is back and the root
is scanned. The periodic rescan catches whatever the watcher missed.
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog
from watchfiles import Change, awatch

from monitor.config import WatchSettings
from monitor.reading import version_from
from monitor.sources import Emit
from monitor.sources.folders import FolderSource, _lstat
from monitor.sources.settle import is_fresh
from monitor.sources.tree import behind_symlink

log = structlog.get_logger("monitor.sources.files")

#: how long watchfiles waits for more changes before it hands a batch on: a lone event is seen this soon
STEP_MS = 50
#: the longest it groups changes that keep coming (5,000 files copied in): a flood is handed on at least
#: this often, so files start settling while the copy goes on (watchfiles' own 1.6 s only adds latency:
#: the settle check, not the debounce, decides when a file is complete)
DEBOUNCE_MS = 300
#: watchfiles returns to us this often without changes: its first return proves the watches are in place
#: (the catch-up scan waits for that, so nothing arrives unseen between the two); idle, 2 wake-ups a second
RUST_TIMEOUT_MS = 500
#: how often a root is checked for being gone or replaced (one stat)
ROOT_CHECK_S = 0.5
#: when polling: how often the tree is walked for changes
POLL_DELAY_MS = 500


class WatchfilesFolderSource(FolderSource):
    """The folder source on watchfiles: every file it reports waits out the settle time."""

    backend = "watchfiles"

    def __init__(self, settings: WatchSettings, *, force_polling: bool = False) -> None:
        super().__init__(settings)
        #: poll instead of notifications (a root on a network file system, where notifications see nothing)
        self.force_polling = force_polling

    async def run(self, emit: Emit) -> None:
        for root in self.roots:
            root.mkdir(parents=True, exist_ok=True)
        async with asyncio.TaskGroup() as tasks:
            live = [asyncio.Event() for _ in self.roots]
            for root, started in zip(self.roots, live, strict=True):
                tasks.create_task(self._keep_watching(root, emit, started))
            for started in live:
                await started.wait()
            tasks.create_task(self._serve(emit))  # the catch-up scan, once every watcher is in place

    async def _keep_watching(self, root: Path, emit: Emit, started: asyncio.Event) -> None:
        """Watch ``root`` while it is there; when it is gone, wait for it to return and scan it."""

        async def back() -> None:
            log.info("watched folder is back; watching it again", folder=str(root))
            await self._scan(root, emit, skip_known=False)

        async def rescan() -> None:
            await self._scan(root, emit, skip_known=True)

        on_live: Callable[[], Awaitable[None]] = _set_event(started)
        while True:
            inode = await _present(root)
            try:
                await self._watch_root(root, inode, emit, on_live)
            except Exception as exc:  # a name it cannot decode (not UTF-8) ends watchfiles' watcher: restart it
                log.warning("folder watcher failed; restarting it and rescanning", folder=str(root), error=_cause(exc))
                on_live = rescan if started.is_set() else _set_event(started)
                await asyncio.sleep(ROOT_CHECK_S)  # a watcher that cannot start at all is not retried in a loop
                continue
            on_live = back
            log.info("watched folder is gone; watching for its return", folder=str(root))

    async def _watch_root(self, root: Path, inode: int, emit: Emit, on_live: Callable[[], Awaitable[None]]) -> None:
        """Hand on what watchfiles reports below ``root`` until the root is gone or replaced."""
        stop = asyncio.Event()
        real = Path(await asyncio.to_thread(os.path.realpath, root))  # as macOS reports it (/private/var)
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(_stop_when_replaced(root, inode, stop))
            first = True
            async for changes in awatch(
                root,
                watch_filter=lambda change, path: self._wanted(change, _below(path, root, real), root),
                debounce=DEBOUNCE_MS,
                step=STEP_MS,
                stop_event=stop,
                rust_timeout=RUST_TIMEOUT_MS,
                yield_on_timeout=True,
                force_polling=self.force_polling,
                poll_delay_ms=POLL_DELAY_MS,
                ignore_permission_denied=True,
            ):
                if first:
                    first = False
                    await on_live()
                if await self._changes(root, {(c, str(_below(p, root, real))) for c, p in changes}, emit):
                    stop.set()  # the root itself was deleted (a new folder may reuse its inode: say so now)
            stop.set()

    def _wanted(self, change: Change, path: Path, root: Path) -> bool:
        """watchfiles' filter: what the walks would take; of removals only the root's (a file removed needs
        nothing: the settle loop sees it gone)."""
        if change is Change.deleted:
            return path == root
        return not self.names.skips_below(path, root)

    async def _changes(self, root: Path, changes: set[tuple[Change, str]], emit: Emit) -> bool:
        """Hand on or settle what changed; True when the root itself was deleted."""
        if (Change.deleted, str(root)) in changes:
            return True
        for change, raw in sorted(changes, key=lambda c: c[1]):  # a new folder before the files in it
            path = Path(raw)
            if path == root or behind_symlink(path, root):
                continue
            st = _lstat(path)
            if st is None:
                if "\ufffd" in raw and path.parent.is_dir():  # a name that is not UTF-8, which watchfiles
                    await self._scan(path.parent, emit, skip_known=True)  # mangles: find it by a walk
                continue  # gone again (a temp file renamed away)
            if stat.S_ISDIR(st.st_mode):
                if change is Change.added:  # created or moved in, possibly filled already: scan it
                    await self._scan(path, emit, skip_known=True)
                continue
            if (why_not := self.names.why_not(path.name)) is not None:
                if change is Change.added:  # once per file: its first event
                    log.debug("file not taken", path=str(path), reason=why_not)
                continue
            version = version_from(st)
            if self._handed_on(path, version) or path in self._settling:
                continue
            if is_fresh(st.st_mtime_ns, time.time_ns(), self.settle_s):
                self._start_settling(path, st)  # renamed in or being written: watchfiles cannot say which
            else:
                await self._emit(path, emit, version)
        return False


def _below(reported: str, root: Path, real: Path) -> Path:
    """A path watchfiles reports, as under ``root`` (it may report it under the root's resolved path)."""
    path = Path(reported)
    if real != root and not path.is_relative_to(root) and path.is_relative_to(real):
        return root / path.relative_to(real)
    return path


def _cause(exc: BaseException) -> str:
    """The first real error inside the task groups' exception groups, in one line."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def _set_event(event: asyncio.Event) -> Callable[[], Awaitable[None]]:
    async def set_it() -> None:
        event.set()

    return set_it


async def _present(root: Path) -> int:
    """Wait until ``root`` is a folder (not a symlink); its inode."""
    while True:
        st = _lstat(root)
        if st is not None and stat.S_ISDIR(st.st_mode):
            return st.st_ino
        await asyncio.sleep(ROOT_CHECK_S)


async def _stop_when_replaced(root: Path, inode: int, stop: asyncio.Event) -> None:
    """Set ``stop`` once ``root`` is gone or another folder (or a symlink) took its name; set it too when
    cancelled, so that watchfiles' thread ends at its next step rather than at its timeout."""
    try:
        while not stop.is_set():
            await asyncio.sleep(ROOT_CHECK_S)
            st = _lstat(root)
            if st is None or not stat.S_ISDIR(st.st_mode) or st.st_ino != inode:
                return
    finally:
        stop.set()

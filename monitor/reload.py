"""What triggers a watchlist reload besides SIGHUP (an edited watchlist file), and which settings a
reload cannot apply (everything in the TOML: the daemon reports those as needing a restart).

The watchlist folders are watched with inotify where it can be had, else with watchfiles (macOS,
Windows: where there is no SIGHUP either, an edited file is the way to reload)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel

from monitor.sources.backend import inotify_usable

if TYPE_CHECKING:
    from asyncinotify import Inotify

log = structlog.get_logger("monitor.reload")

WATCHLIST_SUFFIXES = (".yaml", ".yml")
#: wait this long after the last event: an editor saving several files, or a deploy copying a folder,
#: reloads once with everything in place
DEBOUNCE_S = 0.5


def flatten(model: BaseModel) -> dict[str, Any]:
    """``{"mqtt.port": 1883, ...}``: dotted keys as in the README's configuration table."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(f"{prefix}.{name}" if prefix else name, getattr(value, name))
        else:
            out[prefix] = value

    walk("", model)
    return out


def restart_needed(running: BaseModel, on_disk: BaseModel) -> list[str]:
    """Keys whose value on disk differs from the running one. Only the keys: values may be secrets."""
    old, new = flatten(running), flatten(on_disk)
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def watched_folders(paths: Sequence[Path]) -> dict[Path, set[str] | None]:
    """Folder -> names to react to (None: any watchlist file), for folders and single files alike."""
    folders: dict[Path, set[str] | None] = {}
    for path in (p.absolute() for p in paths):
        if path.is_dir():
            folders[path] = None
        elif path.parent.is_dir() and folders.get(path.parent, set()) is not None:
            names = folders.setdefault(path.parent, set())
            assert names is not None
            names.add(path.name)
    return folders


def concerns(names: set[str] | None, name: str) -> bool:
    if names is not None:
        return name in names
    return name.endswith(WATCHLIST_SUFFIXES) and not name.startswith(".")


class WatchlistWatcher:
    """Calls ``on_change`` once the watchlist files stop changing for ``debounce`` seconds."""

    def __init__(self, paths: Sequence[Path], debounce: float = DEBOUNCE_S, backend: str = "auto") -> None:
        self.folders = watched_folders(paths)
        self.debounce = debounce
        #: ``[watch] backend``: "watchfiles" watches the watchlist folders with it too, else inotify if usable
        self.backend = backend
        self.ready = asyncio.Event()

    async def run(self, on_change: Callable[[str], Awaitable[object]]) -> None:
        inotify = self.backend != "watchfiles" and inotify_usable()
        changes = self._inotify_changes() if inotify else self._watchfiles_changes()
        async for first in changes:
            try:
                await on_change(f"watchlist file changed: {first}")
            except Exception:  # one failed attempt must not end the watching: the next edit reloads
                log.exception("watchlist reload attempt failed; still watching")

    async def _inotify_changes(self) -> AsyncIterator[str]:
        """The first watchlist file of each burst of changes, once the folders were quiet for the debounce."""
        from asyncinotify import Inotify, Mask

        # a finished write, an editor's rename into place, a removal
        mask = Mask.CLOSE_WRITE | Mask.MOVED_TO | Mask.MOVED_FROM | Mask.DELETE | Mask.ONLYDIR
        with Inotify() as inotify:
            for folder in self.folders:
                try:
                    inotify.add_watch(folder, mask)
                except OSError as exc:
                    log.error("cannot watch watchlist folder", folder=str(folder), error=exc.strerror or str(exc))
            self.ready.set()
            while True:
                first = await self._next_relevant(inotify)
                # debounce: keep swallowing events until the folder has been quiet for a while
                while True:
                    try:  # not wait_for: on Python 3.11 it swallows the stop's cancel if an event came with it
                        async with asyncio.timeout(self.debounce):
                            await self._next_relevant(inotify)
                    except TimeoutError:
                        break
                yield first

    async def _next_relevant(self, inotify: Inotify) -> str:
        from asyncinotify import Mask

        while True:
            event = await inotify.get()
            path = event.path
            if path is None or event.mask & Mask.ISDIR:
                continue
            if concerns(self.folders.get(path.parent), path.name):
                return str(path.name)

    async def _watchfiles_changes(self) -> AsyncIterator[str]:
        """The same from watchfiles: it hands a batch on once no change came for ``step`` (the debounce)."""
        from watchfiles import awatch

        step = max(1, int(self.debounce * 1000))
        stop = asyncio.Event()
        folders = [folder for folder in self.folders if folder.is_dir()]
        if not folders:
            self.ready.set()
            await stop.wait()  # nothing to watch: never a change
        try:
            async for batch in awatch(
                *folders,
                watch_filter=lambda _change, path: concerns(self.folders.get(Path(path).parent), Path(path).name),
                step=step,
                debounce=max(10 * step, 5000),
                stop_event=stop,
                rust_timeout=500,
                yield_on_timeout=True,
                recursive=False,
                ignore_permission_denied=True,
            ):
                self.ready.set()  # its first return, changes or none: the watches are in place
                if batch:
                    yield min(Path(path).name for _change, path in batch)
        finally:
            stop.set()

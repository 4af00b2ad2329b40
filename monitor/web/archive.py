"""The archive as the console sees it: ``History`` calls run on a small thread pool, one History (one
SQLite connection) per thread, so the event loop never waits on SQLite and no connection is shared."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from monitor.history import History

T = TypeVar("T")

#: readers beside the daemon's writer (WAL); a handful is plenty for a few analysts and 50 open pages
THREADS = 4


class Archive:
    def __init__(self, db_path: Path, threads: int = THREADS) -> None:
        self.db_path = db_path
        self._local = threading.local()
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="console-archive")

    def _history(self) -> History:
        history: History | None = getattr(self._local, "history", None)
        if history is None:
            history = History(self.db_path)
            self._local.history = history
        return history

    def _close_here(self, barrier: threading.Barrier) -> None:
        """Close this thread's History on this thread (a connection belongs to the thread that made it);
        the barrier holds every pool thread until each has taken one of these calls."""
        history: History | None = getattr(self._local, "history", None)
        if history is not None:
            history.close()
            self._local.history = None
        barrier.wait(timeout=5)

    def _run(self, method: Callable[..., T], *args: object, **kwargs: object) -> T:
        return method(self._history(), *args, **kwargs)

    async def call(self, method: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``await archive.call(History.alerts, query)``: the method run on this thread's own History."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: self._run(method, *args, **kwargs))

    def close(self) -> None:
        barrier = threading.Barrier(self.threads)
        closing = [self._pool.submit(self._close_here, barrier) for _ in range(self.threads)]
        for done in closing:
            done.result()
        self._pool.shutdown(wait=True)

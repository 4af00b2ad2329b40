"""The tagging worker pool: ``analyse`` over a batch, spread over worker processes, or on the pool's own
thread when there are none ([processing] workers = 0).

One Python process tags on one core at a time, whatever its threads, so throughput comes from
processes. Workers get the compiled engine once, when they start, and are replaced when the engine is
(a reload). A worker that dies (a crash, the OOM killer) costs nothing: the batch is tagged here and
the workers start again with the next one. Starting, submitting to and shutting down the pool block,
so they run on the pool's thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, Protocol, TypeVar

import structlog

from monitor.analysis import Analysis, Job, Publishing, analyse
from monitor.engine import Engine

log = structlog.get_logger("monitor.workers")

P = ParamSpec("P")
T = TypeVar("T")

#: the worker process's engine and publishing settings, set once when the worker starts
_worker: tuple[Engine, Publishing] | None = None


def _start_worker(engine: Engine, publishing: Publishing, daemon_pid: int) -> None:
    global _worker
    # the daemon decides when work stops: a Ctrl-C or a SIGTERM sent to the whole group must not kill a
    # worker mid-batch (the daemon shuts the pool down on stop; the thread below ends a worker whose
    # daemon died)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(daemon_pid,), daemon=True).start()
    _worker = (engine, publishing)


def _exit_with_parent(parent: int) -> None:
    """A worker holds its own end of the task queue, so it never sees the daemon die (kill -9): watch."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _analyse_chunk(jobs: list[Job]) -> list[Analysis]:
    assert _worker is not None, "worker started without an engine"
    return [analyse(job, *_worker) for job in jobs]


class Tagger(Protocol):
    """The pipeline's step between reading a batch and committing it: tagging (``TaggingPool``), or on an
    ingest host the hand-over to the cluster's stream (``cluster.handover``)."""

    async def start(self, engine: Engine) -> None: ...

    async def tag(self, engine: Engine, jobs: Sequence[Job], *, alone: bool = False) -> list[Analysis]: ...

    async def close(self) -> None: ...

    def stop_waiting(self) -> None:
        """The daemon is stopping: a step that cannot finish now (an ingest host's hand-over while the cluster
        is down) gives its batch up, uncommitted, instead of holding the stop."""


class TaggingPool:
    def __init__(self, workers: int, publishing: Publishing) -> None:
        self.workers = workers
        self.publishing = publishing
        self._pool: ProcessPoolExecutor | None = None
        self._pool_engine: Engine | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tagging")
        #: large articles, when there are no workers: beside the batches, not in front of them
        self._alone_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tagging-alone")

    async def tag(self, engine: Engine, jobs: Sequence[Job], *, alone: bool = False) -> list[Analysis]:
        """The analyses of ``jobs``, in their order. ``alone``: a large article, tagged in a worker process
        however small its batch, or without workers on a thread of its own, so that it holds up no batch."""
        here = self._alone_thread if alone else self._thread
        try:
            futures = await self._on_thread(self._submit, engine, jobs, alone)
            if futures is None:
                return await self._on(here, self._analyse_here, engine, jobs)
            chunks = await asyncio.gather(*(asyncio.wrap_future(future) for future in futures))
        except BrokenProcessPool:  # found broken when submitting, or broken while tagging
            log.error("a tagging worker died; this batch is tagged in the daemon, the workers are restarted")
            await self._on_thread(self._shutdown)
            return await self._on(here, self._analyse_here, engine, jobs)
        return [analysis for chunk in chunks for analysis in chunk]

    async def start(self, engine: Engine) -> None:
        """Start the workers for ``engine`` now (they take a second to spawn), not with the first article;
        after a reload, before the next batch."""
        if self.workers:
            await self._on_thread(self._start_blocking, engine)

    def stop_waiting(self) -> None:
        """Tagging always finishes: the batches in hand are committed before the stop."""

    async def close(self) -> None:
        await self._on_thread(self._shutdown)
        self._thread.shutdown(wait=True)
        self._alone_thread.shutdown(wait=True)

    @property
    def uses_processes(self) -> bool:
        """True once a batch or a start went to worker processes (for tests and status)."""
        return self._pool is not None

    async def _on_thread(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._on(self._thread, func, *args, **kwargs)

    async def _on(self, thread: ThreadPoolExecutor, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(thread, functools.partial(func, *args, **kwargs))

    def _submit(self, engine: Engine, jobs: Sequence[Job], alone: bool = False) -> list[Future[list[Analysis]]] | None:
        """Start tagging a batch in the workers (None: no workers, or too small a batch to share)."""
        if not self.workers or (len(jobs) < 2 and not alone):
            return None
        pool = self._pool_for(engine)
        size = -(-len(jobs) // (self.workers * 2))  # two chunks a worker: both stay busy to the end
        return [pool.submit(_analyse_chunk, list(jobs[i : i + size])) for i in range(0, len(jobs), size)]

    def _analyse_here(self, engine: Engine, jobs: Sequence[Job]) -> list[Analysis]:
        return [analyse(job, engine, self.publishing) for job in jobs]

    def _pool_for(self, engine: Engine) -> ProcessPoolExecutor:
        """The pool whose workers hold ``engine`` (started now, or restarted after a reload)."""
        if self._pool is None or self._pool_engine is not engine:
            self._shutdown()
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),  # never fork a process that has threads
                initializer=_start_worker,
                initargs=(engine, self.publishing, os.getpid()),
            )
            self._pool_engine = engine
        return self._pool

    def _start_blocking(self, engine: Engine) -> None:
        pool = self._pool_for(engine)
        for future in [pool.submit(os.getpid) for _ in range(self.workers)]:
            future.result()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None
        self._pool_engine = None

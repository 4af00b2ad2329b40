"""The pipeline: keys from a source -> bounded queue -> batches, each read and deduplicated (store
thread), tagged (worker pool) and committed with its alerts in one durable transaction (store thread).

While the workers tag one batch, the next is read: two batches are in flight, committed strictly in the
order they were read (the order alerts leave in). A key seen again while its earlier version is in flight
is handed on again after that commit. The daemon and ``monitor backfill`` both run articles through it;
a dry run is a pipeline whose processor does not commit.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from monitor import events
from monitor.analysis import Analysis
from monitor.engine import Engine
from monitor.mqtt import Backoff
from monitor.processing import Outcome, Prepared, Processor, StoryOrderUnavailable
from monitor.sources import Source
from monitor.state import DiskWatch, is_corrupt, is_storage_full, state_problem
from monitor.store import StoreThread
from monitor.workers import Tagger

log = structlog.get_logger("monitor.pipeline")

QUEUE_SIZE = 1000
BATCH_MAX = 64

#: told of every committed batch: its keys (unchanged ones have no outcome) and the outcomes
OnCommitted = Callable[[Sequence[str], list[Outcome]], None]
#: told of keys that were not processed (a failed batch): the source hands them on again later
OnGivenUp = Callable[[Sequence[str]], None]


@dataclass(frozen=True, slots=True)
class _InFlight:
    keys: list[str]
    prepared: Prepared
    tagging: asyncio.Future[list[Analysis]]


class Pipeline:
    def __init__(
        self,
        source: Source,
        store: StoreThread,
        processor: Processor,
        pool: Tagger,
        engine: Engine,
        *,
        on_committed: OnCommitted = lambda keys, outcomes: None,
        on_given_up: OnGivenUp = lambda keys: None,
        room: Callable[[], Awaitable[None]] | None = None,
        disk: DiskWatch | None = None,
    ) -> None:
        self.source = source
        self.store = store
        self.processor = processor
        self.pool = pool
        #: read once per batch: a reload lands between batches
        self.engine = engine
        self.on_committed = on_committed
        self.on_given_up = on_given_up
        #: waited for before each batch: intake pauses while it waits (the outbox cap)
        self.room = room
        self.disk = disk or DiskWatch.of(store)
        #: cleared while a commit waits for disk space: no new keys are taken meanwhile
        self._intake = asyncio.Event()
        self._intake.set()
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._in_flight: asyncio.Queue[_InFlight] = asyncio.Queue(maxsize=2)
        self._reader: asyncio.Task[None] | None = None
        self._committer: asyncio.Task[None] | None = None
        self._aside: set[asyncio.Task[None]] = set()
        self._aside_failure: BaseException | None = None
        self._finishing = False
        self._finished = asyncio.Event()

    async def put(self, key: str) -> None:
        """The source's ``emit``: waits while the queue is full (a backlog stays in the source)."""
        await self.queue.put(key)

    async def use(self, engine: Engine) -> None:
        """Tag the next batches with ``engine``; its workers are started before the next batch."""
        self.engine = engine
        await self.pool.start(engine)

    async def run(self) -> None:
        """Process until ``finish`` (then return) or until a step fails (then raise its error)."""
        await self.pool.start(self.engine)
        self._reader = asyncio.create_task(self._read_loop(), name="pipeline-read")
        self._committer = asyncio.create_task(self._commit_loop(), name="pipeline-commit")
        await asyncio.wait({self._reader, self._committer}, return_when=asyncio.FIRST_COMPLETED)
        if self._finishing:
            await self._finished.wait()
            return
        for task in (self._reader, self._committer, *self._aside):
            task.cancel()
        if self._aside_failure is not None:
            raise self._aside_failure
        for task in (self._reader, self._committer):
            error = task.exception() if task.done() and not task.cancelled() else None
            if error is not None:
                raise error
        raise RuntimeError("a pipeline step ended on its own")

    async def finish(self) -> None:
        """Stop taking keys and commit the batches in hand (what is still queued is left to the source)."""
        self._finishing = True
        self.pool.stop_waiting()
        if self.processor.order is not None:
            self.processor.order.stop_waiting()
        if self._reader is not None and self._committer is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            drained = asyncio.ensure_future(self._in_flight.join())
            await asyncio.wait({drained, self._committer}, return_when=asyncio.FIRST_COMPLETED)
            drained.cancel()
            self._committer.cancel()
            await asyncio.gather(self._committer, *self._aside, return_exceptions=True)
        self._finished.set()

    async def drained(self) -> None:
        """Wait until every key put so far is committed or given up (a finite source is done)."""
        await self.queue.join()

    async def close(self) -> None:
        await self.pool.close()
        if self.processor.order is not None:
            await self.processor.order.close()

    async def _read_loop(self) -> None:
        """Read and deduplicate a batch, start tagging it, hand it to the commit loop; then the next."""
        while True:
            first = await self.queue.get()
            # checked once a key is there, right before reading: a loop that waited for keys since an
            # earlier check would otherwise read a whole batch into an outbox filled meanwhile
            await self._intake.wait()
            if self.room is not None:
                await self.room()
            keys = [first]
            while len(keys) < BATCH_MAX and not self.queue.empty():
                keys.append(self.queue.get_nowait())
            try:
                prepared = await self.store.run(self.processor.prepare, keys, self.engine)
            except Exception as exc:
                self._failed(events.READING_BATCH_FAILED, exc)
                self._give_up(keys)
                continue
            for alone in prepared.aside:
                keys.remove(alone.reads[0].key)
                self._set_aside(alone)
            tagging = asyncio.ensure_future(self.pool.tag(prepared.engine, prepared.jobs))
            await self._in_flight.put(_InFlight(keys, prepared, tagging))

    async def _commit_loop(self) -> None:
        """Commit batches in the order they were read."""
        while True:
            batch = await self._in_flight.get()
            try:
                await self._commit(batch.keys, batch.prepared, batch.tagging)
            finally:
                self._in_flight.task_done()

    def _set_aside(self, prepared: Prepared) -> None:
        """A large article: tagged on its own (a worker process, or a thread of its own) and committed when
        done, while the batches behind it go on."""
        tagging = asyncio.ensure_future(self.pool.tag(prepared.engine, prepared.jobs, alone=True))
        task = asyncio.create_task(self._commit([read.key for read in prepared.reads], prepared, tagging))
        self._aside.add(task)  # a reference, until it is done
        task.add_done_callback(self._aside_done)

    def _aside_done(self, task: asyncio.Task[None]) -> None:
        """A batch set aside that failed (a corrupt state) stops the pipeline as the commit loop would."""
        self._aside.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None and self._aside_failure is None:
            self._aside_failure = error
            if self._reader is not None:
                self._reader.cancel()  # run() wakes, sees the failure and raises it

    async def _commit(self, keys: list[str], prepared: Prepared, tagging: asyncio.Future[list[Analysis]]) -> None:
        try:
            outcomes = await self._commit_when_there_is_room(prepared, tagging)
        except Exception as exc:
            # on the store thread, where the next batch's prepare reads and defers to the same records
            await self.store.run(self.processor.release, prepared)
            self.source.retry(prepared.deferred)
            self._give_up(keys)
            self._failed(events.PROCESSING_BATCH_FAILED, exc)
            return
        # keys waiting for another batch (an earlier version or a copy in flight, or this batch's own large
        # article, committed apart) were not committed by this one
        elsewhere = {*prepared.elsewhere, *(alone.reads[0].key for alone in prepared.aside)}
        self.source.committed([key for key in keys if key not in elsewhere])
        self.on_committed(keys, outcomes)
        self._hand_on_again(prepared.deferred)
        self._done(len(keys))

    async def _commit_when_there_is_room(
        self, prepared: Prepared, tagging: asyncio.Future[list[Analysis]]
    ) -> list[Outcome]:
        """Finish a batch; on a full disk keep it, pause intake, and commit it again after a pause until the
        disk takes it (the files wait in the inbox meanwhile, none is marked done). A stop ends the waiting."""
        step = functools.partial(self.processor.finish, prepared, await tagging)
        backoff = Backoff(initial=0.25, cap=2.0)
        try:
            while True:
                try:
                    outcomes = await self.store.run(step)
                except Exception as exc:
                    if not is_storage_full(exc) or self._finishing:
                        raise
                    self.disk.failed("intake", exc)
                    self._intake.clear()
                    await asyncio.sleep(backoff.next_delay())
                    step = functools.partial(self.processor.commit_recorded, prepared)
                    continue
                self.disk.wrote("intake")
                return outcomes
        finally:
            self._intake.set()  # committed, or given up: either way the next keys may come

    def _failed(self, event: str, exc: Exception) -> None:
        """A corrupt state stops the pipeline (every batch would fail); a full disk was told by the disk
        watch; anything else is logged with its traceback. The source retries the articles (a folder: at the
        next rescan; the cluster's stream: redelivered)."""
        path = self.store.path
        if is_corrupt(exc) and path is not None:
            problem = state_problem(exc, path.parent)
            problem.log()
            raise problem from exc
        if is_storage_full(exc):
            self.disk.failed("intake", exc)
            return
        if isinstance(exc, StoryOrderUnavailable):  # a stop during an outage: its articles go back
            log.warning(event, error=str(exc))
            return
        log.exception(event)

    def _hand_on_again(self, keys: Sequence[str]) -> None:
        """Keys seen again while an earlier version was in flight: their turn now."""
        for key in keys:
            try:
                self.queue.put_nowait(key)
            except asyncio.QueueFull:
                self.source.retry([key])

    def _give_up(self, keys: list[str]) -> None:
        self.source.retry(keys)
        self.on_given_up(keys)
        self._done(len(keys))

    def _done(self, count: int) -> None:
        for _ in range(count):
            self.queue.task_done()

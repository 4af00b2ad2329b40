"""The daemon: wires source -> bounded queue -> processor -> store/outbox -> publisher as asyncio tasks,
and handles signals (SIGTERM/SIGINT: finish and stop; SIGHUP: reload the watchlists)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import structlog

from monitor import __version__
from monitor.alerts import now_iso
from monitor.config import Settings
from monitor.engine import Engine, WatchlistError, load_engine
from monitor.processing import Outcome, Processor
from monitor.publisher import Publisher
from monitor.sources.files import FolderSource
from monitor.store import Store, StoreThread

log = structlog.get_logger("monitor.daemon")

QUEUE_SIZE = 1000
BATCH_MAX = 64
FLUSH_TIMEOUT_S = 5.0


class Daemon:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.started_at = now_iso()
        self.store = StoreThread(Store.in_dir(settings.state.dir))
        self.processor = Processor(settings, self.store.store, lambda: self.engine)
        self.source = FolderSource(settings.watch)
        self.publisher = Publisher(settings.mqtt, self.store, self.status_fields)
        self.queue: asyncio.Queue[Path] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.processed = 0
        self._stop = asyncio.Event()

    def status_fields(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "started_at": self.started_at,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "watchlist_version": self.engine.version,
        }

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload("SIGHUP")))
        log.info(
            "daemon starting",
            version=__version__,
            watch=[str(p) for p in self.source.roots],
            broker=f"{self.settings.mqtt.host}:{self.settings.mqtt.port}",
            state=str(self.store.store.path),
            pending=await self.store.run(self.store.store.outbox_depth),
        )
        publisher = asyncio.create_task(self.publisher.run(), name="publisher")
        source = asyncio.create_task(self.source.run(self.queue.put), name="source")
        processor = asyncio.create_task(self._process_loop(), name="processor")
        stop = asyncio.create_task(self._stop.wait(), name="stop")
        await asyncio.wait({source, processor, publisher, stop}, return_when=asyncio.FIRST_COMPLETED)
        for task in (source, processor):
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("task failed; stopping", task=task.get_name(), error=repr(task.exception()))
        # stop taking new files, finish the article batch in hand, flush the outbox for a bounded time
        source.cancel()
        processor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(source, processor, return_exceptions=True)
        self.publisher.stop(FLUSH_TIMEOUT_S)
        await asyncio.gather(publisher, return_exceptions=True)
        stop.cancel()
        pending = await self.store.run(self.store.store.outbox_depth)
        self.store.close()
        log.info("daemon stopped", processed=self.processed, pending=pending)

    def request_stop(self, why: str = "request") -> None:
        if not self._stop.is_set():
            log.info("stopping", signal=why)
            self._stop.set()

    async def reload(self, why: str) -> bool:
        """Load and compile the watchlists off the loop; swap only if valid (the old ones keep running)."""
        try:
            engine = await asyncio.to_thread(load_engine, self.settings.watchlists.paths)
        except WatchlistError as exc:
            log.error(
                "watchlist reload failed; keeping the previous watchlists",
                why=why,
                problems=[str(p) for p in exc.problems],
            )
            await self.publisher.publish_status(reload="failed", reason="; ".join(str(p) for p in exc.problems))
            return False
        self.engine = engine  # read once per batch by the processor: the swap lands between articles
        log.info("watchlists reloaded", why=why, watchlist_version=engine.version)
        await self.publisher.publish_status(reload="ok")
        return True

    async def _process_loop(self) -> None:
        while True:
            paths = [await self.queue.get()]
            while len(paths) < BATCH_MAX and not self.queue.empty():
                paths.append(self.queue.get_nowait())
            try:
                outcomes = await self.store.run(self.processor.process, paths)
            except Exception:
                log.exception("processing batch failed; files will be retried by the next rescan")
                continue
            for outcome in outcomes:
                self._log_outcome(outcome)
            if outcomes:
                self.publisher.wakeup.set()

    def _log_outcome(self, outcome: Outcome) -> None:
        if outcome.result == "error":
            log.error("bad input file", path=outcome.path, reason=outcome.reason, detail=outcome.message)
            return
        self.processed += 1
        log.info(
            "article processed",
            path=outcome.path,
            result=outcome.result,
            rules=[rule for rule, _ in outcome.rules],
            took_ms=round(outcome.took_s * 1000, 2),
        )


def run_daemon(settings: Settings, *, embedded_broker: bool = False) -> int:
    """Entry point of ``monitor run``: exit code 0 on a clean stop, 2 on unusable watchlists."""
    try:
        engine = load_engine(settings.watchlists.paths)
    except WatchlistError as exc:
        for problem in exc.problems:
            log.error("invalid watchlist", problem=str(problem))
        return 2
    return asyncio.run(_main(settings, engine, embedded_broker or settings.mqtt.embedded))


async def _main(settings: Settings, engine: Engine, embedded_broker: bool) -> int:
    broker = None
    if embedded_broker:
        from monitor.embedded_broker import start_embedded_broker

        broker = await start_embedded_broker(settings.mqtt.host, settings.mqtt.port)
    try:
        started = time.monotonic()
        daemon = Daemon(settings, engine)
        log.debug("daemon built", took_s=round(time.monotonic() - started, 3))
        await daemon.run()
    finally:
        if broker is not None:
            await broker.shutdown()
    return 0

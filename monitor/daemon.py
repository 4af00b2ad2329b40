"""The daemon: wires source -> bounded queue -> processor -> store/outbox -> publisher as asyncio tasks,
and handles signals (SIGTERM/SIGINT: finish and stop; SIGHUP: reload the watchlists)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections import Counter
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from monitor import __version__
from monitor.alerts import now_iso
from monitor.config import ConfigError, Settings, load_settings
from monitor.engine import Engine, WatchlistError, load_engine
from monitor.metrics import LatencyTracker, Metrics
from monitor.processing import Analysis, Outcome, Prepared, Processor
from monitor.publisher import Publisher
from monitor.reload import WatchlistWatcher, restart_needed
from monitor.sources.files import FolderSource
from monitor.store import PendingMessage, StateLock, Store, StoreThread
from monitor.systemd import Notifier, status_line, watchdog_interval, watchdog_loop

log = structlog.get_logger("monitor.daemon")


@dataclass(frozen=True, slots=True)
class _InFlight:
    paths: list[Path]
    prepared: Prepared
    tagging: asyncio.Future[list[Analysis]]


QUEUE_SIZE = 1000
BATCH_MAX = 64
FLUSH_TIMEOUT_S = 5.0
#: how often gauges (outbox depth, broker state) and the systemd STATUS= line are refreshed
STATS_TICK_S = 1.0


class Daemon:
    def __init__(self, settings: Settings, engine: Engine, config_path: Path | None = None) -> None:
        self.settings = settings
        self.engine = engine
        #: re-read on SIGHUP, only to report the settings that would need a restart
        self.config_path = config_path
        self.started_at = now_iso()
        self.store = StoreThread(Store.in_dir(settings.state.dir))
        #: the publisher's own connection and thread: outbox reads and deletes never wait behind a tagging batch
        self.outbox = StoreThread(Store.in_dir(settings.state.dir))
        self.processor = Processor(settings, self.store.store, lambda: self.engine)
        self.source = FolderSource(settings.watch)
        self.publisher = Publisher(settings.mqtt, self.outbox, self.status_fields)
        self.queue: asyncio.Queue[Path] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.processed = 0
        self.results: Counter[str] = Counter()
        self.metrics = Metrics()
        self.latency = LatencyTracker()
        self.publisher.on_published = self._on_published
        self.notifier = Notifier.from_env()
        self.watcher = WatchlistWatcher(settings.watchlists.paths)
        self.reload_state: dict[str, Any] = {}
        self._reload_lock = asyncio.Lock()
        self._reloads: set[asyncio.Future[bool]] = set()
        #: batches read and being tagged, committed in this order by the commit loop (two in flight:
        #: the next batch is read while the workers tag this one)
        self._tagging: asyncio.Queue[_InFlight] = asyncio.Queue(maxsize=2)
        self._stop = asyncio.Event()

    def status_fields(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "started_at": self.started_at,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "watchlist_version": self.engine.version,
            **self.reload_state,
        }

    def counters(self, pending: int) -> dict[str, Any]:
        """The running totals published periodically on the status topic."""
        return {
            "articles": dict(self.results),
            "alerts_pending": pending,
            "published": self.publisher.published,
            "publish_failures": self.publisher.publish_failures,
            "broker_connected": self.publisher.connected.is_set(),
        }

    async def run(self) -> int:
        """Run until stopped: 0 after a requested stop, 1 when a part failed on its own (so that
        systemd's Restart=on-failure restarts it)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, self._reload_in_background)
        log.info(
            "daemon starting",
            version=__version__,
            watch=[str(p) for p in self.source.roots],
            broker=f"{self.settings.mqtt.host}:{self.settings.mqtt.port}",
            state=str(self.store.store.path),
            pending=await self.store.run(self.store.store.outbox_depth),
        )
        self._serve_metrics()
        await self.store.run(self.processor.tagger.start, self.engine)
        publisher = asyncio.create_task(self.publisher.run(), name="publisher")
        source = asyncio.create_task(self.source.run(self._picked_up), name="source")
        processor = asyncio.create_task(self._process_loop(), name="processor")
        committer = asyncio.create_task(self._commit_loop(), name="committer")
        stop = asyncio.create_task(self._stop.wait(), name="stop")
        helpers = [
            asyncio.create_task(self.watcher.run(self.reload), name="watchlist-watcher"),
            asyncio.create_task(self._stats_loop(), name="stats"),
            asyncio.create_task(self._ready_when_started(), name="ready"),
        ]
        interval = watchdog_interval(os.environ)
        if interval is not None and self.notifier.enabled:
            helpers.append(asyncio.create_task(watchdog_loop(self.notifier, interval), name="watchdog"))
        await asyncio.wait({source, processor, committer, publisher, stop}, return_when=asyncio.FIRST_COMPLETED)
        loop.remove_signal_handler(signal.SIGHUP)  # no reload while stopping
        failed = [task for task in (source, processor, committer, publisher) if task.done() and not self._stop.is_set()]
        for task in failed:
            error = None if task.cancelled() else task.exception()
            log.error("task failed; stopping", task=task.get_name(), error=repr(error) if error else "ended")
        self.notifier.stopping()
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, *self._reloads, return_exceptions=True)
        # stop taking new files, finish the article batch in hand, flush the outbox for a bounded time
        source.cancel()
        processor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(source, processor, return_exceptions=True)
        # the batches in hand are finished, not dropped: commit what is being tagged
        drained = asyncio.ensure_future(self._tagging.join())
        await asyncio.wait({drained, committer}, return_when=asyncio.FIRST_COMPLETED)
        drained.cancel()
        committer.cancel()
        await asyncio.gather(committer, return_exceptions=True)
        self.publisher.stop(FLUSH_TIMEOUT_S)
        await asyncio.gather(publisher, return_exceptions=True)
        stop.cancel()
        pending = await self.outbox.run(self.outbox.store.outbox_depth)
        await self.store.run(self.processor.close)  # on the store thread: after the batch in hand
        self.store.close()
        self.outbox.close()
        self.notifier.close()
        log.info("daemon stopped", processed=self.processed, pending=pending)
        return 1 if failed else 0

    def _reload_in_background(self) -> None:
        task = asyncio.ensure_future(self.reload_on_signal())
        self._reloads.add(task)  # a reference, until it is done
        task.add_done_callback(self._reloads.discard)

    def request_stop(self, why: str = "request") -> None:
        if not self._stop.is_set():
            log.info("stopping", signal=why)
            self.notifier.stopping()
            self._stop.set()

    async def reload_on_signal(self) -> bool:
        """SIGHUP: report config changes that need a restart, then reload the watchlists."""
        self._check_config()
        return await self.reload("SIGHUP")

    def _check_config(self) -> None:
        try:
            on_disk, _path = load_settings(self.config_path)
        except ConfigError as exc:
            log.error(
                "config file invalid; running on the settings it was started with",
                problems=list(map(str, exc.problems)),
            )
            return
        changed = restart_needed(self.settings, on_disk)
        if changed:
            log.warning("config changed; these settings need a restart to apply", keys=changed)
            self.reload_state["restart_needed"] = changed
        else:
            self.reload_state.pop("restart_needed", None)

    async def reload(self, why: str) -> bool:
        """Load and compile the watchlists off the loop; swap only if valid (the old ones keep running)."""
        async with self._reload_lock:  # a SIGHUP and a file change at once: one after the other
            self.notifier.reloading()
            try:
                return await self._reload(why)
            finally:
                self.notifier.ready()

    async def _reload(self, why: str) -> bool:
        try:
            engine = await asyncio.to_thread(load_engine, self.settings.watchlists.paths)
        except WatchlistError as exc:
            reason = "; ".join(str(p) for p in exc.problems)
            log.error(
                "watchlist reload failed; keeping the previous watchlists",
                why=why,
                problems=[str(p) for p in exc.problems],
            )
            self.metrics.reload(ok=False)
            self.reload_state.update(reload="failed", reload_reason=reason, reloaded_at=now_iso())
            await self.publisher.publish_status()
            return False
        self.engine = engine  # read once per batch by the processor: the swap lands between articles
        await self.store.run(self.processor.tagger.start, engine)  # workers holding it, before the next batch
        log.info("watchlists reloaded", why=why, watchlist_version=engine.version)
        self.metrics.reload(ok=True)
        self.reload_state.update(reload="ok", reloaded_at=now_iso())
        self.reload_state.pop("reload_reason", None)
        await self.publisher.publish_status()
        return True

    async def _picked_up(self, path: Path) -> None:
        self.latency.picked_up(str(path), time.time())
        await self.queue.put(path)

    def _on_published(self, messages: list[PendingMessage]) -> None:
        self.metrics.latencies(self.latency.published((m.message_id for m in messages), time.time()))

    def _serve_metrics(self) -> None:
        conf = self.settings.metrics
        if not conf.enabled:
            return
        try:
            self.metrics.serve(conf.host, conf.port)
        except OSError as exc:
            log.error(
                "metrics endpoint unavailable", address=f"{conf.host}:{conf.port}", error=exc.strerror or str(exc)
            )

    async def _ready_when_started(self) -> None:
        """READY=1 once the folders are watched and the broker is connected or known down (then we queue)."""
        await self.source.ready.wait()
        await self.publisher.attempted.wait()
        pending = await self.store.run(self.store.store.outbox_depth)
        self.notifier.ready(status_line(self.processed, pending, self.publisher.connected.is_set()))
        log.info("daemon ready", broker_connected=self.publisher.connected.is_set(), pending=pending)

    async def _stats_loop(self) -> None:
        """Refresh gauges and the systemd status line; republish the status with counters now and then."""
        interval = self.settings.mqtt.status_interval_seconds
        next_status = time.monotonic() + interval
        while True:
            await asyncio.sleep(STATS_TICK_S)
            pending, oldest = await self.outbox.run(self._outbox_state)
            connected = self.publisher.connected.is_set()
            self.metrics.outbox(pending, oldest)
            self.metrics.publisher(self.publisher.published, self.publisher.publish_failures, connected)
            self.notifier.status(status_line(self.processed, pending, connected))
            if interval and time.monotonic() >= next_status:
                next_status = time.monotonic() + interval
                await self.publisher.publish_status(counters=self.counters(pending))

    def _outbox_state(self) -> tuple[int, float | None]:
        return self.outbox.store.outbox_depth(), self.outbox.store.oldest_pending_at()

    async def _process_loop(self) -> None:
        """Read and deduplicate a batch, start tagging it, hand it to the commit loop; then the next."""
        while True:
            paths = [await self.queue.get()]
            while len(paths) < BATCH_MAX and not self.queue.empty():
                paths.append(self.queue.get_nowait())
            try:
                prepared = await self.store.run(self.processor.prepare, paths)
            except Exception:
                log.exception("reading a batch failed; files will be retried by the next rescan")
                self._given_up(paths)
                continue
            await self._tagging.put(_InFlight(paths, prepared, asyncio.ensure_future(self._tag(prepared))))

    async def _commit_loop(self) -> None:
        """Commit batches in the order they were read (the order alerts leave in)."""
        while True:
            batch = await self._tagging.get()
            try:
                outcomes = await self.store.run(self.processor.finish, batch.prepared, await batch.tagging)
            except Exception:
                log.exception("processing batch failed; files will be retried by the next rescan")
                self._given_up(batch.paths)
                continue
            finally:
                self._tagging.task_done()
            self._after_batch(batch.paths, outcomes)
            for path in batch.prepared.deferred:  # seen again while an earlier version was in flight
                try:
                    self.queue.put_nowait(path)
                except asyncio.QueueFull:
                    self.source.forget([path])

    async def _tag(self, prepared: Prepared) -> list[Analysis]:
        tagger = self.processor.tagger
        jobs = prepared.jobs
        futures = await self.store.run(tagger.submit, prepared.engine, jobs)
        if futures is None:
            return await self.store.run(tagger.run_here, prepared.engine, jobs)
        try:
            chunks = await asyncio.gather(*(asyncio.wrap_future(future) for future in futures))
        except BrokenProcessPool:
            return await self.store.run(tagger.recover, prepared.engine, jobs)
        return [analysis for chunk in chunks for analysis in chunk]

    def _given_up(self, paths: list[Path]) -> None:
        self.source.forget(paths)
        self.latency.processed(map(str, paths), {})

    def _after_batch(self, paths: list[Path], outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            self._log_outcome(outcome)
        self.latency.processed(map(str, paths), {o.path: o.alert_ids for o in outcomes if o.alert_ids})
        if outcomes:
            self.publisher.wakeup.set()

    def _log_outcome(self, outcome: Outcome) -> None:
        self.results[outcome.result] += 1
        self.metrics.article(outcome.result, outcome.took_s)
        for rule, severity in outcome.rules:
            self.metrics.alert(rule, severity)
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


def run_daemon(settings: Settings, *, embedded_broker: bool = False, config_path: Path | None = None) -> int:
    """Entry point of ``monitor run``: exit code 0 on a clean stop, 1 when a part failed, 2 on unusable
    watchlists or credentials."""
    from monitor.brokercheck import check_broker_settings

    # until the loop handles it, a SIGHUP (an eager `systemctl reload`) must not kill the daemon: the
    # watchlists are being loaded fresh anyway
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    label = str(config_path or "<defaults>")
    findings = [] if embedded_broker or settings.mqtt.embedded else check_broker_settings(settings.mqtt, label)
    for finding in findings:
        (log.error if finding.level == "error" else log.warning)("broker settings", problem=str(finding))
    if any(f.level == "error" for f in findings):
        return 2
    try:
        engine = load_engine(settings.watchlists.paths)
    except WatchlistError as exc:
        for problem in exc.problems:
            log.error("invalid watchlist", problem=str(problem))
        return 2
    from monitor.embedded_broker import EmbeddedBrokerError

    lock = StateLock(settings.state.dir)
    if not lock.acquire():
        log.error("another monitor process uses this state folder", state=str(settings.state.dir), pid=lock.holder())
        return 2
    try:
        return asyncio.run(_main(settings, engine, embedded_broker or settings.mqtt.embedded, config_path))
    except EmbeddedBrokerError as exc:
        log.error("embedded broker failed", problem=str(exc))
        return 2
    finally:
        lock.release()


async def _main(settings: Settings, engine: Engine, embedded_broker: bool, config_path: Path | None = None) -> int:
    broker = None
    if embedded_broker:
        from monitor.embedded_broker import start_embedded_broker

        broker = await start_embedded_broker(settings.mqtt.host, settings.mqtt.port)
        # amqtt speaks MQTT 3.1.1 only
        settings = settings.model_copy(update={"mqtt": settings.mqtt.model_copy(update={"protocol": "3.1.1"})})
    try:
        started = time.monotonic()
        daemon = Daemon(settings, engine, config_path)
        log.debug("daemon built", took_s=round(time.monotonic() - started, 3))
        return await daemon.run()
    finally:
        if broker is not None:
            await broker.shutdown()

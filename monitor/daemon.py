"""The daemon: wires source -> pipeline -> store/outbox -> publisher as asyncio tasks, and owns their
lifecycle, the signals (SIGTERM/SIGINT: finish and stop; SIGHUP: reload the watchlists) and systemd."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path
from typing import Any

import structlog

from monitor import __version__, events
from monitor.activity import Activity
from monitor.alerts import now_iso
from monitor.analysis import Publishing
from monitor.config import ConfigError, Settings, load_settings
from monitor.engine import Engine, WatchlistError, load_engine
from monitor.engine.native import engine_build
from monitor.pipeline import Pipeline
from monitor.processing import Processor
from monitor.publisher import Publisher
from monitor.reload import WatchlistWatcher, restart_needed
from monitor.retention import OutboxCap, prune_loop
from monitor.roles import source_for, stories_for, tagger_for
from monitor.signals import no_reload_signal, on_reload_signal, on_stop_signals
from monitor.state import DiskWatch
from monitor.store import Store, StoreThread
from monitor.systemd import Notifier, watchdog_interval, watchdog_loop
from monitor.web.app import Console

log = structlog.get_logger("monitor.daemon")


FLUSH_TIMEOUT_S = 5.0
#: how often gauges (outbox depth, broker state) and the systemd STATUS= line are refreshed
STATS_TICK_S = 1.0


class Daemon:
    def __init__(self, settings: Settings, engine: Engine, config_path: Path | None = None) -> None:
        self.settings = settings
        #: re-read on SIGHUP, only to report the settings that would need a restart
        self.config_path = config_path
        self.started_at = now_iso()
        store = Store.in_dir(settings.state.dir)
        self.store = StoreThread(store)
        #: the publisher's own connection and thread: outbox reads and deletes never wait behind a tagging batch
        self.outbox = StoreThread(Store.in_dir(settings.state.dir))
        self.source = source_for(settings)
        stories, order = stories_for(settings)
        if stories is not None and order is None:
            store.load_stories(stories)  # a restart continues the open stories
        publishing = Publishing(
            settings.mqtt.topic_prefix,
            settings.mqtt.max_payload_bytes,
            stories=stories is not None,
            keep_text=settings.history.keep_text,
        )
        disk = DiskWatch(settings.state.dir)  # one line when the state disk fills, one when it has room again
        self.pipeline = Pipeline(
            self.source,
            self.store,
            Processor(store, self.source, publishing, stories=stories, order=order),
            tagger_for(settings, publishing),
            engine,
            on_committed=lambda keys, outcomes: self.activity.committed(keys, outcomes),
            on_given_up=lambda keys: self.activity.given_up(keys),
            room=lambda: self.cap.room(),
            disk=disk,
        )
        self.publisher = Publisher(settings.mqtt, self.outbox, self.status_fields, disk=disk)
        self.notifier = Notifier.from_env()
        self.activity = Activity(self.publisher, self.outbox, self.notifier, settings.mqtt.status_interval_seconds)
        self.cap = OutboxCap(self.store, settings.state.outbox_max, self.activity.metrics)
        self.watcher = WatchlistWatcher(settings.watchlists.paths, backend=settings.watch.backend)
        self.console = Console.of(settings, lambda: self.engine.rule_ids)  # its own store connections, read side
        self.reload_state: dict[str, Any] = {}
        self._reload_lock = asyncio.Lock()
        self._reloads: set[asyncio.Future[bool]] = set()
        self._stop = asyncio.Event()

    @property
    def engine(self) -> Engine:
        return self.pipeline.engine

    def status_fields(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "started_at": self.started_at,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "watchlist_version": self.engine.version,
            **self.source.status(),
            **self.reload_state,
        }

    async def run(self) -> int:
        """Run until stopped: 0 after a requested stop, 1 when a part failed on its own (so that
        systemd's Restart=on-failure restarts it)."""
        loop = asyncio.get_running_loop()
        on_stop_signals(loop, self.request_stop)
        on_reload_signal(loop, self._reload_in_background)
        log.info(
            events.DAEMON_STARTING,
            version=__version__,
            engine_build=engine_build(),  # `source`: a pure-Python install or a stale build, slower
            watch=[str(p) for p in getattr(self.source, "roots", [])],
            watch_backend=getattr(self.source, "backend", None),  # auto's pick, when the source is folders
            cluster=self.settings.cluster.servers if self.settings.cluster else None,
            broker=f"{self.settings.mqtt.host}:{self.settings.mqtt.port}",
            state=str(self.store.path),
            pending=await self.store.call(Store.outbox_depth),
        )
        self.activity.serve_metrics(self.settings.metrics)
        await self.console.start()
        parts = [
            asyncio.create_task(self.publisher.run(), name="publisher"),
            asyncio.create_task(self.source.run(self._picked_up), name="source"),
            asyncio.create_task(self.pipeline.run(), name="pipeline"),
        ]
        stop = asyncio.create_task(self._stop.wait(), name="stop")
        helpers = self._start_helpers()
        await asyncio.wait({*parts, stop}, return_when=asyncio.FIRST_COMPLETED)
        no_reload_signal(loop)  # no reload while stopping
        failed = [task for task in parts if task.done() and not self._stop.is_set()]
        for task in failed:
            error = None if task.cancelled() else task.exception()
            log.error(events.TASK_FAILED, task=task.get_name(), error=repr(error) if error else "ended")
        self.notifier.stopping()
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, *self._reloads, return_exceptions=True)
        stop.cancel()
        await self._shut_down(*parts)
        return 1 if failed else 0

    def _start_helpers(self) -> list[asyncio.Task[None]]:
        helpers = [
            asyncio.create_task(self.watcher.run(self.reload), name="watchlist-watcher"),
            asyncio.create_task(self.activity.run(), name="stats"),
            asyncio.create_task(self._ready_when_started(), name="ready"),
            asyncio.create_task(
                prune_loop(
                    self.store, self.source, self.settings.state.retention_days, self.settings.history.retention_days
                ),
                name="prune",
            ),
        ]
        interval = watchdog_interval(os.environ)
        if interval is not None and self.notifier.enabled:
            helpers.append(asyncio.create_task(watchdog_loop(self.notifier, interval), name="watchdog"))
        return helpers

    async def _shut_down(
        self, publisher: asyncio.Task[None], source: asyncio.Task[None], pipeline: asyncio.Task[None]
    ) -> None:
        """Stop taking new articles, commit the batches in hand, flush the outbox for a bounded time."""
        await self.console.stop()
        source.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(source, return_exceptions=True)
        await self.pipeline.finish()
        await asyncio.gather(pipeline, return_exceptions=True)
        self.publisher.stop(FLUSH_TIMEOUT_S)
        await asyncio.gather(publisher, return_exceptions=True)
        pending = await self.outbox.call(Store.outbox_depth)
        await self.pipeline.close()
        self.store.close()
        self.outbox.close()
        self.notifier.close()
        log.info(events.DAEMON_STOPPED, processed=self.activity.processed, pending=pending)

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
            log.error(events.CONFIG_INVALID, problems=list(map(str, exc.problems)))
            return
        changed = restart_needed(self.settings, on_disk)
        if changed:
            log.warning(events.RESTART_NEEDED, keys=changed)
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
            return await self._reload_failed(why, [str(p) for p in exc.problems])
        except Exception as exc:  # a fault in loading is a failed reload too, never the end of reloading
            log.exception("watchlist reload raised", why=why)
            return await self._reload_failed(why, [f"unexpected error while loading the watchlists: {exc!r}"])
        await self.pipeline.use(engine)  # the swap lands between batches, with workers holding it
        log.info(events.WATCHLISTS_RELOADED, why=why, watchlist_version=engine.version)
        self.activity.metrics.reload(ok=True)
        self.reload_state.update(reload="ok", reloaded_at=now_iso())
        self.reload_state.pop("reload_reason", None)
        await self.publisher.publish_status()
        return True

    async def _reload_failed(self, why: str, problems: list[str]) -> bool:
        log.error(events.WATCHLIST_RELOAD_FAILED, why=why, problems=problems)
        self.activity.metrics.reload(ok=False)
        self.reload_state.update(reload="failed", reload_reason="; ".join(problems), reloaded_at=now_iso())
        await self.publisher.publish_status()
        return False

    async def _picked_up(self, key: str) -> None:
        self.activity.picked_up(key)
        await self.pipeline.put(key)

    async def _ready_when_started(self) -> None:
        """READY=1 once the folders are watched and the broker is connected or known down (then we queue)."""
        await self.source.ready.wait()
        await self.publisher.attempted.wait()
        pending = await self.store.call(Store.outbox_depth)
        self.notifier.ready(self.activity.status_line(pending))
        log.info(events.DAEMON_READY, broker_connected=self.publisher.connected.is_set(), pending=pending)

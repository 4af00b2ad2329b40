"""What the daemon has done, told to everyone who asks: a log line per article, result counters for the
status topic, Prometheus metrics, the pick-up-to-PUBACK latency, and the systemd status line.

Kept apart from the daemon's wiring so that each of those has one place that feeds it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import structlog

from monitor import events
from monitor.config import MetricsSettings
from monitor.metrics import LatencyTracker, Metrics
from monitor.processing import Outcome
from monitor.publisher import Publisher
from monitor.rates import RateMeter
from monitor.store import PendingMessage, Store, StoreThread
from monitor.systemd import Notifier, status_line

log = structlog.get_logger("monitor.daemon")

#: how often gauges (outbox depth, broker state) and the systemd STATUS= line are refreshed
STATS_TICK_S = 1.0


class Activity:
    def __init__(self, publisher: Publisher, outbox: StoreThread, notifier: Notifier, status_interval: float) -> None:
        self.publisher = publisher
        self.outbox = outbox
        self.notifier = notifier
        self.status_interval = status_interval
        self.processed = 0
        self.results: Counter[str] = Counter()
        self.metrics = Metrics()
        self.latency = LatencyTracker()
        #: articles processed a second over the last minute (the status topic's ``articles_per_second``)
        self.rate = RateMeter()
        publisher.on_published = self.published

    def serve_metrics(self, conf: MetricsSettings) -> None:
        """The Prometheus endpoint, when enabled; a port that cannot be had is one line, not a stop."""
        if not conf.enabled:
            return
        try:
            self.metrics.serve(conf.host, conf.port)
        except OSError as exc:
            log.error(events.METRICS_UNAVAILABLE, address=f"{conf.host}:{conf.port}", error=exc.strerror or str(exc))

    def picked_up(self, key: str) -> None:
        self.latency.picked_up(key, time.time())

    def given_up(self, keys: Sequence[str]) -> None:
        self.latency.processed(keys, {})

    def committed(self, keys: Sequence[str], outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            self._log_outcome(outcome)
        self.latency.processed(keys, {o.key: o.alert_ids for o in outcomes if o.alert_ids})
        if outcomes:
            self.publisher.wakeup.set()

    def published(self, messages: list[PendingMessage]) -> None:
        self.metrics.latencies(self.latency.published((m.message_id for m in messages), time.time()))

    def counters(self, pending: int) -> dict[str, Any]:
        """The running totals published periodically on the status topic."""
        return {
            "articles": dict(self.results),
            "articles_per_second": round(self.rate.per_second(), 2),
            "alerts_pending": pending,
            "published": self.publisher.published,
            "publish_failures": self.publisher.publish_failures,
            "broker_connected": self.publisher.connected.is_set(),
        }

    def status_line(self, pending: int) -> str:
        return status_line(self.processed, pending, self.publisher.connected.is_set())

    async def run(self) -> None:
        """Refresh gauges and the systemd status line; republish the status with counters now and then."""
        next_status = time.monotonic() + self.status_interval
        while True:
            await asyncio.sleep(STATS_TICK_S)
            self.rate.sample(time.monotonic(), sum(self.results.values()))
            pending, oldest = await self.outbox.call(_outbox_state)
            connected = self.publisher.connected.is_set()
            self.metrics.outbox(pending, oldest)
            self.metrics.publisher(self.publisher.published, self.publisher.publish_failures, connected)
            self.notifier.status(self.status_line(pending))
            if self.status_interval and time.monotonic() >= next_status:
                next_status = time.monotonic() + self.status_interval
                await self.publisher.publish_status(counters=self.counters(pending))

    def _log_outcome(self, outcome: Outcome) -> None:
        self.results[outcome.result] += 1
        self.metrics.article(outcome.result, outcome.took_s)
        for rule, severity in outcome.rules:
            self.metrics.alert(rule, severity)
        if outcome.result == "error":
            log.error(events.BAD_INPUT_FILE, path=outcome.key, reason=outcome.reason, detail=outcome.message)
            return
        self.processed += 1
        log.info(
            events.ARTICLE_PROCESSED,
            path=outcome.key,
            result=outcome.result,
            rules=[rule for rule, _ in outcome.rules],
            took_ms=round(outcome.took_s * 1000, 2),
        )


def _outbox_state(store: Store) -> tuple[int, float | None]:
    return store.outbox_depth(), store.oldest_pending_at()

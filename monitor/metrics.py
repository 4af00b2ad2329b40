"""Prometheus metrics: what the daemon is doing, for dashboards and alerting on the daemon itself.

One registry per daemon (not the process-global one), so tests and ``monitor backfill`` can build
several without name clashes. The HTTP endpoint is only started when ``[metrics] enabled``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from monitor import events

log = structlog.get_logger("monitor.metrics")

#: seconds; tagging an article takes milliseconds, a huge one tens of milliseconds
PROCESSING_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: seconds from a file being picked up to its alert being acknowledged by the broker (outages included)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.articles = Counter(
            "newsmon_articles_processed", "Articles handled, by result", ["result"], registry=r
        )  # result: alerted, clean, duplicate, error
        self.alerts = Counter(
            "newsmon_alerts_produced", "Alerts produced (entered the outbox), by rule", ["rule", "severity"], registry=r
        )
        self.published = Counter("newsmon_alerts_published", "Outbox messages acknowledged by the broker", registry=r)
        self.publish_failures = Counter(
            "newsmon_publish_failures", "Publish batches that failed (connection lost or timeout)", registry=r
        )
        self.outbox_depth = Gauge("newsmon_outbox_depth", "Messages waiting in the outbox", registry=r)
        self.oldest_pending = Gauge(
            "newsmon_outbox_oldest_age_seconds", "Age of the oldest outbox message (0: empty)", registry=r
        )
        self.broker_connected = Gauge("newsmon_broker_connected", "1 while connected to the broker", registry=r)
        self.intake_paused = Gauge(
            "newsmon_intake_paused", "1 while intake waits for room in the outbox (state.outbox_max)", registry=r
        )
        self.reloads = Counter("newsmon_reloads", "Watchlist reloads, by result", ["result"], registry=r)
        self.processing = Histogram(
            "newsmon_processing_seconds", "Time to read, tag and build alerts for one article",
            buckets=PROCESSING_BUCKETS, registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "newsmon_alert_latency_seconds", "From a file being picked up to its alert being published",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self._published_seen = 0
        self._failures_seen = 0
        for result in ("alerted", "silent", "clean", "duplicate", "error"):
            self.articles.labels(result)  # present at 0 from the start: rate() needs a first sample
        for result in ("ok", "failed"):
            self.reloads.labels(result)

    def article(self, result: str, took_s: float) -> None:
        self.articles.labels(result).inc()
        if result != "error" and result != "duplicate":
            self.processing.observe(took_s)

    def alert(self, rule: str, severity: str) -> None:
        self.alerts.labels(rule, severity).inc()

    def reload(self, ok: bool) -> None:
        self.reloads.labels("ok" if ok else "failed").inc()

    def publisher(self, published: int, failures: int, connected: bool) -> None:
        """Bring the counters up to the publisher's own running totals."""
        self.published.inc(max(0, published - self._published_seen))
        self.publish_failures.inc(max(0, failures - self._failures_seen))
        self._published_seen, self._failures_seen = published, failures
        self.broker_connected.set(1 if connected else 0)

    def outbox(self, depth: int, oldest_created_at: float | None, now: float | None = None) -> None:
        self.outbox_depth.set(depth)
        now = time.time() if now is None else now
        self.oldest_pending.set(0 if oldest_created_at is None else max(0.0, now - oldest_created_at))

    def latencies(self, seconds: Iterable[float]) -> None:
        for value in seconds:
            self.latency.observe(max(0.0, value))

    def serve(self, host: str, port: int) -> None:
        """Start the HTTP endpoint on its own thread (prometheus-client's server)."""
        start_http_server(port, addr=host, registry=self.registry)
        log.info(events.METRICS_LISTENING, address=f"http://{host}:{port}/metrics")


class LatencyTracker:
    """Remembers when each file was picked up, until its alerts are published, to time the whole path.

    Keyed by alert id once the file is processed, so a published message is matched without reading
    its payload. Files that produced no alert are dropped after their batch: memory stays bounded by
    the outbox, whatever the rescans re-emit.
    """

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._waiting: dict[str, float] = {}  # alert id -> when its file was picked up

    def picked_up(self, path: str, now: float) -> None:
        self._seen.setdefault(path, now)

    def processed(self, paths: Iterable[str], alert_ids: dict[str, tuple[str, ...]]) -> None:
        """``alert_ids``: the ids of the alerts each processed path produced."""
        for path in paths:
            at = self._seen.pop(path, None)
            if at is not None:
                self._waiting.update(dict.fromkeys(alert_ids.get(path, ()), at))

    def published(self, message_ids: Iterable[str], now: float) -> list[float]:
        """Latencies of the alerts among the published messages that this run picked up (an alert
        queued by an earlier run or by backfill has no known pick-up time)."""
        return [now - at for at in (self._waiting.pop(mid, None) for mid in message_ids) if at is not None]

    def __len__(self) -> int:
        return len(self._seen) + len(self._waiting)

"""End to end through a private Mosquitto: files renamed into the inbox of a real ``monitor run``
process, alerts received by a QoS 1 subscriber.

Every article gets one sentence that fires the shipped agreement rule (the worst case: every article
alerts), so each one yields a latency sample: rename -> first alert of that article received.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiomqtt

from bench.corpus import CorpusGenerator
from bench.support import RssSampler, TimedCollector, cpu_seconds, percentile
from harness.articles import write_articles
from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until

_FIRING = (
    "Russia and North Korea signed a new defence pact in Moscow, report {i} said.",
    "रूस और उत्तर कोरिया ने {i} नए समझौते पर हस्ताक्षर किए।",
)
#: production settings where the test harness's differ (its 2 s rescan re-lists a 10,000-file inbox)
DAEMON_ENV = {
    "MONITOR_LOG__LEVEL": "info",
    "MONITOR_WATCH__RESCAN_SECONDS": "60",
    "MONITOR_PROCESSING__WORKERS": "2",  # as in the shipped config: one tagging worker per core
}


def _offer(staged: Sequence[Path], inbox: Path, rate: float | None) -> dict[str, float]:
    """Rename the staged files into the inbox at `rate` per second (None: as fast as possible)."""
    renamed: dict[str, float] = {}
    started = time.monotonic()
    for index, path in enumerate(staged):
        if rate is not None:
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        renamed[path.name] = time.time()
        path.rename(inbox / path.name)
    return renamed


class E2E:
    def __init__(self, root: Path, seed: int, log: Callable[[str], None]) -> None:
        self.root = root
        self.log = log
        self.corpus = CorpusGenerator(seed)
        self.next_article = 0
        self.broker = Mosquitto(root / "broker")
        self.daemon = DaemonProcess(root / "daemon", 0, extra_env=DAEMON_ENV)

    def articles(self, count: int, tag: str) -> tuple[list[str], list[str]]:
        names, texts = [], []
        for article in self.corpus.articles(count, self.next_article):
            title, _, body = article.text.partition("\n")
            firing = _FIRING[self.next_article % 2].format(i=self.next_article)
            names.append(f"{tag}-{article.name}")
            texts.append(f"{title}\n\n{firing}\n{body}")
            self.next_article += 1
        return names, texts

    def phase(self, collector: TimedCollector, count: int, rate: float | None, tag: str) -> dict[str, Any]:
        names, texts = self.articles(count, tag)
        staged = write_articles(self.root / "staging" / tag, list(zip(names, texts, strict=True)))
        assert self.daemon.proc is not None
        with RssSampler(self.daemon.proc.pid) as rss:
            renamed = _offer(staged, self.daemon.inbox, rate)
            offered_s = max(renamed.values()) - min(renamed.values())
            try:
                wait_until(lambda: all(n in collector.first_seen for n in names), 120, 0.05, f"alerts of {tag}")
            except AssertionError:
                self.log(f"{tag}: not every article's alert arrived in 120 s")
        latencies = [collector.first_seen[n] - renamed[n] for n in names if n in collector.first_seen]
        last = max(collector.first_seen.get(n, 0.0) for n in names)
        result = {
            "articles": count,
            "offered_per_s": rate,
            "achieved_offer_per_s": count / offered_s if offered_s else None,
            "received": len(latencies),
            "articles_per_s": len(latencies) / (last - min(renamed.values())),
            "rss_peak_mb": rss.peak_mb,
            "rss_end_mb": rss.last_mb,
        }
        if latencies:
            result.update(
                {
                    "p50_ms": statistics.median(latencies) * 1000,
                    "p95_ms": percentile(latencies, 0.95) * 1000,
                    "p99_ms": percentile(latencies, 0.99) * 1000,
                    "max_ms": max(latencies) * 1000,
                }
            )
        return result

    def idle_cpu(self, seconds: float) -> float:
        """Share of one core the daemon used while nothing arrived."""
        assert self.daemon.proc is not None
        pid = self.daemon.proc.pid
        time.sleep(2.0)  # let the last batch and the publisher settle
        before, started = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        return (cpu_seconds(pid) - before) / (time.monotonic() - started)

    def run(self, rates: Sequence[int], seconds: float, flood: int, idle_s: float) -> dict[str, Any]:
        self.broker.start()
        self.daemon.broker_port = self.broker.port
        collector = TimedCollector(self.broker.port)
        collector.start()
        results: dict[str, Any] = {}
        try:
            self.daemon.start()
            status = Collector(self.broker.port, "newsmon/status", client_id="bench-status").start()
            wait_until(lambda: any(b'"online"' in p for _, p, _ in status.messages), 60, what="daemon online")
            status.stop()
            self.phase(collector, 20, 50, "warmup")
            for rate in rates:
                self.log(f"e2e: {rate} articles/s offered for {seconds:g} s")
                results[f"rate_{rate}"] = self.phase(collector, int(rate * seconds), rate, f"r{rate}")
            self.log(f"e2e: {flood} articles renamed in at once")
            results["sustained"] = self.phase(collector, flood, None, "flood")
            results["idle_cpu_percent"] = self.idle_cpu(idle_s) * 100
            results["bare_publish"] = asyncio.run(bare_publish(self.broker.port, flood))
        finally:
            if self.daemon.proc is not None:
                self.daemon.stop()
            collector.stop()
            self.broker.stop()
        return results


async def bare_publish(port: int, count: int, payload_bytes: int = 3000) -> dict[str, float]:
    """The limit: aiomqtt QoS 1 publishes of alert-sized payloads, one at a time and 200 in flight."""
    payload = b"x" * payload_bytes
    result: dict[str, float] = {}
    quiet = logging.getLogger("bench.bare")  # aiomqtt warns on every publish beyond 10 in flight
    quiet.setLevel(logging.ERROR)
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-bare", logger=quiet) as client:
        started = time.perf_counter()
        sequential = max(200, count // 5)
        for _ in range(sequential):
            await client.publish("bench/bare", payload, qos=1)
        result["sequential_per_s"] = sequential / (time.perf_counter() - started)
        started = time.perf_counter()
        for first in range(0, count, 200):
            batch = range(first, min(count, first + 200))
            await asyncio.gather(*(client.publish("bench/bare", payload, qos=1) for _ in batch))
        result["batched_200_per_s"] = count / (time.perf_counter() - started)
    return result


def run(rates: Sequence[int], seconds: float, flood: int, idle_s: float, seed: int, log: Callable[[str], None]) -> Any:
    with tempfile.TemporaryDirectory(prefix="newsmon-e2e-") as tmp:
        return E2E(Path(tmp), seed, log).run(rates, seconds, flood, idle_s)

"""The cluster on this box (issue 14): articles through a real three-node NATS JetStream cluster to one or two
workers (``monitor run`` with ``[cluster] role = "worker"``), end to end to a QoS 1 MQTT subscriber; and the
NATS hop itself (publish with ack, pull, ack) per article, against the engine's tag time.

    .venv/bin/python -m bench.cluster [--articles 2000] [--workers 1 2] [--hop 2000] [--stories]

Every article fires the shipped agreement rule (and often others: one alert per rule). The articles are
published straight from this process (as `monitor submit` does, without one process per file) once the
workers are ready; the rate is articles over the time from the first publish until every article has
alerted (counted by article, not by alert: a count of alerts was reached with half the articles untagged).
With ``--stories`` the workers group stories through the cluster's story log (a copy or a second report of
an event alerts nothing): the rate is then taken until every article was processed by some worker.
The workers are then stopped together, under no load; ``workers_N_stop_s`` is how long that took.
Prints a table; ``--out FILE`` writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import nats

from bench.corpus import CorpusGenerator
from bench.e2e import _FIRING
from bench.support import cpu_seconds, tree_cpu_seconds
from harness.nats import NatsCluster
from harness.processes import Collector, DaemonProcess, Mosquitto, stop_all, wait_until
from monitor.cluster import jetstream
from monitor.cluster.messages import ArticleMessage
from monitor.config import ClusterSettings
from monitor.engine import load_engine

SHIPPED = Path(__file__).resolve().parent.parent / "config" / "watchlists"
WORKER_ENV = {"MONITOR_LOG__LEVEL": "info", "MONITOR_PROCESSING__WORKERS": "1"}


def articles(count: int, seed: int) -> list[ArticleMessage]:
    corpus = CorpusGenerator(seed)
    out = []
    for i, article in enumerate(corpus.articles(count)):
        text = article.text + "\n" + _FIRING[i % 2].format(i=i) + "\n"
        out.append(ArticleMessage(f"bench/{i:06d}.txt", text.encode(), "bench", time.time()))
    return out


async def _publish(settings: ClusterSettings, messages: Sequence[ArticleMessage]) -> None:
    client = await jetstream.connect(settings, "bench-producer")
    try:
        js = client.jetstream()
        await jetstream.ensure_stream(js, settings, 5_000_000)
        for start in range(0, len(messages), 200):
            await asyncio.gather(*(jetstream.publish(js, settings, m) for m in messages[start : start + 200]))
    finally:
        await client.close()


def alerted(collector: Collector) -> int:
    """Articles with an alert received (an article firing several rules has one alert for each)."""
    return len({alert["article"]["sha256"] for alert in collector.payloads("newsmon/alerts/")})


def cpu_now(daemons: Sequence[DaemonProcess], cluster: NatsCluster) -> tuple[float, float]:
    """CPU seconds so far of the worker daemons (with their tagging processes) and of the NATS nodes."""
    workers = sum(tree_cpu_seconds(d.proc.pid) for d in daemons if d.proc is not None)
    nats_nodes = sum(cpu_seconds(n.proc.pid) for n in cluster.nodes if n.proc is not None)
    return workers, nats_nodes


def end_to_end(
    root: Path, cluster: NatsCluster, workers: int, messages: Sequence[ArticleMessage], stories: bool = False
) -> dict[str, float]:
    """Articles per second, first publish to every article alerted (stories on: processed), with ``workers``
    worker daemons; the CPU milliseconds per article of the workers (all processes) and of the three NATS
    nodes (what sizing rests on: on a box shared with other work the rate moves, the CPU per article
    much less); and the seconds from SIGTERM until they all exited."""
    broker = Mosquitto(root / f"broker-{workers}")
    broker.start()
    stream = f"BENCH_{workers}"
    env = {
        **WORKER_ENV,
        "MONITOR_CLUSTER__SERVERS": json.dumps(cluster.urls),
        "MONITOR_CLUSTER__STREAM": stream,
        "MONITOR_CLUSTER__SUBJECT": f"bench.{workers}",
        "MONITOR_CLUSTER__CONSUMER": f"bench-{workers}",
    }
    daemons = [
        DaemonProcess(
            root / f"w{workers}-{n}", broker.port, extra_env=env, client_id=f"bench-{workers}-{n}", stories=stories
        )
        for n in range(workers)
    ]
    collector = Collector(broker.port, "newsmon/alerts/#", client_id=f"bench-sub-{workers}").start()
    try:
        for daemon in daemons:
            daemon.start()
        for daemon in daemons:
            daemon.wait_ready(60)
        settings = ClusterSettings(servers=cluster.urls, stream=stream, subject=f"bench.{workers}")
        cpu_before = cpu_now(daemons, cluster)
        started = time.monotonic()
        asyncio.run(_publish(settings, messages))
        if stories:

            def processed() -> bool:
                return sum(len(d.events("article processed")) for d in daemons) >= len(messages)

            wait_until(processed, 600, 0.2, "every article processed")
        else:
            wait_until(lambda: alerted(collector) >= len(messages), 600, 0.2, "every article alerted")
        took = time.monotonic() - started
        cpu_after = cpu_now(daemons, cluster)
    finally:
        stopping = time.monotonic()
        try:
            stop_all(daemons)
            stop_s = time.monotonic() - stopping
        finally:
            collector.stop()
            broker.stop()
    spent = (after - before for after, before in zip(cpu_after, cpu_before, strict=True))
    worker_ms, nats_ms = (seconds * 1000 / len(messages) for seconds in spent)
    return {"per_s": len(messages) / took, "worker_cpu_ms": worker_ms, "nats_cpu_ms": nats_ms, "stop_s": stop_s}


async def _hop(servers: list[str], messages: Sequence[ArticleMessage]) -> tuple[float, float]:
    """Microseconds per article: publish with ack (200 in flight), then pull and ack."""
    settings = ClusterSettings(servers=servers, stream="BENCH_HOP", subject="bench.hop", consumer="bench-hop")
    client = await nats.connect(servers)
    try:
        js = client.jetstream()
        await jetstream.ensure_stream(js, settings, 5_000_000)
        started = time.perf_counter()
        for start in range(0, len(messages), 200):
            await asyncio.gather(*(jetstream.publish(js, settings, m) for m in messages[start : start + 200]))
        published = time.perf_counter() - started
        sub = await js.pull_subscribe(settings.subject, durable=settings.consumer, stream=settings.stream)
        started, done = time.perf_counter(), 0
        while done < len(messages):
            batch = await sub.fetch(64, timeout=5)
            await asyncio.gather(*(m.ack_sync() for m in batch))
            done += len(batch)
        pulled = time.perf_counter() - started
        return published / len(messages) * 1e6, pulled / len(messages) * 1e6
    finally:
        await client.close()


def tag_us(messages: Sequence[ArticleMessage]) -> float:
    engine = load_engine([SHIPPED])
    texts = [m.data.decode() for m in messages]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            engine.tag(text)
        best = min(best, time.perf_counter() - started)
    return best / len(texts) * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--hop", type=int, default=2000, help="articles for the NATS hop figure (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stories", action="store_true", help="stories on, through the cluster's story log")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    messages = articles(args.articles, args.seed)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-cluster-") as tmp:
        cluster = NatsCluster(Path(tmp) / "nats", size=3)
        cluster.start()
        try:
            if args.hop:
                hop = messages[: args.hop]
                publish_us, pull_us = asyncio.run(_hop(cluster.urls, hop))
                results |= {"publish_us": publish_us, "pull_ack_us": pull_us, "tag_us": tag_us(hop)}
            for workers in args.workers:
                print(f"{workers} worker(s)...", file=sys.stderr)
                figures = end_to_end(Path(tmp), cluster, workers, messages, args.stories)
                name = f"workers_{workers}{'_stories' if args.stories else ''}"
                results |= {f"{name}_{figure}": value for figure, value in figures.items()}
        finally:
            cluster.stop()
    for name, value in results.items():
        print(f"| {name} | {value:,.1f} |")
    if "tag_us" in results:
        share = (results["publish_us"] + results["pull_ack_us"]) / results["tag_us"]
        print(f"NATS hop (publish + pull + ack) = {share:.0%} of the tag time per article")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The chaos run on the cluster (``bench.chaos --cluster``): articles published to a real three-node NATS
JetStream cluster while two workers are killed (-9) and restarted and NATS nodes are killed (-9) and started
again; then count what a persistent QoS 1 subscriber received against what `monitor tag` predicts.

Stories are on, through the cluster's story log, with the load of ``bench.chaos``: every article an event
of its own, every tenth with a wire copy published a few articles later that must join its story silently,
whichever worker takes it. Prints ``articles N, alerts expected M, delivered M, lost L, duplicates D,
stories S, stories opened twice T`` and exits 1 if anything was lost or a story was opened by two articles.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.chaos import expectations, missing, report
from harness.articles import dated_stream, write_articles
from harness.nats import NatsCluster
from harness.processes import Collector, DaemonProcess, Mosquitto, stop_all, wait_until
from monitor.cluster import jetstream
from monitor.cluster.messages import ArticleMessage
from monitor.config import ClusterSettings

ACK_WAIT_S = "5"


async def _publish(settings: ClusterSettings, files: list[Path]) -> None:
    client = await jetstream.connect(settings, "chaos-producer")
    try:
        js = client.jetstream()
        await jetstream.ensure_stream(js, settings, 5_000_000)
        for path in files:
            message = ArticleMessage(path.name, path.read_bytes(), "chaos", path.stat().st_mtime)
            for attempt in range(60):  # a node killed under the producer: it retries as `monitor submit` would
                try:
                    await jetstream.publish(js, settings, message)
                    break
                except Exception:
                    if attempt == 59:
                        raise
                    await asyncio.sleep(0.5)
    finally:
        await client.close()


def run_cluster(articles: int, kills: int, node_kills: int, seed: int) -> int:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="newsmon-chaos-cluster-") as tmp:
        root = Path(tmp)
        batch, copies = dated_stream(articles, seed=seed)
        files = write_articles(root / "articles", batch)
        expected, stand_in = expectations(root, batch, copies)
        cluster = NatsCluster(root / "nats", size=3)
        cluster.start()
        broker = Mosquitto(root / "broker")
        broker.start()
        collector = Collector(broker.port, "newsmon/alerts/#", client_id="chaos-cluster").start()
        env = {
            "MONITOR_CLUSTER__SERVERS": json.dumps(cluster.urls),
            "MONITOR_CLUSTER__ACK_WAIT_SECONDS": ACK_WAIT_S,
            "MONITOR_LOG__LEVEL": "info",
        }
        workers = [
            DaemonProcess(root / f"w{n}", broker.port, extra_env=env, client_id=f"chaos-w{n}", stories=True)
            for n in range(2)
        ]
        for daemon in workers:
            daemon.start()
        for daemon in workers:
            daemon.wait_ready(60)
        settings = ClusterSettings(servers=cluster.urls)
        plan = ["worker"] * kills + ["node"] * node_kills
        rng.shuffle(plan)
        chunk = max(1, len(files) // (len(plan) + 1))
        done: Counter[str] = Counter()
        try:
            for start in range(0, len(files), chunk):
                asyncio.run(_publish(settings, files[start : start + chunk]))
                if not plan:
                    continue
                event = plan.pop()
                done[event] += 1
                time.sleep(rng.uniform(0.0, 0.5))
                if event == "worker":
                    victim = rng.choice(workers)
                    victim.kill()
                    victim.start()
                else:
                    node = rng.choice(cluster.nodes)
                    node.kill()
                    time.sleep(2.0)
                    cluster.start_node(node)
            wait_until(lambda: not missing(collector, expected, stand_in), 300, 0.5, "alerts")
            time.sleep(3)  # the last copies: anything they wrongly alerted arrives meanwhile
        except AssertionError:
            pass  # counted below
        finally:
            try:
                stop_all(workers)
            finally:
                collector.stop()
                broker.stop()
                cluster.stop()
        return report(articles, collector, expected, stand_in, done)

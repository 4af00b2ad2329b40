"""Chaos run: stream articles into a real daemon while killing it (-9), restarting the broker and
keeping it down for a while; then count what a persistent QoS 1 subscriber received.

    .venv/bin/python -m bench.chaos --articles 2000 --kills 10

Prints one line: ``articles N, alerts expected M, delivered M, lost L, duplicates D`` and exits 1
if anything was lost.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from harness.articles import stream_articles, tagged_alerts, write_articles
from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until


def run(articles: int, kills: int, broker_restarts: int, outage_s: float, seed: int) -> int:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="newsmon-chaos-") as tmp:
        root = Path(tmp)
        batch = stream_articles(articles, seed=seed)
        expected = set(tagged_alerts(write_articles(root / "reference", batch)))
        broker = Mosquitto(root / "broker")
        broker.start()
        collector = Collector(broker.port, "newsmon/alerts/#", client_id="chaos").start()
        daemon = DaemonProcess(root / "daemon", broker.port)
        daemon.start()
        done: Counter[str] = Counter()
        events = ["kill"] * kills + ["broker-restart"] * broker_restarts + ["outage"]
        rng.shuffle(events)
        chunk = max(1, len(batch) // (len(events) + 1))
        try:
            for index, (name, text) in enumerate(batch):
                daemon.drop(f"{index % 13}/{name}", text)
                if index and index % chunk == 0 and events:
                    event = events.pop()
                    done[event] += 1
                    time.sleep(rng.uniform(0.0, 0.3))
                    if event == "kill":
                        daemon.kill()
                        daemon.start()
                    elif event == "broker-restart":
                        broker.restart()
                    else:
                        broker.stop()
                        time.sleep(outage_s)
                        broker.start()
            wait_until(lambda: expected <= {a["id"] for a in collector.payloads("newsmon/alerts/")}, 300, 0.5, "alerts")
        except AssertionError:
            pass  # counted below
        finally:
            daemon.stop()
            collector.stop()
            broker.stop()
        counts = Counter(a["id"] for a in collector.payloads("newsmon/alerts/"))
        delivered = len(expected & set(counts))
        lost = len(expected - set(counts))
        duplicates = sum(n - 1 for n in counts.values())
        print(f"# done: {dict(done)}", file=sys.stderr)
        print(
            f"articles {articles}, alerts expected {len(expected)}, delivered {delivered}, "
            f"lost {lost}, duplicates {duplicates}"
        )
        return 1 if lost else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--broker-restarts", type=int, default=2)
    parser.add_argument("--outage-seconds", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return run(args.articles, args.kills, args.broker_restarts, args.outage_seconds, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())

"""Chaos run: stream articles into a real daemon while killing it (-9), restarting the broker and
keeping it down for a while; then count what a persistent QoS 1 subscriber received.

    .venv/bin/python -m bench.chaos --articles 2000 --kills 10
    .venv/bin/python -m bench.chaos --cluster --articles 2000 --kills 6 --node-kills 2   (bench/chaos_cluster.py)

Stories are on: every article is an event of its own (dated four days apart), and every tenth has a wire
copy dropped a few articles later that must join its story silently. Prints one line: ``articles N, alerts
expected M, delivered M, lost L, duplicates D, stories opened twice S`` and exits 1 if anything was lost or
a story received opening alerts from two articles. An original's alert counts as delivered when its
copy opened the story instead (a kill can reorder the two).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness.articles import dated_stream, tagged_alerts, write_articles
from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until


def run(articles: int, kills: int, broker_restarts: int, outage_s: float, seed: int) -> int:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="newsmon-chaos-") as tmp:
        root = Path(tmp)
        batch, copies = dated_stream(articles, seed=seed)
        expected, stand_in = expectations(root, batch, copies)
        broker = Mosquitto(root / "broker")
        broker.start()
        collector = Collector(broker.port, "newsmon/alerts/#", client_id="chaos").start()
        daemon = DaemonProcess(root / "daemon", broker.port, stories=True)
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
            wait_until(lambda: not missing(collector, expected, stand_in), 300, 0.5, "alerts")
            time.sleep(3)  # the last copies: anything they wrongly alerted arrives meanwhile
        except AssertionError:
            pass  # counted below
        finally:
            daemon.stop()
            collector.stop()
            broker.stop()
        return report(articles, collector, expected, stand_in, done)


def report(
    articles: int, collector: Collector, expected: set[str], stand_in: dict[str, str | None], done: Counter[str]
) -> int:
    """The run's one line (what was lost, sent twice, opened twice) and its exit code."""
    received = collector.payloads("newsmon/alerts/")
    counts = Counter(a["id"] for a in received)
    lost = len(missing(collector, expected, stand_in))
    duplicates = sum(n - 1 for n in counts.values())
    openers = story_openers(received)
    opened_twice = sum(1 for shas in openers.values() if len(shas) > 1)
    print(f"# done: {dict(done)}", file=sys.stderr)
    print(
        f"articles {articles}, alerts expected {len(expected)}, delivered {len(expected) - lost}, "
        f"lost {lost}, duplicates {duplicates}, stories {len(openers)}, stories opened twice {opened_twice}"
    )
    return 1 if lost or opened_twice else 0


def expectations(
    root: Path, batch: list[tuple[str, str]], copies: dict[str, str]
) -> tuple[set[str], dict[str, str | None]]:
    """The alerts `monitor tag` predicts for the originals, and for each the alert its wire copy makes
    instead when the copy arrives first (a kill can reorder the two)."""
    originals = [item for item in batch if item[0] not in copies]
    expected_by_id = tagged_alerts(write_articles(root / "reference", originals))
    # what each copy would alert if it arrived first: (rule, original name) -> the copy's alert id
    copy_items = [item for item in batch if item[0] in copies]
    instead = {
        (rule, copies[name]): alert_id
        for alert_id, (rule, name) in tagged_alerts(write_articles(root / "copies", copy_items)).items()
    }
    stand_in = {alert_id: instead.get((rule, name)) for alert_id, (rule, name) in expected_by_id.items()}
    return set(expected_by_id), stand_in


def story_openers(received: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Story id -> the articles whose alerts opened it (more than one: the story was opened twice)."""
    openers: dict[str, set[str]] = {}
    for alert in received:
        if alert.get("story") and alert["story"]["kind"] == "new":
            openers.setdefault(alert["story"]["id"], set()).add(alert["article"]["sha256"])
    return openers


def missing(collector: Collector, expected: set[str], stand_in: dict[str, str | None]) -> set[str]:
    """Expected alerts not received, neither as themselves nor as their copy's (the copy came first)."""
    got = {a["id"] for a in collector.payloads("newsmon/alerts/")}
    return {alert_id for alert_id in expected - got if stand_in.get(alert_id) not in got}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--broker-restarts", type=int, default=2)
    parser.add_argument("--outage-seconds", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--cluster", action="store_true", help="two workers on a 3-node NATS cluster: workers and nodes killed"
    )
    parser.add_argument("--node-kills", type=int, default=2, help="with --cluster: NATS nodes killed (-9)")
    args = parser.parse_args()
    if args.cluster:
        from bench.chaos_cluster import run_cluster

        return run_cluster(args.articles, args.kills, args.node_kills, args.seed)
    return run(args.articles, args.kills, args.broker_restarts, args.outage_seconds, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())

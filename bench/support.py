"""What the benchmarks measure a real daemon with, beyond the harness that starts it: a subscriber that
notes when each article's first alert arrived, the resident memory and CPU time of a process read from
/proc, and percentiles of the latencies."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from harness.processes import Collector

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class TimedCollector(Collector):
    """The harness's subscriber, also noting when each alert arrived (by article file name)."""

    def __init__(self, port: int) -> None:
        super().__init__(port, "newsmon/alerts/#", client_id="bench-collector")
        self.first_seen: dict[str, float] = {}
        self.alerts = 0

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        now = time.time()
        name = Path(json.loads(msg.payload)["article"]["path"]).name
        self.alerts += 1
        self.first_seen.setdefault(name, now)


class RssSampler:
    """Peak and last resident set size of a process, sampled every 0.2 s on a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self.last_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self.sample()

    def sample(self) -> None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        self.last_mb = kb / 1024
        self.peak_mb = max(self.peak_mb, self.last_mb)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its live descendants (a daemon and its tagging worker processes); 0 for one that
    has just ended."""
    try:
        total = cpu_seconds(pid)
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0.0
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(tree_cpu_seconds(int(child)) for child in children)
    return total

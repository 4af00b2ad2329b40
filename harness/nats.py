"""A real NATS cluster with JetStream for tests and benchmarks: ``size`` ``nats-server`` processes on free
loopback ports, routed to each other, each with its own JetStream store in its own folder. Nodes can be
killed (-9) and started again, as in a host failure; nothing here stands in for the server."""

from __future__ import annotations

import json
import random
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from harness.processes import port_open, terminate, wait_until

#: what one message may carry: above ``[watch] max_bytes`` (5 MB by default) with room for the headers
MAX_PAYLOAD = "8MB"


def nats_server_binary() -> str | None:
    """Debian's ``nats-server`` (in /usr/sbin, not always on a user's PATH)."""
    return shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin:/usr/local/sbin")


def node_port() -> int:
    """A free loopback port below the ephemeral range: a cluster's ports are chosen before it starts (a
    test may start it much later), and there no ``free_port()`` of another test or server can take them."""
    while True:
        port = random.randint(20_000, 29_999)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


@dataclass
class NatsNode:
    name: str
    folder: Path
    port: int = field(default_factory=node_port)
    cluster_port: int = field(default_factory=node_port)
    monitor_port: int = field(default_factory=node_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def write_conf(self, routes: list[int], cluster_name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "nats.conf"
        lines = [
            f'server_name: "{self.name}"',
            f"listen: 127.0.0.1:{self.port}",
            f"http: 127.0.0.1:{self.monitor_port}",
            f"max_payload: {MAX_PAYLOAD}",
            f'jetstream {{ store_dir: "{self.folder / "js"}" }}',
            f'logfile: "{self.folder / "nats.log"}"',
        ]
        if routes:
            listed = ", ".join(f"nats-route://127.0.0.1:{port}" for port in routes)
            cluster = f'name: "{cluster_name}", listen: 127.0.0.1:{self.cluster_port}, routes: [{listed}]'
            lines.append(f"cluster {{ {cluster} }}")
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def start(self, conf: Path) -> None:
        binary = nats_server_binary()
        if binary is None:
            raise RuntimeError("nats-server is not installed (.ci/run installs Debian's nats-server)")
        self.proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(
            lambda: port_open(self.port) or self.proc is None or self.proc.poll() is not None,
            15,
            interval=0.01,
            what=f"nats-server {self.name}",
        )
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise RuntimeError(f"nats-server {self.name} failed to start: {err}")

    def kill(self) -> None:
        """As a host failure: SIGKILL, no goodbye to the cluster."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        terminate(self.proc)
        self.proc = None

    def jetstream_ready(self) -> bool:
        """The node's health endpoint says JetStream is up (in a cluster: the meta group has a leader)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=1) as answer:
                return bool(json.loads(answer.read()).get("status") == "ok")
        except (urllib.error.URLError, OSError, ValueError):
            return False


@dataclass
class NatsCluster:
    """``size`` routed nodes (1: a single server, no cluster block)."""

    workdir: Path
    size: int = 3
    #: unique: a node of another test's cluster that took a port freed here can never join this one
    name: str = field(default_factory=lambda: f"newsmon-test-{uuid.uuid4().hex[:12]}")
    nodes: list[NatsNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.nodes:
            self.nodes = [NatsNode(f"n{i + 1}", self.workdir / f"n{i + 1}") for i in range(self.size)]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def _conf(self, node: NatsNode) -> Path:
        routes = [other.cluster_port for other in self.nodes if other is not node] if self.size > 1 else []
        return node.write_conf(routes, self.name)

    def start(self, attempts: int = 3) -> None:
        """Start every node and wait for JetStream. A free port taken by another test's server between
        being chosen and being bound ends that node at once: then the cluster starts again on new ports."""
        for attempt in range(attempts):
            for node in self.nodes:
                node.start(self._conf(node))
            try:  # electing the meta leader takes seconds; more on a machine busy with other tests
                wait_until(self._ready_or_dead, 60, 0.1, what="JetStream")
            except AssertionError as exc:
                logs = {n.name: _tail(n.folder / "nats.log") for n in self.nodes}
                raise AssertionError(f"{exc}; node logs: {logs}") from None
            if all(node.proc is not None and node.proc.poll() is None for node in self.nodes):
                return
            self.stop()
            if attempt + 1 == attempts:
                logs = {n.name: _tail(n.folder / "nats.log") for n in self.nodes}
                raise RuntimeError(f"a nats-server node ended at start {attempts} times; node logs: {logs}")
            self.nodes = [NatsNode(node.name, node.folder) for node in self.nodes]  # new free ports

    def _ready_or_dead(self) -> bool:
        if any(node.proc is None or node.proc.poll() is not None for node in self.nodes):
            return True  # a node ended (its port was taken): start again
        return all(node.jetstream_ready() for node in self.nodes)

    def start_node(self, node: NatsNode) -> None:
        node.start(self._conf(node))
        wait_until(node.jetstream_ready, 60, 0.1, what=f"JetStream on {node.name}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""

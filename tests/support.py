"""Real parts for tests: a private Mosquitto broker (plain, or with passwords and an ACL), a daemon subprocess
and an MQTT collector."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from monitor.analysis import Analysis, Job, Publishing
from monitor.config import WatchSettings
from monitor.engine import Engine
from monitor.processing import Outcome, Processor
from monitor.sources.folders import FolderFiles
from monitor.store import Store
from monitor.workers import TaggingPool
from tests.certs import Issued, Pki

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"
WATCHLISTS = REPO / "config" / "watchlists"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def wait_until_async(
    predicate: Callable[[], bool],
    timeout: float,  # noqa: ASYNC109 (wait_until's signature: a deadline for polling, not for one call)
    interval: float = 0.02,
    what: str = "condition",
) -> None:
    """``wait_until`` for tests whose code under test runs on the test's own event loop: it keeps running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Mosquitto:
    """A private broker on a free port with persistence in its own folder; can be stopped and restarted."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra_conf: str = ""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def conf_path(self) -> Path:
        return self.workdir / "mosquitto.conf"

    def write_conf(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "max_queued_messages 0",
            f"log_dest file {self.workdir}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise mosquitto drops to a user that cannot write here
        self.conf_path.write_text("\n".join(lines) + "\n" + self.extra_conf)

    def start(self) -> None:
        if not self.conf_path.exists():
            self.write_conf()
        self.proc = subprocess.Popen(
            [shutil.which("mosquitto") or "mosquitto", "-c", str(self.conf_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(
            lambda: port_open(self.port) or self.proc is None or self.proc.poll() is not None, 10, what="mosquitto"
        )
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            log = (self.workdir / "mosquitto.log").read_text() if (self.workdir / "mosquitto.log").exists() else ""
            raise RuntimeError(f"mosquitto failed to start: {err}\n{log}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


#: the broker user of a SecureBroker, and its password (tests check it never reaches a log)
USER = "newsmon"
PASSWORD = "pw-Zq7-never-in-logs"
ALLOW_ALL = f"topic read newsmon/#\n\nuser {USER}\ntopic readwrite newsmon/#\n"


@dataclass
class SecureBroker:
    """Mosquitto with a password file and an ACL file, optionally a TLS listener on ``tls_port``."""

    server: Mosquitto
    tls_port: int
    password_file: Path
    acl_file: Path

    def set_acl(self, text: str) -> None:
        """Rewrite the ACL and make Mosquitto re-read it (SIGHUP), as an operator would."""
        self.acl_file.write_text(text)
        assert self.server.proc is not None
        self.server.proc.send_signal(signal.SIGHUP)

    def log(self) -> str:
        path = self.server.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


def secure_broker(
    folder: Path,
    *,
    acl: str = ALLOW_ALL,
    certs: Issued | None = None,
    pki: Pki | None = None,
    require_client_cert: bool = False,
) -> SecureBroker:
    if shutil.which("mosquitto_passwd") is None:
        pytest.fail("mosquitto_passwd is not installed (it comes with the mosquitto package)")
    folder.mkdir(parents=True, exist_ok=True)
    password_file = folder / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(password_file), USER, PASSWORD], check=True)
    acl_file = folder / "acl"
    acl_file.write_text(acl)
    tls_port = free_port()
    # max_queued_messages 0 (the harness default) makes Mosquitto 2.0.11 drop a v5 client after an ACL refusal
    conf = (
        f"password_file {password_file}\nacl_file {acl_file}\n"
        "log_type information\nlog_type debug\nmax_queued_messages 10000\n"
    )
    if certs is not None:
        assert pki is not None
        conf += (
            f"\nlistener {tls_port} 127.0.0.1\n"
            f"certfile {certs.cert}\nkeyfile {certs.key}\ncafile {pki.ca.cert_path}\n"
            "tls_version tlsv1.2\n"
        )
        if require_client_cert:
            conf += "require_certificate true\n"
    server = Mosquitto(folder / "mosquitto", extra_conf=conf)
    server.start()
    return SecureBroker(server, tls_port, password_file, acl_file)


class Collector:
    """A subscriber (persistent session, QoS 1) on a background thread, keeping every message."""

    def __init__(
        self, port: int, topics: str | list[str], client_id: str = "collector", auth: tuple[str, str] | None = None
    ) -> None:
        self.port = port
        self.topics = [topics] if isinstance(topics, str) else topics
        self.messages: list[tuple[str, bytes, bool]] = []
        #: the QoS each of ``messages`` arrived with (the lower of the publisher's and the subscription's 1)
        self.qos: list[int] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        if auth is not None:
            self.client.username_pw_set(*auth)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.reconnect_delay_set(1, 2)

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        client.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
            self.qos.append(msg.qos)

    def start(self) -> Collector:
        self.client.connect("127.0.0.1", self.port, keepalive=10)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("collector could not subscribe")
        return self

    def stop(self) -> None:
        # disconnect first: it wakes the network thread, which loop_stop would otherwise wait on for up to 1 s
        self.client.disconnect()
        self.client.loop_stop()

    def payloads(self, prefix: str) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.startswith(prefix)]

    def topics_seen(self, prefix: str = "") -> list[str]:
        with self._lock:
            return [t for t, _, _ in self.messages if t.startswith(prefix)]


@dataclass
class DaemonProcess:
    """``monitor run`` as a real subprocess with its own config, inbox and state folder."""

    workdir: Path
    broker_port: int
    extra_env: dict[str, str] = field(default_factory=dict)
    conf_extra: str = ""
    #: runs the daemon under another command (e.g. setpriv to drop capabilities)
    wrapper: list[str] = field(default_factory=list)
    #: ``mqtt.client_id``; empty: the daemon's own default
    client_id: str = "daemon-under-test"
    #: more arguments of ``monitor run`` (e.g. ``--embedded-broker``)
    run_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def inbox(self) -> Path:
        return self.workdir / "inbox"

    @property
    def state(self) -> Path:
        return self.workdir / "state"

    @property
    def log_path(self) -> Path:
        return self.workdir / "daemon.log"

    def config(self) -> Path:
        path = self.workdir / "monitor.toml"
        path.write_text(
            f"""
[watch]
paths = ["{self.inbox}"]
settle_ms = 100
rescan_seconds = 2

[mqtt]
host = "127.0.0.1"
port = {self.broker_port}
client_id = "{self.client_id}"

[state]
dir = "{self.state}"

[watchlists]
paths = ["{WATCHLISTS}"]

[log]
level = "debug"
format = "json"
{self.conf_extra}
"""
        )
        return path

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.extra_env}
        env.pop("MONITOR_CONFIG", None)
        self.proc = subprocess.Popen(
            [*self.wrapper, sys.executable, "-m", "monitor", "run", "--config", str(self.config()), *self.run_args],
            cwd=self.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("ab"),
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self.proc = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return events

    def events(self, name: str) -> list[dict[str, Any]]:
        """The log events with this name, in order."""
        return [e for e in self.log_events() if e.get("event") == name]

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the daemon watches its folders and is connected or queuing (its READY point)."""
        wait_until(lambda: bool(self.events("daemon ready")), timeout, what="daemon ready")

    def drop(self, name: str, content: str | bytes) -> Path:
        """Write a file beside the inbox and rename it into place, as well-behaved writers do."""
        self.inbox.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        target = self.inbox / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.part"
        tmp.write_bytes(data)
        tmp.rename(target)
        return target


def monitor_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``monitor ARGS`` as a subprocess; the caller's MONITOR_CONFIG is ignored unless ``env`` sets one."""
    inherited = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    full_env = {**inherited, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def stream_articles(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Distinct short articles (Hindi, English, mixed); about two in three should fire an alert."""
    templates = [
        "Pact {i}\n\nRussia and North Korea signed agreement number {i} in Moscow on day {n}.\n",
        "समझौता {i}\n\nरूस और उत्तर कोरिया ने {n} तारीख को {i} नए समझौते पर हस्ताक्षर किए।\n",
        "Market note {i}\n\nShares closed {n} points higher on day {i} in a quiet session.\n",
        "Talks {i}\n\nPutin met Kim Jong Un on day {n}; the two signed a treaty, report {i} said.\n",
        "मौसम {i}\n\nदिल्ली में {n} तारीख को बारिश की संभावना है, रिपोर्ट {i}।\n",
    ]
    return [
        (f"a{seed:02d}-{i:05d}.txt", templates[i % len(templates)].format(i=i, n=(i * 7 + seed) % 31 + 1))
        for i in range(count)
    ]


def write_articles(folder: Path, articles: list[tuple[str, str]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in articles:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def tagged_alerts(files: list[Path]) -> dict[str, tuple[str, str]]:
    """alert id -> (rule, file name), as `monitor tag --json` computes them for these files."""
    expected: dict[str, tuple[str, str]] = {}
    for start in range(0, len(files), 500):
        result = monitor_cli("tag", "--json", *map(str, files[start : start + 500]))
        assert result.returncode == 0, result.stderr
        for line in result.stdout.splitlines():
            doc = json.loads(line)
            for rule in doc["rules"]:
                expected[rule["alert_id"]] = (rule["rule"], Path(doc["path"]).name)
    return expected


class BatchRunner:
    """The daemon's batch steps in-process, without its event loop: a folder of real files, a real
    store, the worker pool, and ``process`` doing prepare, tag and finish in a row."""

    def __init__(self, workdir: Path, engine: Engine, workers: int = 0, *, commit: bool = True) -> None:
        self.inbox = workdir / "inbox"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.engine = engine
        watch = WatchSettings(paths=[self.inbox])
        self.source = FolderFiles(watch)
        self.store = Store.in_dir(workdir / "state")
        publishing = Publishing("newsmon", 262144)
        self.processor = Processor(self.store, self.source, publishing, commit=commit)
        self.pool = TaggingPool(workers, publishing)
        self._loop = asyncio.new_event_loop()

    def __enter__(self) -> BatchRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self.pool.close())
        self._loop.close()
        self.store.close()

    def all_keys(self) -> list[str]:
        return [str(path) for path in sorted(self.inbox.iterdir())]

    def tag(self, jobs: list[Job]) -> list[Analysis]:
        return self._loop.run_until_complete(self.pool.tag(self.engine, jobs))

    def process(self, keys: list[str]) -> list[Outcome]:
        prepared = self.processor.prepare(keys, self.engine)
        return self.processor.finish(prepared, self.tag(prepared.jobs))

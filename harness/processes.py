"""Real servers and the daemon as a subprocess, for tests and benchmarks: a private Mosquitto on a free
loopback port, a QoS 1 subscriber that keeps what it receives, `monitor run` and the other `monitor`
commands as child processes with their own folders. Nothing here is a stand-in: these are the parts
the product meets in production, started where a test or a benchmark can see them."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from monitor import events

REPO = Path(__file__).resolve().parent.parent
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


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def terminate(proc: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """SIGTERM and wait; SIGKILL if it does not end within ``timeout``."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
        # polled often: it listens within milliseconds, and every test with a broker waits for this
        wait_until(
            lambda: port_open(self.port) or self.proc is None or self.proc.poll() is not None,
            10,
            interval=0.005,
            what="mosquitto",
        )
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            log = (self.workdir / "mosquitto.log").read_text() if (self.workdir / "mosquitto.log").exists() else ""
            raise RuntimeError(f"mosquitto failed to start: {err}\n{log}")

    def stop(self) -> None:
        terminate(self.proc)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


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

    def __enter__(self) -> Collector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
    #: ``[stories] enabled``: off for the tests of delivery (every firing alerts, as their load of
    #: look-alike articles needs); on for the story tests and the chaos run
    stories: bool = False
    #: more arguments of `monitor run`
    run_args: list[str] = field(default_factory=list)
    #: RLIMIT_FSIZE for the daemon (a full disk where no tmpfs can be mounted); its log then goes through a
    #: pipe, out of the limit's reach. ``resource.RLIM_INFINITY``: no limit yet, set later with ``prlimit``
    file_size_limit: int | None = None
    #: the console's port (``[web]``; its other keys through ``MONITOR_WEB__*`` in ``extra_env``)
    web_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _log_copier: threading.Thread | None = None
    #: READY lines of earlier runs in the (appended) log: a restarted daemon is ready only on a new one
    _ready_before: int = 0

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

[stories]
enabled = {str(self.stories).lower()}

[log]
level = "debug"
format = "json"

[web]
port = {self.web_port}
{self.conf_extra}
"""
        )
        return path

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._ready_before = len(self.events(events.DAEMON_READY)) if self.log_path.exists() else 0
        env = {**os.environ, **self.extra_env}
        env.pop("MONITOR_CONFIG", None)
        limit = self.file_size_limit
        self.proc = subprocess.Popen(
            [*self.wrapper, sys.executable, "-m", "monitor", "run", "--config", str(self.config()), *self.run_args],
            cwd=self.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("ab") if limit is None else subprocess.PIPE,
            preexec_fn=None if limit is None else lambda: _limit_file_size(limit),
        )
        if self.proc.stderr is not None:
            out = self.log_path.open("ab")
            self._log_copier = threading.Thread(target=_copy_lines, args=(self.proc.stderr, out))
            self._log_copier.start()

    def send_signal(self, sig: int = signal.SIGTERM) -> None:
        """``sig`` to a daemon still running, without waiting (several told at once, see ``stop_all``)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig: int | None = signal.SIGTERM, timeout: float = 20) -> int:
        """``sig`` (None: it was sent already) and its exit code. One that has not ended ``timeout`` seconds
        later is killed, never left running behind the test (an AssertionError says so; its log shows how
        far the stop got)."""
        assert self.proc is not None
        proc = self.proc
        if sig is not None:  # never twice: a second SIGTERM that lands after the loop closed kills it (-15)
            self.send_signal(sig)
        try:
            code: int | None = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        self.proc = None
        if self._log_copier is not None:
            self._log_copier.join()
        if code is None:
            name = signal.Signals(sig).name if sig is not None else "its signal"
            raise AssertionError(f"monitor run (pid {proc.pid}) did not end within {timeout:g} s of {name}: killed")
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def wait_exit(self, timeout: float = 30) -> int:
        """The exit code of a daemon that is expected to stop on its own (its log complete)."""
        assert self.proc is not None
        self.proc.wait(timeout)
        return self.stop()

    def log_events(self) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return lines

    def events(self, name: str) -> list[dict[str, Any]]:
        """The log events with this name, in order."""
        return [e for e in self.log_events() if e.get("event") == name]

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the daemon watches its folders and is connected or queuing (its READY point)."""
        wait_until(lambda: len(self.events(events.DAEMON_READY)) > self._ready_before, timeout, what="daemon ready")

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


def stop_all(daemons: Iterable[DaemonProcess], timeout: float = 20) -> list[int]:
    """SIGTERM to every daemon still running at once, then their exit codes: one that hangs keeps no other
    from its signal, and all are down before the first one's failure is raised."""
    running = [daemon for daemon in daemons if daemon.proc is not None]
    for daemon in running:
        daemon.send_signal()
    codes: list[int] = []
    failure: AssertionError | None = None
    for daemon in running:
        try:
            codes.append(daemon.stop(None, timeout=timeout))
        except AssertionError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    return codes


def _limit_file_size(limit: int) -> None:
    """In the child: no file may grow beyond ``limit`` bytes (Python ignores SIGXFSZ: writes fail with EFBIG)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def _copy_lines(stream: IO[bytes], out: IO[bytes]) -> None:
    with out:
        for line in stream:
            out.write(line)
            out.flush()


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

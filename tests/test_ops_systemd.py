"""The systemd side: the notify protocol against a real datagram socket (unit and `monitor run`), and the
shipped unit file verified and rated by systemd-analyze."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.processes import REPO, Mosquitto, wait_until
from monitor.systemd import Notifier, socket_address, status_line, watchdog_interval
from tests.support import running_daemon

UNIT = REPO / "deploy" / "monitor.service"
#: one instance per cluster role on a host (deploy/cluster.md)
ROLE_UNIT = REPO / "deploy" / "monitor@.service"


class NotifySocket:
    """A datagram socket standing in for systemd's notify socket; keeps every message received."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.setblocking(False)
        self.messages: list[str] = []

    def drain(self) -> list[str]:
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.messages

    def lines(self) -> list[str]:
        return [line for message in self.drain() for line in message.split("\n")]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, NotifySocket]]:
    name = f"@newsmon-test-{os.getpid()}-{time.monotonic_ns()}"
    listener = NotifySocket(b"\0" + name[1:].encode())
    yield name, listener
    listener.close()


def test_without_notify_socket_every_call_is_a_no_op() -> None:
    notifier = Notifier.from_env({})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog() is False


def test_abstract_names_start_with_a_nul_byte_and_paths_are_kept() -> None:
    assert socket_address("@/org/freedesktop/systemd1/notify") == b"\0/org/freedesktop/systemd1/notify"
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("") is None
    assert socket_address("vsock:2:1234") is None


def test_watchdog_pings_at_half_the_interval_and_only_for_our_pid() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}, pid=7) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"}, pid=7) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"}, pid=7) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}, pid=7) is None
    assert watchdog_interval({}, pid=7) is None


def test_state_lines_arrive_on_a_path_socket(tmp_path: Path) -> None:
    listener = NotifySocket(str(tmp_path / "notify"))
    notifier = Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "notify")})
    try:
        assert notifier.ready(status_line(3, 1, True))
        assert notifier.reloading()
        assert notifier.stopping()
        ready, reloading, stopping = listener.drain()
    finally:
        notifier.close()
        listener.close()
    assert ready == "READY=1\nSTATUS=3 articles processed, 1 alerts pending, broker connected"
    first, second = reloading.split("\n")
    assert first == "RELOADING=1"
    stamp = int(second.removeprefix("MONOTONIC_USEC="))
    assert abs(stamp - time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000) < 60_000_000
    assert stopping == "STOPPING=1"


def test_a_repeated_status_is_sent_once(abstract_socket: tuple[str, NotifySocket]) -> None:
    name, listener = abstract_socket
    notifier = Notifier.from_env({"NOTIFY_SOCKET": name})
    notifier.status("a")
    notifier.status("a")
    notifier.status("b")
    notifier.close()
    assert listener.drain() == ["STATUS=a", "STATUS=b"]


@pytest.mark.e2e
def test_monitor_run_reports_ready_watchdog_reloading_and_stopping(
    tmp_path: Path, broker: Mosquitto, abstract_socket: tuple[str, NotifySocket]
) -> None:
    name, listener = abstract_socket
    under_systemd = {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "200000"}
    with running_daemon(tmp_path / "d", broker.port, extra_env=under_systemd, ready=False) as daemon:
        wait_until(lambda: "READY=1" in listener.lines(), 30, what="READY=1")
        wait_until(lambda: listener.lines().count("WATCHDOG=1") >= 3, 20, what="watchdog pings")
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: listener.lines().count("READY=1") >= 2, 20, what="READY=1 after the reload")
    lines = listener.lines()
    assert lines.index("READY=1") < lines.index("RELOADING=1") < len(lines) - 1 - lines[::-1].index("READY=1")
    assert any(line.startswith("MONOTONIC_USEC=") for line in lines)
    assert any(re.fullmatch(r"STATUS=\d+ articles processed, \d+ alerts pending, broker .*", line) for line in lines)
    assert "STOPPING=1" in lines
    assert lines.index("STOPPING=1") > lines.index("RELOADING=1")


# -- the unit file ------------------------------------------------------------------------------------


def unit_settings(unit: Path = UNIT) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.fail("systemd-analyze is not installed: .ci/run installs it (apt-get install -y systemd)")
    return found


def test_unit_is_a_notify_service_with_reload_restart_state_and_watchdog() -> None:
    unit = unit_settings()
    assert unit["Type"] == ["notify"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["StateDirectory"] == ["newsmon"]
    assert unit["ConfigurationDirectory"] == ["monitor"]
    assert unit["WatchdogSec"]
    # the daemon's state and config land where systemd creates and protects them
    assert unit["Environment"].count("MONITOR_STATE__DIR=/var/lib/newsmon") == 1
    assert "--config /etc/monitor/monitor.toml" in unit["ExecStart"][0]
    assert "ReadWritePaths" not in unit  # the inbox stays read-only unless quarantine is switched on


@pytest.mark.e2e
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """verify insists that ExecStart exists: check a copy pointing at the `monitor` of this install
    (the shipped path is where deploy/README.md installs it, which need not exist on a test machine)."""
    analyze = systemd_analyze()
    installed = Path(sys.executable).parent / "monitor"
    assert installed.is_file(), "the package is installed in this interpreter's environment"
    text = UNIT.read_text(encoding="utf-8")
    shipped = re.search(r"^ExecStart=(\S+)", text, re.M)
    assert shipped is not None
    copy = tmp_path / "monitor.service"
    copy.write_text(text.replace(f"ExecStart={shipped.group(1)}", f"ExecStart={installed}"), encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "monitor.service" not in result.stderr, result.stderr  # no warning about our unit either

    original = subprocess.run([analyze, "verify", str(UNIT)], capture_output=True, text=True, timeout=60)
    if not Path(shipped.group(1)).exists():  # the only complaint allowed about the shipped unit is that one
        problems = [line for line in original.stderr.splitlines() if "monitor.service" in line]
        assert problems and all("is not executable" in p and shipped.group(1) in p for p in problems)


@pytest.mark.e2e
def test_unit_exposure_is_rated_at_most_1_5(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    found = re.search(r"Overall exposure level for monitor\.service: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= 1.5, result.stdout


def test_the_role_unit_is_the_single_host_unit_with_its_config_and_state_per_instance() -> None:
    single, role = unit_settings(), unit_settings(ROLE_UNIT)
    differ = {key for key in single.keys() | role.keys() if single.get(key) != role.get(key)}
    assert differ == {"Description", "After", "ExecStart", "StateDirectory", "WorkingDirectory", "Environment"}
    assert role["ExecStart"] == [single["ExecStart"][0].replace("/etc/monitor/monitor.toml", "/etc/monitor/%i.toml")]
    assert role["StateDirectory"] == ["newsmon/%i"]
    assert "MONITOR_STATE__DIR=/var/lib/newsmon/%i" in role["Environment"]
    assert "nats-server.service" in role["After"][0]


@pytest.mark.e2e
def test_a_role_instance_passes_verify_and_is_rated_at_most_1_5(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    installed = Path(sys.executable).parent / "monitor"
    text = ROLE_UNIT.read_text(encoding="utf-8")
    shipped = re.search(r"^ExecStart=(\S+)", text, re.M)
    assert shipped is not None
    instance = tmp_path / "monitor@worker.service"
    instance.write_text(text.replace(f"ExecStart={shipped.group(1)}", f"ExecStart={installed}"), encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(instance)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "monitor@worker" not in result.stderr, result.stderr
    rated = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(instance)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    found = re.search(r"Overall exposure level for monitor@worker\.service: (\d+\.\d+)", rated.stdout)
    assert found and float(found.group(1)) <= 1.5, rated.stdout + rated.stderr

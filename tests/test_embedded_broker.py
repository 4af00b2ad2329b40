"""The quickstart's embedded broker (``monitor run --embedded-broker``), with real processes: a host that already
runs an MQTT broker on the port, a port taken by something that is not one, and the tools beside it
(``monitor backfill --publish``, ``monitor tail --client-id``)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.processes import WATCHLISTS, Collector, DaemonProcess, Mosquitto, free_port, monitor_cli, wait_until
from monitor.store import Store
from tests.test_ops_tools import Tail

pytestmark = pytest.mark.e2e

PACT = "Russia and North Korea sign a pact {n}\n\nRussia and North Korea signed a new agreement, number {n}.\n"
QUIET = "Weather report\n\nRain is expected in the hills this weekend.\n"
USING_IT = "an MQTT broker already listens on 127.0.0.1:{port}; using it, not starting the embedded one"


def embedded_daemon(folder: Path, port: int) -> DaemonProcess:
    return DaemonProcess(folder, port, run_args=["--embedded-broker"])


@pytest.fixture
def quickstart(tmp_path: Path) -> Iterator[DaemonProcess]:
    """A daemon that runs the embedded broker on a free port."""
    daemon = embedded_daemon(tmp_path / "quickstart", free_port())
    daemon.start()
    daemon.wait_ready()
    assert daemon.events("embedded MQTT broker started (quickstart only, not for production)")
    yield daemon
    assert daemon.stop() == 0


def outbox_depth(state: Path) -> int:
    store = Store.in_dir(state)
    try:
        return store.outbox_depth()
    finally:
        store.close()


def test_the_embedded_broker_mode_uses_a_broker_already_on_its_port_and_speaks_mqtt_5_to_it(
    tmp_path: Path, broker: Mosquitto
) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#").start()
    daemon = embedded_daemon(tmp_path / "d", broker.port)
    daemon.start()
    try:
        daemon.wait_ready()
        daemon.drop("pact.txt", PACT.format(n=1))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 20, what="the alert through Mosquitto")
    finally:
        assert daemon.stop() == 0
        collector.stop()
    assert [e["level"] for e in daemon.events(USING_IT.format(port=broker.port))] == ["warning"]
    assert not daemon.events("embedded MQTT broker started (quickstart only, not for production)")
    assert not daemon.events("embedded broker failed")
    log = (broker.workdir / "mosquitto.log").read_text()
    assert f"as {daemon.client_id} (p5," in log  # MQTT 5: it sees a publish the broker refuses


def test_the_embedded_broker_mode_on_a_port_taken_by_something_else_is_one_clear_error_and_exit_2(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()  # the kernel completes the handshake; nothing ever answers a CONNECT
        daemon = embedded_daemon(tmp_path / "d", taken.getsockname()[1])
        daemon.start()
        assert daemon.proc is not None
        assert daemon.proc.wait(30) == 2
    errors = [e for e in daemon.log_events() if e.get("level") == "error"]
    assert [e["event"] for e in errors] == ["embedded broker failed"]
    problem = str(errors[0]["problem"])
    assert problem.startswith(f"cannot start the embedded broker on 127.0.0.1:{daemon.broker_port} (")
    assert "no MQTT broker answers there; choose another port with MONITOR_MQTT__PORT" in problem
    assert "Traceback" not in daemon.log_path.read_text()


def said(result: subprocess.CompletedProcess[str]) -> str:
    """Its stderr with rich's line wrapping undone."""
    return " ".join(result.stderr.split())


def archive_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "backfill.toml"
    path.write_text(
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\n\n[state]\ndir = "{tmp_path / "backfill-state"}"\n\n'
        f'[watchlists]\npaths = ["{WATCHLISTS}"]\n\n[log]\nformat = "json"\n'
        "\n[stories]\nenabled = false\n"  # delivery is under test: look-alike articles each alert
    )
    return path


def test_backfill_publishes_through_the_embedded_broker_and_counts_what_it_delivered(
    tmp_path: Path, quickstart: DaemonProcess
) -> None:
    port = quickstart.broker_port
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "pact-1.txt").write_text(PACT.format(n=1))
    (folder / "pact-2.txt").write_text(PACT.format(n=2))
    (folder / "quiet.txt").write_text(QUIET)
    conf = archive_config(tmp_path, port)
    collector = Collector(port, "newsmon/alerts/#").start()
    try:
        first = monitor_cli("backfill", "--publish", "--config", str(conf), str(folder))
        assert first.returncode == 0, first.stderr
        assert "3 files: 2 alerted, 1 clean, 0 duplicate, 0 error; 2 new alerts; 2 messages delivered" in said(first)
        assert first.stderr.count("the broker does not speak MQTT 5; using 3.1.1") == 1
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 20, what="the backfilled alerts")
    finally:
        collector.stop()
    assert outbox_depth(tmp_path / "backfill-state") == 0


def test_backfill_reports_the_earlier_runs_alerts_it_delivers_not_just_its_own(
    tmp_path: Path, quickstart: DaemonProcess
) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "pact-1.txt").write_text(PACT.format(n=1))
    (folder / "pact-2.txt").write_text(PACT.format(n=2))
    nobody = archive_config(tmp_path, free_port())
    kept = monitor_cli("backfill", "--publish", "--flush-timeout", "1", "--config", str(nobody), str(folder))
    assert kept.returncode == 1
    assert "2 new alerts; 0 messages delivered" in said(kept)
    assert "2 messages not yet acknowledged stay in the outbox" in said(kept)

    (folder / "pact-3.txt").write_text(PACT.format(n=3))
    conf = archive_config(tmp_path, quickstart.broker_port)
    again = monitor_cli("backfill", "--publish", "--config", str(conf), str(folder))
    assert again.returncode == 0, again.stderr
    assert "3 files: 1 alerted, 0 clean, 2 duplicate, 0 error; 1 new alerts; 3 messages delivered" in said(again)
    assert outbox_depth(tmp_path / "backfill-state") == 0


def test_tail_with_a_client_id_gets_what_the_embedded_broker_received_while_it_was_away(
    tmp_path: Path, quickstart: DaemonProcess
) -> None:
    config = tmp_path / "tail.toml"
    config.write_text(f'[mqtt]\nhost = "127.0.0.1"\nport = {quickstart.broker_port}\n')
    first = Tail(tmp_path / "first", config, "--json", "--client-id", "analyst-1")
    first.wait_listening()
    first.proc.terminate()
    first.finish()
    quickstart.drop("pact.txt", PACT.format(n=1))
    wait_until(lambda: bool(quickstart.events("alert queued")), 20, what="the alert queued")
    wait_until(lambda: outbox_depth(quickstart.state) == 0, 20, what="the broker to take it")
    back = Tail(tmp_path / "back", config, "--json", "--client-id", "analyst-1", "--count", "1")
    try:
        assert back.finish(timeout=15) == 0, back.err.read_text()
    finally:
        if back.proc.poll() is None:
            back.proc.kill()
    assert [a["article"]["path"].rsplit("/", 1)[-1] for a in back.alerts()] == ["pact.txt"]

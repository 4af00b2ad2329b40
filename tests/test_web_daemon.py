"""The console inside `monitor run`: its URL is logged at start, it knows the loaded rules, and a console
that cannot start (a taken port, a non-loopback address without authentication) is one log line while the
daemon tags and publishes on."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest

from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until
from monitor import events
from tests.support import AGREEMENT_ARTICLE, running_daemon

pytestmark = pytest.mark.e2e


def test_the_daemon_logs_the_console_url_and_serves_it(tmp_path: Path, broker: Mosquitto) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    with running_daemon(daemon):
        [listening] = daemon.events(events.WEB_LISTENING)
        assert listening["url"] == f"{daemon.web_url}/"
        with urllib.request.urlopen(daemon.web_url + "/api/alerts", timeout=5) as response:
            assert response.status == 200
        # no alert yet: the loaded watchlists' rules are known all the same (the daemon gives its engine's ids)
        with urllib.request.urlopen(daemon.web_url + "/feeds/russia-dprk-agreement.atom", timeout=5) as response:
            assert response.status == 200 and b"<entry" not in response.read()


def test_a_taken_console_port_is_one_log_line_and_alerts_still_flow(tmp_path: Path, broker: Mosquitto) -> None:
    with socket.socket() as taken, Collector(broker.port, "newsmon/alerts/#", client_id="taken-port") as collector:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        daemon = DaemonProcess(tmp_path / "d", broker.port, web_port=taken.getsockname()[1])
        with running_daemon(daemon):
            daemon.drop("a.txt", AGREEMENT_ARTICLE)
            wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="the alert")
        [line] = daemon.events(events.WEB_UNAVAILABLE)
        assert line["level"] == "error" and "in use" in line["error"]
        assert daemon.events(events.WEB_LISTENING) == []


def test_a_public_address_without_authentication_keeps_the_console_off(tmp_path: Path, broker: Mosquitto) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_WEB__HOST": "0.0.0.0"})
    with Collector(broker.port, "newsmon/alerts/#", client_id="public") as collector, running_daemon(daemon):
        daemon.drop("a.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="the alert")
    assert [line["event"] for line in daemon.events(events.WEB_REFUSED)] == [events.WEB_REFUSED]
    assert daemon.events(events.WEB_LISTENING) == []

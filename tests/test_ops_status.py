"""`monitor status`: one look at a daemon (running, broker, outbox, last article, errors, reload) with
exit codes a monitoring system can use: 0 ok, 1 degraded, 2 not running, 3 unknown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.processes import DaemonProcess, Mosquitto, monitor_cli, wait_until
from monitor.config import Settings
from monitor.rates import RateMeter
from monitor.status import DEGRADED, NOT_RUNNING, OK, Findings, _status_of, render, verdict
from monitor.store import StateSummary

PACT = "Pact signed\n\nRussia and North Korea signed a new agreement in Moscow today.\n"


def status(daemon: DaemonProcess, *args: str) -> tuple[int, dict[str, Any]]:
    result = monitor_cli("status", "--json", "--timeout", "2", "--config", str(daemon.workdir / "monitor.toml"), *args)
    assert result.stderr == ""
    return result.returncode, json.loads(result.stdout)


@pytest.mark.e2e
def test_status_follows_a_daemon_through_ok_degraded_and_stopped(tmp_path: Path, broker: Mosquitto) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    daemon.workdir.mkdir()
    daemon.config()
    code, before = status(daemon)
    assert (code, before["status"], before["running"]) == (2, "not running", False)

    daemon.start()
    try:
        daemon.wait_ready()
        daemon.drop("pact.txt", PACT)
        daemon.drop("empty.txt", "")
        wait_until(lambda: len(daemon.events("article processed")) + len(daemon.events("bad input file")) == 2, 30)
        wait_until(lambda: status(daemon)[1]["outbox_depth"] == 0, 30, what="outbox drained")
        code, healthy = status(daemon)
        assert (code, healthy["status"], healthy["reasons"]) == (0, "ok", [])
        assert daemon.proc is not None and healthy["pid"] == daemon.proc.pid
        assert healthy["broker_connected"] is True and healthy["last_article_at"] is not None
        assert healthy["counts"]["errors"] == 1 and healthy["counts"]["done"] == 1
        assert healthy["status_topic"]["state"] == "online"
        readable = monitor_cli("status", "--config", str(daemon.workdir / "monitor.toml"), "--timeout", "2")
        assert readable.returncode == 0 and "daemon:       running (pid" in readable.stdout

        broker.stop()
        daemon.drop("pact-2.txt", PACT.replace("today", "tonight"))
        wait_until(lambda: len(daemon.events("article processed")) == 2, 30, what="processed while the broker is down")
        code, degraded = status(daemon, "--max-age", "0")
        assert (code, degraded["status"], degraded["broker_connected"]) == (1, "degraded", False)
        assert degraded["outbox_depth"] >= 1
        assert any("broker" in reason for reason in degraded["reasons"])
        assert any("oldest message" in reason for reason in degraded["reasons"])
        broker.start()
    finally:
        assert daemon.stop() == 0
    code, after = status(daemon)
    assert (code, after["running"]) == (2, False)


@pytest.mark.e2e
def test_status_of_a_state_folder_that_cannot_be_read_is_unknown(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "state"
    not_a_folder.write_text("")  # the lock and the database cannot be looked up under it, even by root
    result = monitor_cli("status", "--json", env={"MONITOR_STATE__DIR": str(not_a_folder)}, cwd=tmp_path)
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["status"] == "unknown" and "cannot read the state folder" in report["reasons"][0]


def test_a_failed_reload_or_an_old_outbox_is_degraded_and_a_healthy_daemon_ok() -> None:
    online = {"state": "online", "counters": {"broker_connected": True}}
    state = StateSummary(outbox_depth=1, oldest_pending_at=100.0, last_article_at=100.0, counts={})
    assert verdict(Findings(running=True, status=online, state=state), 150.0, 300) == OK
    assert verdict(Findings(running=True, status=online, state=state), 500.0, 300) == DEGRADED
    failed = {**online, "reload": "failed", "reload_reason": "a.yaml:1: ..."}
    found = Findings(running=True, status=failed, state=state)
    assert verdict(found, 150.0, 300) == DEGRADED and "a.yaml:1" in found.reasons[0]
    offline = Findings(running=True, status={"state": "offline", "reason": "connection lost"}, state=state)
    assert verdict(offline, 150.0, 300) == DEGRADED and "connection lost" in offline.reasons[0]
    assert verdict(Findings(running=False), 150.0, 300) == NOT_RUNNING


def test_a_retained_status_anyone_could_have_written_is_read_defensively() -> None:
    assert _status_of(b"not json") is None, "no status, not a broker failure"
    assert _status_of(b"[1, 2]") is None
    odd = _status_of(json.dumps({"state": "online", "counters": [], "reload_reason": "\x1b]0;PWNED\x07bad"}).encode())
    assert odd is not None
    assert "counters" not in odd, "a counters value that is not an object is dropped, not a traceback later"
    assert "\x1b" not in odd["reload_reason"] and "PWNED" not in odd["reload_reason"]
    found = Findings(running=True, status=odd)
    assert verdict(found, now=0.0, max_age=300.0) == OK


def test_the_report_shows_a_workers_cluster_figures_and_rate_and_nothing_else_of_a_hostile_status() -> None:
    status = {
        "state": "online",
        "counters": {"broker_connected": True, "articles_per_second": 12.5},
        "cluster": {"role": "worker", "waiting": 40, "unacknowledged": 3, "dead_letters": 1, "\x1b[2J": 9, "x": "y"},
    }
    found = Findings(running=True, status=status)
    report = render(found, OK, Settings(), now=0.0)
    assert "cluster:      40 waiting, 3 unacknowledged, 1 dead letters" in report
    assert "rate:         12.5 articles/s over the last minute" in report
    assert "\x1b" not in report and "9" not in report.split("cluster:")[1].split("\n")[0]


def test_the_rate_is_taken_over_the_last_minute_of_samples() -> None:
    meter = RateMeter(span_s=60.0)
    assert meter.per_second() == 0.0
    for second in range(0, 181):
        meter.sample(float(second), second * 10 if second <= 120 else 1200)  # 10 a second, then idle
    assert meter.per_second() == pytest.approx(0.0, abs=0.2), "the last minute was idle"
    meter.sample(190.0, 1500)
    assert meter.per_second() == pytest.approx(300 / 70, rel=0.2)

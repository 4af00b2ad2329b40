"""Tools for subscribers: `monitor tail` (against a real daemon, across a broker restart, filtered) and
`monitor schema alert` (kept equal to the committed copy, every field documented in the README)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from harness.processes import REPO, Collector, Mosquitto, monitor_cli, wait_until
from monitor.tail import TailFilter
from tests.support import QUIET_ARTICLE, numbered_pact, running_daemon


class Tail:
    """`monitor tail` as a real subprocess; stdout and stderr go to files read while it runs."""

    def __init__(self, workdir: Path, config: Path, *args: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.out = workdir / "tail.out"
        self.err = workdir / "tail.err"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "tail", "--config", str(config), *args],
            stdout=self.out.open("wb"),
            stderr=self.err.open("wb"),
            cwd=workdir,
        )

    def stderr_lines(self) -> list[str]:
        return self.err.read_text().splitlines()

    def alerts(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.read_text().splitlines() if line.strip()]

    def wait_listening(self, times: int = 1) -> None:
        wait_until(lambda: sum(line.startswith("listening on") for line in self.stderr_lines()) >= times, 30,
                   what=f"tail subscribed ({times})")  # fmt: skip

    def finish(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@pytest.mark.e2e
def test_tail_json_prints_exactly_what_the_daemon_publishes(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#").start()
    with running_daemon(tmp_path / "d", broker.port) as daemon:
        tail = Tail(tmp_path / "tail", daemon.workdir / "monitor.toml", "--json", "--count", "2")
        tail.wait_listening()
        daemon.drop("pact-1.txt", numbered_pact(1))
        daemon.drop("quiet.txt", QUIET_ARTICLE)
        daemon.drop("pact-2.txt", numbered_pact(2))
        assert tail.finish() == 0
    wait_until(lambda: len(collector.payloads("newsmon/alerts/")) >= 2, 10, what="collector")
    collector.stop()
    printed = tail.alerts()
    assert len(printed) == 2
    assert sorted(printed, key=lambda a: a["id"]) == sorted(
        collector.payloads("newsmon/alerts/"), key=lambda a: a["id"]
    )
    assert {Path(a["article"]["path"]).name for a in printed} == {"pact-1.txt", "pact-2.txt"}


def alert(n: int, severity: str, rule: str = "test-rule") -> dict[str, Any]:
    return {
        "schema": 1,
        "id": f"id-{n}",
        "rule": {"id": rule, "title": "Test", "severity": severity},
        "article": {"path": f"/in/{n}.txt", "sha256": "0" * 64, "title": f"Article {n}"},
        "evidence": [],
        "watchlist_version": "v1",
    }


def publish(port: int, payload: dict[str, Any]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-publisher")
    client.connect("127.0.0.1", port)
    client.loop_start()
    info = client.publish(f"newsmon/alerts/{payload['rule']['id']}", json.dumps(payload), qos=1)
    info.wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


@pytest.mark.e2e
def test_tail_survives_a_broker_restart_and_keeps_filtering(tmp_path: Path, broker: Mosquitto) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n')
    tail = Tail(tmp_path / "tail", config, "--json", "--severity", "high", "--count", "2", "--client-id", "tail-1")
    try:
        tail.wait_listening()
        publish(broker.port, alert(1, "low"))  # below the threshold: not printed
        publish(broker.port, alert(2, "high"))
        wait_until(lambda: len(tail.alerts()) == 1, 20, what="first alert")
        broker.restart()
        tail.wait_listening(times=2)
        publish(broker.port, alert(3, "critical"))
        assert tail.finish() == 0
    finally:
        if tail.proc.poll() is None:
            tail.proc.kill()
    assert [a["id"] for a in tail.alerts()] == ["id-2", "id-3"]
    assert any("broker unreachable" in line for line in tail.stderr_lines())
    assert any("broker reachable again" in line for line in tail.stderr_lines())


def test_tail_filter_by_rule_severity_and_watchlist() -> None:
    assert TailFilter(rules=frozenset({"a"})).accepts(alert(1, "low", rule="a"))
    assert not TailFilter(rules=frozenset({"a"})).accepts(alert(1, "low", rule="b"))
    assert TailFilter(min_severity="medium").accepts(alert(1, "critical"))
    assert not TailFilter(min_severity="medium").accepts(alert(1, "low"))
    assert TailFilter(watchlist="v1").accepts(alert(1, "low"))
    assert not TailFilter(watchlist="v2").accepts(alert(1, "low"))


@pytest.mark.e2e
def test_committed_alert_schema_equals_the_generated_one() -> None:
    result = monitor_cli("schema", "alert")
    assert result.returncode == 0, result.stderr
    committed = (REPO / "docs" / "alert.schema.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout) == json.loads(committed), "run: monitor schema alert > docs/alert.schema.json"


def test_readme_documents_every_alert_field() -> None:
    schema = json.loads((REPO / "docs" / "alert.schema.json").read_text(encoding="utf-8"))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", readme, re.M))
    assert set(schema["properties"]) <= documented
    for name, definition in schema["$defs"].items():  # nested fields appear in the example payload
        for field in definition["properties"]:
            assert f'"{field}"' in readme, f"{name}.{field} is not shown in the README"


@pytest.mark.e2e
def test_tail_with_an_unreadable_password_file_says_so_and_exits(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-password"
    result = monitor_cli("tail", env={"MONITOR_MQTT__USERNAME": "reader", "MONITOR_MQTT__PASSWORD_FILE": str(missing)})
    assert result.returncode == 1
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr

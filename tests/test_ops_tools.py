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
from monitor.alerts import Alert, ArticleInfo, NotAnAlert, RuleInfo, read_alert
from monitor.engine.result import Severity
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


def alert(n: int, severity: Severity, rule: str = "test-rule") -> dict[str, Any]:
    """A valid alert payload, as the daemon would publish it."""
    return Alert(
        id=f"id-{n}",
        rule=RuleInfo(id=rule, title="Test", severity=severity),
        article=ArticleInfo(path=f"/in/{n}.txt", sha256="0" * 64, title=f"Article {n}"),
        entities=[],
        evidence=[],
        watchlist_version="v1",
        produced_at="2026-01-01T00:00:00.000Z",
    ).model_dump(mode="json", by_alias=True)


def publish(port: int, payload: dict[str, Any] | bytes, topic: str = "", retain: bool = False) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-publisher")
    client.connect("127.0.0.1", port)
    client.loop_start()
    if isinstance(payload, dict):
        topic, payload = topic or f"newsmon/alerts/{payload['rule']['id']}", json.dumps(payload).encode()
    info = client.publish(topic, payload, qos=1, retain=retain)
    info.wait_for_publish(10)
    client.disconnect()  # first: it wakes the network thread, which loop_stop would otherwise wait on for 1 s
    client.loop_stop()


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


NOT_ALERTS = [
    ("newsmon/alerts/test", b'{"hello": 1}'),
    ("newsmon/alerts/test", b'{"hello": 2}'),  # the same topic again: no second line
    ("newsmon/alerts/text", b"not json at all"),
    ("newsmon/alerts/list", b"[1, 2]"),
    ("newsmon/alerts/half", b'{"schema": 1, "id": "x", "rule": {"id": "r"}}'),
    ("newsmon/alerts/future", json.dumps({**alert(9, "high"), "schema": 3}).encode()),
]
#: a retained status where a subscriber to the alerts gets it (amqtt sends it there), redelivered on every reconnect
STATUS_THERE = ("newsmon/alerts/status", b'{"state": "online", "version": "0.1.0", "host": "h", "pid": 1}')


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["readable", "json"])
def test_tail_skips_what_is_not_an_alert_with_one_line_per_topic_and_prints_the_alerts(
    tmp_path: Path, broker: Mosquitto, mode: str
) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n')
    publish(broker.port, STATUS_THERE[1], STATUS_THERE[0], retain=True)
    tail = Tail(tmp_path / "tail", config, *(["--json"] if mode == "json" else []), "--count", "2")
    try:
        tail.wait_listening()
        for topic, payload in NOT_ALERTS:
            publish(broker.port, payload, topic)
        publish(broker.port, alert(1, "high"))
        # printed before the restart: a stopping broker may drop what it has not yet passed on
        wait_until(lambda: "Article 1" in tail.out.read_text(), 20, what="the first alert printed")
        broker.restart()  # the retained status arrives again on the new connection
        tail.wait_listening(times=2)
        publish(broker.port, alert(2, "low"))
        assert tail.finish() == 0
    finally:
        if tail.proc.poll() is None:
            tail.proc.kill()
    skipped = [line for line in tail.stderr_lines() if line.startswith("skipped a message on ")]
    topics = [line.split()[4].rstrip(":") for line in skipped]
    assert sorted(topics) == sorted({t for t, _ in [*NOT_ALERTS, STATUS_THERE]}), skipped
    assert "Traceback" not in tail.err.read_text()
    printed = tail.out.read_text()
    if mode == "json":
        assert [a["id"] for a in tail.alerts()] == ["id-1", "id-2"]
    else:
        assert "[HIGH] test-rule  Article 1" in printed and "[LOW] test-rule  Article 2" in printed
    assert "hello" not in printed and "online" not in printed


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b'{"hello": 1}', "not an alert (id: Field required)"),
        (b"\xff\xfe not json", "not JSON"),
        (b'"a string"', "not a JSON object"),
        (b'{"state": "online", "version": "0.1.0", "host": "h", "pid": 1}', "not an alert"),
        (b'{"schema": 1, "id": "x", "rule": {"id": "r"}}', "not an alert (rule.title: Field required)"),
        (json.dumps({**alert(1, "high"), "schema": 3}).encode(), "alert schema 3 is newer than this monitor's (2)"),
    ],
)
def test_a_message_that_is_not_an_alert_is_named_for_what_it_is(payload: bytes, why: str) -> None:
    with pytest.raises(NotAnAlert) as caught:
        read_alert(payload)
    assert str(caught.value).startswith(why)


def test_an_alert_as_the_daemon_publishes_it_is_read_as_it_is() -> None:
    sent = alert(1, "critical")
    assert read_alert(json.dumps(sent).encode()) == sent


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

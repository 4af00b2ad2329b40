"""The daemon end to end: a real `monitor run` subprocess, a private Mosquitto, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.processes import Collector, DaemonProcess, Mosquitto, monitor_cli, wait_until
from monitor import events
from tests.support import AGREEMENT_ARTICLE, QUIET_ARTICLE, SEEDS, running_daemon

pytestmark = pytest.mark.e2e

AGREEMENT = "russia-dprk-agreement"


def seed_files() -> list[Path]:
    if not SEEDS.is_dir():
        pytest.skip(f"sample articles not found at {SEEDS}")
    return sorted(SEEDS.glob("*.txt"))


def expected_alerts(files: list[Path]) -> dict[str, tuple[str, str]]:
    """alert id -> (rule, file name), computed by `monitor tag --json` over the same files."""
    result = monitor_cli("tag", "--json", *map(str, files))
    assert result.returncode == 0, result.stderr
    expected = {}
    for line in result.stdout.splitlines():
        doc = json.loads(line)
        for rule in doc["rules"]:
            expected[rule["id"]] = (rule["rule"], Path(doc["path"]).name)
    return expected


def test_seeds_dropped_into_the_inbox_alert_exactly_as_tagged(tmp_path: Path, broker: Mosquitto) -> None:
    files = seed_files()
    expected = expected_alerts(files)
    agreement_files = sorted(name for rule, name in expected.values() if rule == AGREEMENT)
    assert [n[:3] for n in agreement_files] == ["001", "002"]

    collector = Collector(broker.port, "newsmon/#").start()
    with running_daemon(tmp_path / "d", broker.port) as daemon:
        wait_until(
            lambda: any(
                json.loads(p).get("state") == "online" for t, p, _ in collector.messages if t == "newsmon/status"
            ),
            20,
            what="online status",
        )
        for path in files:
            daemon.drop(path.name, path.read_bytes())
        wait_until(
            lambda: len({a["id"] for a in collector.payloads("newsmon/alerts/")}) >= len(expected),
            30,
            what="all alerts",
        )
    alerts = collector.payloads("newsmon/alerts/")
    assert {a["id"] for a in alerts} == set(expected)
    for alert in alerts:
        rule, name = expected[alert["id"]]
        assert alert["rule"]["id"] == rule
        assert Path(alert["article"]["path"]).name == name
        assert alert["schema"] == 2
        assert alert["evidence"] and alert["evidence"][0]["spans"]
        assert len(alert["article"]["sha256"]) == 64
    for topic in collector.topics_seen("newsmon/alerts/"):
        assert topic.split("/")[2] in {rule for rule, _ in expected.values()}
    states = [json.loads(p)["state"] for t, p, _ in collector.messages if t == "newsmon/status"]
    assert states[0] == "online"
    wait_until(
        lambda: json.loads([p for t, p, _ in collector.messages if t == "newsmon/status"][-1])["state"] == "offline",
        10,
        what="offline status",
    )
    collector.stop()


def test_files_present_before_start_are_caught_up_and_not_realerted_after_restart(
    tmp_path: Path, broker: Mosquitto
) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    daemon.drop("before/pact.txt", AGREEMENT_ARTICLE)
    daemon.drop("quiet.txt", QUIET_ARTICLE)
    collector = Collector(broker.port, "newsmon/alerts/#").start()
    with running_daemon(daemon):
        wait_until(lambda: len(collector.messages) >= 1, 30, what="catch-up alert")
    first = collector.payloads("newsmon/alerts/")
    assert [a["rule"]["id"] for a in first if a["rule"]["id"] == AGREEMENT] == [AGREEMENT]
    assert first[0]["article"]["path"].endswith("before/pact.txt")

    with running_daemon(daemon):
        daemon.drop("after.txt", AGREEMENT_ARTICLE.replace("today", "on Monday"))
        wait_until(
            lambda: any(a["article"]["path"].endswith("after.txt") for a in collector.payloads("newsmon/alerts/")),
            30,
            what="alert for the new file",
        )
    paths = [a["article"]["path"] for a in collector.payloads("newsmon/alerts/") if a["rule"]["id"] == AGREEMENT]
    assert sum(p.endswith("before/pact.txt") for p in paths) == 1
    collector.stop()


def test_alerts_queue_while_the_broker_is_down_and_arrive_when_it_returns(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#").start()
    collector.stop()  # persistent session: the broker keeps our subscription and queues for us
    broker.stop()
    with running_daemon(tmp_path / "d", broker.port) as daemon:
        daemon.drop("pact.txt", AGREEMENT_ARTICLE)
        wait_until(
            lambda: bool(daemon.events(events.ARTICLE_PROCESSED)),
            30,
            what="article processed offline",
        )
        down = daemon.events(events.BROKER_UNREACHABLE)
        assert len(down) == 1, "the outage is logged once, not once per retry"
        broker.start()
        collector = Collector(broker.port, "newsmon/alerts/#").start()
        wait_until(
            lambda: any(a["rule"]["id"] == AGREEMENT for a in collector.payloads("newsmon/alerts/")),
            60,
            what="late alert",
        )
        wait_until(
            lambda: bool(daemon.events(events.BACKLOG_DELIVERED)),
            10,
            what="end of outage logged",
        )
    collector.stop()
    [back] = daemon.events(events.BROKER_REACHABLE_AGAIN)
    assert back["outage_s"] > 0
    [late] = daemon.events(events.BACKLOG_DELIVERED)
    assert late["delivered_late"] == 1


def test_a_bad_file_is_reported_and_the_next_good_file_still_alerts(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/#").start()
    with running_daemon(tmp_path / "d", broker.port) as daemon:
        daemon.drop("broken.json", "{not json")
        daemon.drop("good.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="alert after a bad file")
        wait_until(lambda: bool(collector.payloads("newsmon/errors")), 10, what="error record")
    [error] = collector.payloads("newsmon/errors")
    assert error["path"].endswith("broken.json")
    assert error["reason"] == "malformed-json"
    collector.stop()


def test_a_part_that_fails_on_its_own_stops_the_daemon_with_a_non_zero_code(tmp_path: Path, broker: Mosquitto) -> None:
    not_a_folder = tmp_path / "inbox-is-a-file"
    not_a_folder.write_text("x")
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_WATCH__PATHS": f'["{not_a_folder}"]'})
    daemon.start()
    assert daemon.proc is not None
    code = daemon.proc.wait(30)
    daemon.proc = None
    assert code == 1, "systemd restarts a unit only when it fails"
    [failure] = daemon.events(events.TASK_FAILED)
    assert failure["task"] == "source"

"""Stories end to end: a real daemon, a real Mosquitto; one event from two outlets alerts once, a later
article that adds a rule follows it up, a restart continues the story, and the switch turns it all off."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until
from tests.support import running_daemon

pytestmark = pytest.mark.e2e


def article(title: str, body: str, source: str, published: str) -> bytes:
    return json.dumps({"title": title, "body": body, "source": source, "published_at": published}).encode()


BODY = (
    "MOSCOW — Russia and North Korea signed an agreement on customs cooperation on Monday, the Russian customs "
    "service said. The document sets out joint inspection of rail freight at the Khasan crossing and a shared "
    "register of traders. A deputy minister signed for Russia and the North Korean ambassador signed for "
    "Pyongyang, the service said in a statement."
)
ORIGINAL = article("Russia and North Korea sign customs agreement", BODY, "Asia Wire", "2026-01-12T09:00:00Z")
COPY = article(
    "Russia, North Korea sign customs pact",
    BODY.replace("the service said in a statement.", "the service said in a statement on Monday evening."),
    "Daily Courier",
    "2026-01-12T13:00:00Z",
)
#: the agency's updated story a day later: the same text and a new fact (a meeting)
MEETING = article(
    "Russia and North Korea sign customs agreement; Lavrov meets Choe Son Hui",
    BODY + " On Tuesday Russian Foreign Minister Sergei Lavrov met North Korean Foreign Minister Choe Son Hui "
    "in Moscow, the ministry said.",
    "Asia Wire",
    "2026-01-13T10:00:00Z",
)


def alerts(collector: Collector) -> list[dict]:  # type: ignore[type-arg]
    return collector.payloads("newsmon/alerts/")


def test_one_event_from_two_outlets_opens_one_story_and_a_new_rule_follows_it_up_across_a_restart(
    tmp_path: Path, broker: Mosquitto
) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="stories").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port, stories=True)
    with running_daemon(daemon):
        daemon.drop("wire/original.json", ORIGINAL)
        wait_until(lambda: len(alerts(collector)) >= 1, 30, what="the opening alert")
        daemon.drop("courier/copy.json", COPY)
        time.sleep(3)  # the copy is committed silently: nothing more arrives
    [opening] = alerts(collector)
    assert opening["story"]["kind"] == "new" and opening["novelty"] == "new"
    with running_daemon(daemon):  # a restart: the story is read back from the state database
        daemon.drop("wire/meeting.json", MEETING)
        wait_until(lambda: len(alerts(collector)) >= 2, 30, what="the follow-up")
        time.sleep(2)  # its other rules' alerts
    collector.stop()
    got = alerts(collector)
    follow_ups = [a for a in got if a["story"]["kind"] == "follow-up"]
    assert [a["story"]["kind"] for a in got].count("new") == 1
    assert {a["story"]["id"] for a in got} == {opening["story"]["id"]}
    assert follow_ups
    assert any(add.startswith("rule:russia-dprk-meeting") for add in follow_ups[0]["story"]["adds"])
    assert follow_ups[0]["story"]["articles"] == 3
    assert follow_ups[0]["story"]["outlets"] == ["Asia Wire", "Daily Courier"]


def test_with_stories_switched_off_by_the_environment_both_copies_alert(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="no-stories").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port, stories=True, extra_env={"MONITOR_STORIES__ENABLED": "false"})
    with running_daemon(daemon):
        daemon.drop("wire/original.json", ORIGINAL)
        daemon.drop("courier/copy.json", COPY)
        wait_until(lambda: len({a["article"]["sha256"] for a in alerts(collector)}) >= 2, 30, what="both alerts")
    collector.stop()
    assert {a["story"] for a in alerts(collector)} == {None}

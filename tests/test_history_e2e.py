"""Review state acting on a real daemon and a real Mosquitto: a muted story's follow-up and a snoozed rule's
alert never reach the broker (the archive has them), review survives a restart, and a retro run published
while the daemon runs is delivered by it, once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.processes import Collector, DaemonProcess, Mosquitto, monitor_cli, wait_until
from monitor.history import AlertQuery, History
from tests.support import numbered_pact, running_daemon
from tests.test_stories_e2e import MEETING, ORIGINAL, alerts

pytestmark = pytest.mark.e2e

PLANETS = (
    "entities:\n  - {id: mars, name: Mars, kind: place, aliases: {en: [Mars]}}\n"
    "rules:\n  - {id: red, title: Red planet, severity: low, all: [{entities: [mars]}]}\n"
)


def archived(daemon: DaemonProcess, count: int) -> History:
    history = History(daemon.state / "monitor.sqlite3")
    wait_until(lambda: history.alerts(AlertQuery(retro=None)).total >= count, 30, what=f"{count} alerts archived")
    return history


def test_a_muted_story_sends_no_follow_up_to_the_broker_and_review_survives_a_restart(
    tmp_path: Path, broker: Mosquitto
) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="muted").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port, stories=True)
    with running_daemon(daemon):
        daemon.drop("wire/original.json", ORIGINAL)
        wait_until(lambda: len(alerts(collector)) >= 1, 30, what="the opening alert")
        history = archived(daemon, 1)
        [opening] = history.alerts(AlertQuery()).entries
        assert opening.payload == alerts(collector)[0]  # the archive has what the broker got
        assert opening.story_id is not None
        assert history.set_muted(opening.story_id, True, by="asha")
        assert history.set_reviewed(alert_id=opening.alert_id, by="asha")
        daemon.drop("wire/meeting.json", MEETING)
        wait_until(lambda: history.alerts(AlertQuery()).total >= 2, 30, what="the follow-up archived")
        time.sleep(6)  # longer than the publisher's idle poll
        history.close()
    collector.stop()
    assert len(alerts(collector)) == 1, "the muted story's follow-up never reached the broker"
    with running_daemon(daemon):
        wait_until(lambda: len(daemon.events("daemon ready")) == 2, 30, what="the second run ready")
        history = History(daemon.state / "monitor.sqlite3")
        follow_ups = [e for e in history.alerts(AlertQuery(story=opening.story_id)).entries if e.seq > opening.seq]
        assert follow_ups and {e.delivery for e in follow_ups} == {"muted"}
        assert [e.alert_id for e in history.alerts(AlertQuery(reviewed=True)).entries] == [opening.alert_id]
        story = history.story(opening.story_id)
        assert story is not None and story.muted
        history.close()


def test_a_snoozed_rule_is_not_sent_and_a_retro_run_is_delivered_once_by_the_running_daemon(
    tmp_path: Path, broker: Mosquitto
) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="snoozed").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port, stories=False)
    watchlist = tmp_path / "planets.yaml"
    watchlist.write_text(PLANETS)
    with running_daemon(daemon):
        history = History(daemon.state / "monitor.sqlite3")
        history.snooze("russia-dprk-agreement", datetime.now(UTC) + timedelta(hours=1), by="ravi")
        daemon.drop("held.txt", numbered_pact(1) + "They also spoke of Mars.\n")
        history = archived(daemon, 1)
        [held] = history.alerts(AlertQuery()).entries
        assert held.delivery == "snoozed"
        history.snooze("russia-dprk-agreement", None)
        daemon.drop("sent.txt", numbered_pact(2))
        wait_until(lambda: len(alerts(collector)) >= 1, 30, what="the alert after the snooze")
        since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()  # both articles, past midnight too
        said = []
        for _ in range(2):  # the second run finds it sent and sends nothing
            result = monitor_cli(
                "retro", "--watchlist", str(watchlist), "--since", since, "--publish",
                "--config", str(daemon.config()),
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            said.append(result.stderr)
        assert "1 retro alerts queued; 0 sent before" in said[0] and "the running daemon" in said[0]
        assert "0 retro alerts queued; 1 sent before" in said[1]
        wait_until(lambda: len(alerts(collector)) >= 2, 30, what="the retro alert")
        time.sleep(6)
        history.close()
    collector.stop()
    got = alerts(collector)
    assert [a["article"]["path"].rsplit("/", 1)[-1] for a in got if not a["retro"]] == ["sent.txt"]
    [retro] = [a for a in got if a["retro"]]
    assert retro["rule"]["id"] == "red" and retro["article"]["path"].endswith("held.txt")

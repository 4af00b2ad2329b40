"""`monitor backfill`: a dry run that writes nothing, and publish mode through the same store and outbox as
the daemon, so nothing is alerted twice and what the broker does not take now is delivered later."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.processes import WATCHLISTS, Collector, DaemonProcess, Mosquitto, monitor_cli, wait_until
from monitor import events
from monitor.store import Store
from tests.support import QUIET_ARTICLE, numbered_pact, running_daemon

pytestmark = pytest.mark.e2e
RULE = "russia-dprk-agreement"


def archive(folder: Path) -> Path:
    (folder / "2023" / "june").mkdir(parents=True)
    (folder / "2023" / "june" / "pact-1.txt").write_text(numbered_pact(1))
    (folder / "2023" / "pact-2.txt").write_text(numbered_pact(2))
    (folder / "2023" / "copy-of-pact-2.txt").write_text(numbered_pact(2))  # same content, another name
    (folder / "quiet.txt").write_text(QUIET_ARTICLE)
    (folder / "notes.tmp").write_text(numbered_pact(3))  # ignored name, as in the daemon
    return folder


def config(path: Path, port: int, state: Path) -> Path:
    path.write_text(
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\n\n[state]\ndir = "{state}"\n\n'
        f'[watchlists]\npaths = ["{WATCHLISTS}"]\n\n[log]\nformat = "json"\n'
        "\n[stories]\nenabled = false\n"  # delivery is under test: look-alike articles each alert
    )
    return path


def test_dry_run_prints_what_would_alert_and_writes_nothing(tmp_path: Path) -> None:
    folder = archive(tmp_path / "archive")
    conf = config(tmp_path / "monitor.toml", 1, tmp_path / "state")
    result = monitor_cli("backfill", "--config", str(conf), str(folder))
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert sorted((words[3], Path(words[4]).name) for words in lines if words[3] == RULE) == [
        (RULE, "copy-of-pact-2.txt"),
        (RULE, "pact-1.txt"),
    ]  # files go in path order: pact-2.txt repeats the copy's content; the .tmp file is ignored
    assert "4 files: 2 alerted, 1 clean, 1 duplicate, 0 error" in result.stderr
    assert not (tmp_path / "state").exists()


def test_publish_goes_through_the_outbox_once_and_the_daemon_does_not_repeat_it(
    tmp_path: Path, broker: Mosquitto
) -> None:
    folder = archive(tmp_path / "archive")
    collector = Collector(broker.port, "newsmon/#").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    conf = config(tmp_path / "monitor.toml", broker.port, daemon.state)

    first = monitor_cli("backfill", "--publish", "--config", str(conf), str(folder))
    assert first.returncode == 0, first.stderr
    wait_until(lambda: len(collector.payloads("newsmon/alerts/")) >= 2, 20, what="backfilled alerts")
    again = monitor_cli("backfill", "--publish", "--config", str(conf), str(folder))
    assert again.returncode == 0, again.stderr
    assert "0 alerted" in again.stderr and "4 duplicate" in again.stderr

    # the daemon, on the same state, watching a folder with the same articles: nothing new to say
    daemon.inbox.mkdir(parents=True)
    shutil.copy(folder / "2023" / "pact-2.txt", daemon.inbox / "pact-2-again.txt")
    with running_daemon(daemon):
        wait_until(lambda: bool(daemon.events(events.ARTICLE_PROCESSED)), 30, what="daemon")
    collector.stop()
    alerts = [a for a in collector.payloads("newsmon/alerts/") if a["rule"]["id"] == RULE]
    assert sorted(Path(a["article"]["path"]).name for a in alerts) == ["copy-of-pact-2.txt", "pact-1.txt"]
    assert [e["result"] for e in daemon.events(events.ARTICLE_PROCESSED)] == ["duplicate"]
    states = [p["state"] for p in collector.payloads("newsmon/status")]
    assert states == ["online", "offline"]  # only the daemon's own; backfill never touches the status topic


def test_publish_with_the_broker_down_leaves_the_alerts_for_the_daemon(tmp_path: Path, broker: Mosquitto) -> None:
    folder = archive(tmp_path / "archive")
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    conf = config(tmp_path / "monitor.toml", broker.port, daemon.state)
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="late-reader").start()
    collector.stop()
    broker.stop()
    result = monitor_cli("backfill", "--publish", "--flush-timeout", "1", "--config", str(conf), str(folder))
    assert result.returncode == 1
    assert "stay in the outbox" in result.stderr
    store = Store.in_dir(daemon.state)
    assert store.outbox_depth() >= 2
    store.close()

    broker.start()
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="late-reader").start()
    with running_daemon(daemon):
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) >= 2, 30, what="alerts delivered by the daemon")
    collector.stop()
    names = sorted(Path(a["article"]["path"]).name for a in collector.payloads("newsmon/alerts/"))
    assert names == ["copy-of-pact-2.txt", "pact-1.txt"]


def test_one_state_folder_has_one_publisher_at_a_time(tmp_path: Path, broker: Mosquitto) -> None:
    folder = archive(tmp_path / "archive")
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    conf = config(tmp_path / "monitor.toml", broker.port, daemon.state)
    with running_daemon(daemon):
        backfill = monitor_cli("backfill", "--publish", "--config", str(conf), str(folder))
        assert backfill.returncode == 1
        assert "a daemon (pid" in backfill.stderr
        second = DaemonProcess(tmp_path / "d", broker.port)
        second.start()
        assert second.proc is not None
        assert second.proc.wait(30) == 2
        second.proc = None
        assert bool(second.events(events.STATE_FOLDER_IN_USE))
    assert monitor_cli("backfill", "--config", str(conf), str(folder)).returncode == 0  # a dry run never locks

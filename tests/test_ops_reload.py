"""Reload without a restart: SIGHUP and edited watchlist files swap the rules between articles; a broken
watchlist is rejected (log and status) while the old rules keep working; restart-only settings are named."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.processes import Collector, DaemonProcess, Mosquitto, free_port, monitor_cli, wait_until
from monitor import events
from monitor.config import MqttSettings, Settings, WatchSettings
from monitor.reload import WatchlistWatcher, concerns, restart_needed, watched_folders
from tests.support import running_daemon, wait_until_async

ENTITIES = """
entities:
  - id: alpha
    name: Alpha
    kind: country
    aliases: {en: [Alphaland]}
  - id: beta
    name: Beta
    kind: country
    aliases: {en: [Betaland]}
  - id: gamma
    name: Gamma
    kind: country
    aliases: {en: [Gammaland]}
"""
RULE_AB = """
  - id: alpha-beta
    title: Alpha with Beta
    severity: high
    all: [{entities: [alpha]}, {entities: [beta]}]
"""
RULE_AG = """
  - id: alpha-gamma
    title: Alpha with Gamma
    severity: medium
    all: [{entities: [alpha]}, {entities: [gamma]}]
"""
V1 = ENTITIES + "rules:" + RULE_AB
V2 = ENTITIES + "rules:" + RULE_AB + RULE_AG
BROKEN = ENTITIES + "rules:" + RULE_AB + "    colour: red\n"


def article(n: int, who: str) -> str:
    return f"Report {n}\n\nAlphaland met {who} on day {n}.\n"


def statuses(collector: Collector) -> list[dict[str, Any]]:
    return [json.loads(p) for t, p, _ in collector.messages if t == "newsmon/status"]


def rules_for(collector: Collector, name: str) -> list[str]:
    return [a["rule"]["id"] for a in collector.payloads("newsmon/alerts/") if a["article"]["path"].endswith(name)]


@contextmanager
def running(tmp_path: Path, broker: Mosquitto, watchlists: Path) -> Iterator[tuple[DaemonProcess, Collector]]:
    """A daemon on these watchlists, online, and a collector of everything it publishes (left running)."""
    collector = Collector(broker.port, "newsmon/#").start()
    on_these = {"MONITOR_WATCHLISTS__PATHS": json.dumps([str(watchlists)])}
    with running_daemon(tmp_path / "d", broker.port, extra_env=on_these) as daemon:
        wait_until(lambda: any(s["state"] == "online" for s in statuses(collector)), 30, what="online status")
        yield daemon, collector


@pytest.mark.e2e
def test_sighup_swaps_in_a_valid_watchlist_and_keeps_the_old_one_when_broken(tmp_path: Path, broker: Mosquitto) -> None:
    # a deploy that swaps a symlink changes no watched file: only SIGHUP can tell the daemon
    for name, text in (("v1", V1), ("v2", V2), ("broken", BROKEN)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "test.yaml").write_text(text)
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "v1")

    def point_to(name: str) -> None:
        (tmp_path / "next").symlink_to(tmp_path / name)
        (tmp_path / "next").rename(current)

    def hup() -> None:
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)

    with running(tmp_path, broker, current) as (daemon, collector):
        first_version = statuses(collector)[0]["watchlist_version"]
        daemon.drop("one.txt", article(1, "Gammaland"))
        wait_until(lambda: bool(daemon.events(events.ARTICLE_PROCESSED)), 30, what="one")
        assert rules_for(collector, "one.txt") == []

        point_to("v2")
        hup()
        wait_until(lambda: statuses(collector)[-1].get("reload") == "ok", 30, what="reload ok")
        assert statuses(collector)[-1]["watchlist_version"] != first_version
        daemon.drop("two.txt", article(2, "Gammaland"))
        wait_until(lambda: rules_for(collector, "two.txt") == ["alpha-gamma"], 30, what="alert from the new rule")

        point_to("broken")
        hup()
        wait_until(lambda: statuses(collector)[-1].get("reload") == "failed", 30, what="reload failed")
        daemon.drop("three.txt", article(3, "Gammaland"))
        wait_until(lambda: rules_for(collector, "three.txt") == ["alpha-gamma"], 30, what="old rules still working")
    failed = next(s for s in statuses(collector) if s.get("reload") == "failed")
    assert "test.yaml" in failed["reload_reason"] and "colour" in failed["reload_reason"]
    assert failed["state"] == "online"
    logged = daemon.events(events.WATCHLIST_RELOAD_FAILED)
    assert logged and any("colour" in p for p in logged[0]["problems"])
    assert [e["why"] for e in daemon.events(events.WATCHLISTS_RELOADED)] == ["SIGHUP"]
    collector.stop()


@pytest.mark.e2e
def test_editing_a_watchlist_file_reloads_it_without_losing_or_repeating_an_article(
    tmp_path: Path, broker: Mosquitto
) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "test.yaml").write_text(V1)
    with running(tmp_path, broker, folder) as (daemon, collector):
        # articles keep arriving while the rules change under them
        for n in range(20):
            daemon.drop(f"busy-{n:02d}.txt", article(n, "Betaland"))
            if n == 10:
                (folder / "test.yaml").write_text(V2)  # written in place, as an editor without rename does
        wait_until(lambda: statuses(collector)[-1].get("reload") == "ok", 30, what="reload after the edit")
        daemon.drop("gamma.txt", article(99, "Gammaland"))
        wait_until(lambda: rules_for(collector, "gamma.txt") == ["alpha-gamma"], 30, what="alert from the edit")

        (folder / "test.yaml").write_text(BROKEN)
        wait_until(lambda: statuses(collector)[-1].get("reload") == "failed", 30, what="broken edit rejected")
        daemon.drop("gamma-2.txt", article(100, "Gammaland"))
        wait_until(lambda: rules_for(collector, "gamma-2.txt") == ["alpha-gamma"], 30, what="old rules kept")
        wait_until(lambda: len(collector.payloads("newsmon/alerts/alpha-beta")) >= 20, 30, what="busy alerts")
    busy = [a["article"]["path"] for a in collector.payloads("newsmon/alerts/alpha-beta")]
    assert sorted(Path(p).name for p in busy) == [f"busy-{n:02d}.txt" for n in range(20)]  # each once
    reloads = daemon.events(events.WATCHLISTS_RELOADED)
    assert reloads and all(e["why"].startswith("watchlist file changed") for e in reloads)
    collector.stop()


@pytest.mark.e2e
def test_sighup_names_the_changed_settings_that_need_a_restart(tmp_path: Path, broker: Mosquitto) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "test.yaml").write_text(V1)
    with running(tmp_path, broker, folder) as (daemon, collector):
        conf = daemon.workdir / "monitor.toml"
        conf.write_text(conf.read_text().replace("rescan_seconds = 2", "rescan_seconds = 3"))
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "restart_needed" in statuses(collector)[-1], 30, what="restart_needed on status")
    needed = [s["restart_needed"] for s in statuses(collector) if "restart_needed" in s]
    assert needed[0] == ["watch.rescan_seconds"]
    [warning] = daemon.events(events.RESTART_NEEDED)
    assert warning["keys"] == ["watch.rescan_seconds"]
    collector.stop()


def test_restart_needed_lists_changed_keys_and_never_their_values() -> None:
    running = Settings(mqtt=MqttSettings(port=1883, password="old-secret"))
    on_disk = Settings(mqtt=MqttSettings(port=1884, password="new-secret"), watch=WatchSettings(settle_ms=5))
    changed = restart_needed(running, on_disk)
    assert changed == ["mqtt.password", "mqtt.port", "watch.settle_ms"]
    assert restart_needed(running, running) == []


def test_single_files_and_folders_are_watched_through_their_folder(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "one.yaml").write_text("")
    folders = watched_folders([tmp_path / "lists", tmp_path / "one.yaml"])
    assert folders == {tmp_path / "lists": None, tmp_path: {"one.yaml"}}
    assert concerns(None, "x.yml") and not concerns(None, ".x.yaml.swp") and not concerns(None, ".x.yaml")
    assert concerns({"one.yaml"}, "one.yaml") and not concerns({"one.yaml"}, "two.yaml")


TAGGED = "entities: !foo [1]\n"


@pytest.mark.e2e
def test_a_yaml_tag_is_one_problem_line_for_check_and_stops_run_with_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "test.yaml").write_text(V1)
    (folder / "tagged.yaml").write_text(TAGGED)
    env = {"MONITOR_WATCHLISTS__PATHS": json.dumps([str(folder)])}
    checked = monitor_cli("check", cwd=tmp_path, env=env)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    [line] = checked.stdout.splitlines()
    assert line == f"{folder / 'tagged.yaml'}:1: (yaml): unknown tag '!foo': a watchlist is plain YAML"
    daemon = DaemonProcess(tmp_path / "d", free_port(), extra_env=env)
    daemon.start()
    assert daemon.proc is not None and daemon.proc.wait(30) == 2
    [invalid] = daemon.events("invalid watchlist")
    assert invalid["problem"].startswith(f"{folder / 'tagged.yaml'}:1:")
    assert "Traceback" not in daemon.log_path.read_text()


@pytest.mark.e2e
def test_a_yaml_tag_written_while_running_is_a_failed_reload_and_later_edits_still_reload(
    tmp_path: Path, broker: Mosquitto
) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "test.yaml").write_text(V1)
    with running(tmp_path, broker, folder) as (daemon, collector):
        (folder / "tagged.yaml").write_text(TAGGED)
        wait_until(lambda: statuses(collector)[-1].get("reload") == "failed", 30, what="reload failed")
        assert "unknown tag '!foo'" in statuses(collector)[-1]["reload_reason"]
        (folder / "tagged.yaml").unlink()
        (folder / "test.yaml").write_text(V2)
        wait_until(lambda: statuses(collector)[-1].get("reload") == "ok", 30, what="a later edit reloaded")
        daemon.drop("gamma.txt", article(1, "Gammaland"))
        wait_until(lambda: rules_for(collector, "gamma.txt") == ["alpha-gamma"], 30, what="alert from the edit")
    [failed] = daemon.events(events.WATCHLIST_RELOAD_FAILED)
    assert any("tagged.yaml:1" in problem for problem in failed["problems"])
    collector.stop()


async def test_the_watchlist_watcher_survives_a_reload_attempt_that_raises(tmp_path: Path, backend: str) -> None:
    watcher = WatchlistWatcher([tmp_path], debounce=0.05, backend=backend)
    calls: list[str] = []

    async def on_change(why: str) -> None:
        calls.append(why)
        if len(calls) == 1:
            raise RuntimeError("a fault in the first reload")

    task = asyncio.create_task(watcher.run(on_change))
    try:
        await asyncio.wait_for(watcher.ready.wait(), 5)
        (tmp_path / "a.yaml").write_text("rules: []\n")
        await wait_until_async(lambda: len(calls) == 1, 10, what="first reload attempt")
        (tmp_path / "b.yaml").write_text("rules: []\n")
        await wait_until_async(lambda: len(calls) == 2, 10, what="a reload after the failed one")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert calls[1] == "watchlist file changed: b.yaml"
